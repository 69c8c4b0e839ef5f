package simcli

import (
	"context"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"hash/fnv"
	"io"
	"math"
	"strings"
	"text/tabwriter"

	"github.com/ppnet/ppnet/sim"
)

// maxCombos bounds a sweep, so a typo does not start a week of work.
const maxCombos = 100000

// lossRow is one parameter combination: both models and their Monte Carlo
// results (nil when not run).
type lossRow struct {
	paper    sim.PaperModel
	design   sim.DesignModel
	pmc, dmc *sim.MCResult
}

type lossConfig struct {
	ws, ts, ks, ms []int64
	pes            []float64
	pbs            []float64 // nil: p_b = p_e in every row
	retries, rules []int64
	pfs            []float64
	mc             sim.MCOptions
	out, plot      string
	quiet          bool
}

func parseLoss(args []string, env *Env) (*lossConfig, error) {
	fs := flag.NewFlagSet("loss", flag.ContinueOnError)
	w := fs.String("w", "4", "PPNs per consumer (list/range)")
	t := fs.String("t", "4", "threshold t (list/range; combinations with t > w are skipped)")
	pe := fs.String("pe", "1e-6,1e-5,1e-4", "share loss probability p_e (list/range, e.g. 1e-9:1e-1:log)")
	k := fs.String("k", "1,96", "rounds per aggregation window k (list/range)")
	m := fs.String("m", "10:1e7:log", "producers per rule M (list/range)")
	rules := fs.String("rules", "1", "rules the consumer needs, for all_rules (list/range)")
	pb := fs.String("pb", "pe", `bundle loss probability per attempt in this design's model (list/range, or "pe": the row's p_e)`)
	retries := fs.String("retries", "2", "bundle retries in this design's model (list/range)")
	pf := fs.String("pf", "1e-3", "probability a PPN is down, this design's model (list/range)")
	c := &lossConfig{}
	fs.IntVar(&c.mc.Trials, "trials", 10000, "Monte Carlo trials per combination (0: analytic only)")
	fs.Uint64Var(&c.mc.Seed, "seed", 1, "seed of the Monte Carlo streams (each combination's derive from it and the combination's parameters)")
	fs.IntVar(&c.mc.Workers, "workers", 0, "goroutines (0: all cores)")
	fs.Float64Var(&c.mc.Confidence, "confidence", 0.95, "confidence level of the Wilson intervals")
	fs.StringVar(&c.out, "out", "-", "CSV output file (- for stdout)")
	fs.StringVar(&c.plot, "plot", "", "write plots to PREFIX.png and PREFIX.svg (and PREFIX-failure.*)")
	fs.BoolVar(&c.quiet, "quiet", false, "no progress bar and no summary")
	if err := parseFlags(fs, args, env); err != nil {
		return nil, err
	}
	ints := []struct {
		name, val string
		lo, hi    int64
		dst       *[]int64
	}{
		{"w", *w, 1, 1000, &c.ws}, {"t", *t, 1, 1000, &c.ts}, {"k", *k, 1, 1e6, &c.ks},
		{"m", *m, 1, 1e12, &c.ms}, {"rules", *rules, 1, 1e6, &c.rules}, {"retries", *retries, 0, 1000, &c.retries},
	}
	for _, f := range ints {
		v, err := parseInts(f.name, f.val, f.lo, f.hi)
		if err != nil {
			return nil, usageError{err.Error()}
		}
		*f.dst = v
	}
	probs := []struct {
		name, val string
		dst       *[]float64
	}{{"pe", *pe, &c.pes}, {"pf", *pf, &c.pfs}, {"pb", *pb, &c.pbs}}
	for _, f := range probs {
		if f.name == "pb" && strings.TrimSpace(f.val) == "pe" {
			continue
		}
		v, err := parseProbs(f.name, f.val)
		if err != nil {
			return nil, usageError{err.Error()}
		}
		*f.dst = v
	}
	if c.mc.Trials < 0 {
		return nil, usageError{fmt.Sprintf("--trials %d: give 0 (analytic only) or more", c.mc.Trials)}
	}
	return c, nil
}

// combos lists the rows to compute, validating each model. The sweep order
// is w, t, rules, p_f, retries, p_b, p_e, k, M (M varies fastest), so each
// curve of the plots is a run of consecutive rows.
func (c *lossConfig) combos() ([]lossRow, error) {
	pbs := c.pbs
	if pbs == nil {
		pbs = []float64{-1} // the row's p_e
	}
	n := float64(len(c.ws)) * float64(len(c.ts)) * float64(len(c.rules)) * float64(len(c.pfs)) *
		float64(len(c.retries)) * float64(len(pbs)) * float64(len(c.pes)) * float64(len(c.ks)) * float64(len(c.ms))
	if n > 10*maxCombos { // t > w may drop some; refuse before enumerating the obviously too many
		return nil, usageError{fmt.Sprintf("%.3g combinations; narrow the lists (at most %d)", n, maxCombos)}
	}
	var rows []lossRow
	for _, w := range c.ws {
		for _, t := range c.ts {
			if t > w {
				continue
			}
			for _, rules := range c.rules {
				for _, pf := range c.pfs {
					for _, retries := range c.retries {
						for _, pb := range pbs {
							for _, pe := range c.pes {
								for _, k := range c.ks {
									for _, m := range c.ms {
										b := pb
										if b < 0 {
											b = pe
										}
										r := lossRow{
											paper:  sim.PaperModel{W: int(w), T: int(t), K: int(k), M: m, Pe: pe, Rules: int(rules)},
											design: sim.DesignModel{W: int(w), T: int(t), K: int(k), M: m, Pb: b, Retries: int(retries), Pf: pf, Rules: int(rules)},
										}
										if err := r.paper.Validate(); err != nil {
											return nil, usageError{err.Error()}
										}
										if err := r.design.Validate(); err != nil {
											return nil, usageError{err.Error()}
										}
										rows = append(rows, r)
									}
								}
							}
						}
					}
				}
			}
		}
	}
	if len(rows) == 0 {
		return nil, usageError{"no combination has t ≤ w; check --w and --t"}
	}
	if len(rows) > maxCombos {
		return nil, usageError{fmt.Sprintf("%d combinations; narrow the lists (at most %d)", len(rows), maxCombos)}
	}
	return rows, nil
}

// comboSeed derives the seed of one Monte Carlo from --seed and the
// model's parameters, so a combination draws the same streams whatever else
// the sweep holds, and different combinations draw independent ones.
func comboSeed(seed uint64, params ...uint64) uint64 {
	h := fnv.New64a()
	var b [8]byte
	for _, v := range append([]uint64{seed}, params...) {
		binary.LittleEndian.PutUint64(b[:], v)
		h.Write(b[:])
	}
	return h.Sum64()
}

func paperSeed(seed uint64, p sim.PaperModel) uint64 {
	return comboSeed(seed, 'p', uint64(p.W), uint64(p.T), uint64(p.K), uint64(p.M), math.Float64bits(p.Pe), uint64(p.Rules))
}

func designSeed(seed uint64, d sim.DesignModel) uint64 {
	return comboSeed(seed, 'd', uint64(d.W), uint64(d.T), uint64(d.K), uint64(d.M),
		math.Float64bits(d.Pb), uint64(d.Retries), math.Float64bits(d.Pf), uint64(d.Rules))
}

func runLoss(ctx context.Context, args []string, env *Env) error {
	c, err := parseLoss(args, env)
	if err != nil {
		return err
	}
	rows, err := c.combos()
	if err != nil {
		return err
	}
	if c.mc.Trials > 0 {
		if err := c.simulate(ctx, rows, env); err != nil {
			return err
		}
	}
	if err := c.writeCSV(rows, env); err != nil {
		return err
	}
	if !c.quiet {
		if err := c.summary(env.Stderr); err != nil {
			return err
		}
	}
	if c.plot != "" {
		return plotLoss(c, rows, env)
	}
	return nil
}

// simulate runs the Monte Carlo of every distinct model once: rows that
// share a paper model (or a design model) share its result.
func (c *lossConfig) simulate(ctx context.Context, rows []lossRow, env *Env) error {
	fmt.Fprintf(env.Stderr, "sim loss: seed %d (set with --seed)\n", c.mc.Seed)
	papers := map[sim.PaperModel]*sim.MCResult{}
	designs := map[sim.DesignModel]*sim.MCResult{}
	for _, r := range rows {
		papers[r.paper], designs[r.design] = nil, nil
	}
	trials := int64(c.mc.Trials)
	bar := newProgress(env.Stderr, c.quiet, int64(len(papers)+len(designs))*trials, "monte carlo")
	defer bar.Finish()
	var base int64
	run := func(seed uint64, mc func(*sim.MCOptions) (sim.MCResult, error)) (*sim.MCResult, error) {
		opts := c.mc
		opts.Seed = seed
		b := base
		opts.Progress = func(done int) { bar.Set(b + int64(done)) }
		base += trials
		res, err := mc(&opts)
		return &res, err
	}
	skipped := map[sim.DesignModel]bool{}
	for i := range rows {
		r := &rows[i]
		p, d := r.paper, r.design
		if papers[p] == nil {
			res, err := run(paperSeed(c.mc.Seed, p), func(o *sim.MCOptions) (sim.MCResult, error) { return p.MonteCarlo(ctx, o) })
			if err != nil {
				return err
			}
			papers[p] = res
		}
		r.pmc = papers[p]
		if designs[d] == nil && !skipped[d] {
			res, err := run(designSeed(c.mc.Seed, d), func(o *sim.MCOptions) (sim.MCResult, error) { return d.MonteCarlo(ctx, o) })
			switch {
			case errors.Is(err, sim.ErrTooMuchWork):
				skipped[d] = true
				fmt.Fprintf(env.Stderr, "sim: w=%d t=%d k=%d m=%d pb=%g retries=%d pf=%g: design Monte Carlo skipped (columns left empty): %v\n",
					d.W, d.T, d.K, d.M, d.Pb, d.Retries, d.Pf, strings.TrimPrefix(err.Error(), "sim: "))
			case err != nil:
				return err
			default:
				designs[d] = res
			}
		}
		r.dmc = designs[d]
	}
	return nil
}

// summary tells, for each (w, t, p_e), at what k·M the paper's protocol
// collapses, next to this design's probability of losing the aggregate
// for each p_f.
func (c *lossConfig) summary(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprint(tw, "w\tt\tp_e\tpaper: k·M where P_T|M = 99.9%\t99%\t50%\t")
	for i, pf := range c.pfs {
		if i == 0 {
			fmt.Fprintf(tw, "this design: 1 − P, any k·M (p_f = %g)\t", pf)
		} else {
			fmt.Fprintf(tw, "(p_f = %g)\t", pf)
		}
	}
	fmt.Fprintln(tw)
	for _, wv := range c.ws {
		for _, tv := range c.ts {
			if tv > wv {
				continue
			}
			for _, pe := range c.pes {
				fmt.Fprintf(tw, "%d\t%d\t%g\t", wv, tv, pe)
				for _, target := range []float64{0.999, 0.99, 0.5} {
					km, err := sim.PaperCollapse(int(wv), int(tv), pe, target)
					if err != nil {
						return err
					}
					fmt.Fprintf(tw, "%.3g\t", km)
				}
				for _, pf := range c.pfs {
					d := sim.DesignModel{W: int(wv), T: int(tv), K: 1, M: 1, Pf: pf}
					fmt.Fprintf(tw, "%.3g\t", d.Failure())
				}
				fmt.Fprintln(tw)
			}
		}
	}
	return tw.Flush()
}
