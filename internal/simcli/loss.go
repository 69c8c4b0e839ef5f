package simcli

import (
	"context"
	"encoding/csv"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/ppnet/ppnet/sim"
)

// lossHeader is the CSV header of `sim loss`; one row per combination.
var lossHeader = []string{
	"w", "t", "pe", "k", "m", "rules",
	"analytic", "montecarlo", "ci_low", "ci_high", "failure",
	"all_rules", "all_rules_mc", "expected_producers", "mc_producers",
	"design_pb", "design_retries", "design_pf",
	"design_analytic", "design_montecarlo", "design_ci_low", "design_ci_high",
	"design_expected_producers", "design_mc_producers",
}

type lossRow struct {
	paper     sim.PaperModel
	design    sim.DesignModel
	pmc, dmc  sim.MCResult
	simulated bool // paper Monte Carlo done
	// designSimulated: design Monte Carlo done (it is skipped when too large)
	designSimulated bool
	pS, pF, dS      float64
}

type lossConfig struct {
	ws, ts, ks, ms   []int64
	pes              []float64
	pb               float64 // < 0: same as pe
	retries, rules   int
	pf               float64
	mc               sim.MCOptions
	out, plot, title string
	quiet            bool
}

func parseLoss(args []string, env *Env) (*lossConfig, error) {
	fs := flag.NewFlagSet("loss", flag.ContinueOnError)
	w := fs.String("w", "4", "PPNs per consumer (list/range)")
	t := fs.String("t", "4", "threshold t (list/range; combinations with t > w are skipped)")
	pe := fs.String("pe", "1e-6,1e-5,1e-4", "share loss probability p_e (list/range, e.g. 1e-9:1e-1:log)")
	k := fs.String("k", "1,96", "rounds per aggregation window k (list/range)")
	m := fs.String("m", "10:1e7:log", "producers per rule M (list/range)")
	rules := fs.Int("rules", 1, "rules the consumer needs (for all_rules)")
	pb := fs.String("pb", "pe", `bundle loss probability per attempt in this design's model ("pe": same as p_e)`)
	retries := fs.Int("retries", 2, "bundle retries in this design's model")
	pf := fs.Float64("pf", 1e-3, "probability a PPN is down, this design's model")
	c := &lossConfig{}
	fs.IntVar(&c.mc.Trials, "trials", 10000, "Monte Carlo trials per combination (0: analytic only)")
	fs.Uint64Var(&c.mc.Seed, "seed", 1, "seed of the Monte Carlo streams (row i uses one derived from it and i)")
	fs.IntVar(&c.mc.Workers, "workers", 0, "goroutines (0: all cores)")
	fs.Float64Var(&c.mc.Confidence, "confidence", 0.95, "confidence level of the Wilson intervals")
	fs.StringVar(&c.out, "out", "-", "CSV output file (- for stdout)")
	fs.StringVar(&c.plot, "plot", "", "write plots to PREFIX.png and PREFIX.svg (and PREFIX-failure.*)")
	fs.BoolVar(&c.quiet, "quiet", false, "no progress bar")
	if err := parseFlags(fs, args, env); err != nil {
		return nil, err
	}
	var err error
	bad := func(e error) error { return usageError{e.Error()} }
	if c.ws, err = parseInts("w", *w, 1, 1000); err != nil {
		return nil, bad(err)
	}
	if c.ts, err = parseInts("t", *t, 1, 1000); err != nil {
		return nil, bad(err)
	}
	if c.ks, err = parseInts("k", *k, 1, 1e6); err != nil {
		return nil, bad(err)
	}
	if c.ms, err = parseInts("m", *m, 1, 1e12); err != nil {
		return nil, bad(err)
	}
	if c.pes, err = parseProbs("pe", *pe); err != nil {
		return nil, bad(err)
	}
	c.pb = -1
	if *pb != "pe" {
		v, err := strconv.ParseFloat(*pb, 64)
		if err != nil || !(v >= 0 && v <= 1) {
			return nil, usageError{fmt.Sprintf("--pb %q: give a probability in [0, 1] or \"pe\"", *pb)}
		}
		c.pb = v
	}
	c.retries, c.rules, c.pf = *retries, *rules, *pf
	if c.mc.Trials < 0 {
		return nil, usageError{fmt.Sprintf("--trials %d: give 0 (analytic only) or more", c.mc.Trials)}
	}
	return c, nil
}

// combos lists the rows to compute, validating each model.
func (c *lossConfig) combos() ([]lossRow, error) {
	var rows []lossRow
	for _, w := range c.ws {
		for _, t := range c.ts {
			if t > w {
				continue
			}
			for _, pe := range c.pes {
				for _, k := range c.ks {
					for _, m := range c.ms {
						pb := c.pb
						if pb < 0 {
							pb = pe
						}
						r := lossRow{
							paper:  sim.PaperModel{W: int(w), T: int(t), K: int(k), M: m, Pe: pe, Rules: c.rules},
							design: sim.DesignModel{W: int(w), T: int(t), K: int(k), M: m, Pb: pb, Retries: c.retries, Pf: c.pf, Rules: c.rules},
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
	if len(rows) == 0 {
		return nil, usageError{"no combination has t ≤ w; check --w and --t"}
	}
	if len(rows) > 100000 {
		return nil, usageError{fmt.Sprintf("%d combinations; narrow the lists (at most 100000)", len(rows))}
	}
	return rows, nil
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
	bar := newProgress(env.Stderr, c.quiet || c.mc.Trials == 0, int64(2*len(rows)*c.mc.Trials), "monte carlo")
	for i := range rows {
		r := &rows[i]
		r.pS, r.pF, r.dS = r.paper.Success(), r.paper.Failure(), r.design.Success()
		if c.mc.Trials == 0 {
			continue
		}
		base := int64(2 * i * c.mc.Trials)
		opts := c.mc
		// Each combination gets its own streams, so rows are independent
		// samples rather than the same uniforms compared with new bounds.
		opts.Seed = c.mc.Seed + uint64(i+1)*0x9e3779b97f4a7c15
		opts.Progress = func(done int) { bar.Set(base + int64(done)) }
		if r.pmc, err = r.paper.MonteCarlo(ctx, &opts); err != nil {
			return err
		}
		base += int64(c.mc.Trials)
		r.dmc, err = r.design.MonteCarlo(ctx, &opts)
		switch {
		case errors.Is(err, sim.ErrTooMuchWork):
			fmt.Fprintf(env.Stderr, "sim: w=%d t=%d pe=%g k=%d m=%d: design Monte Carlo skipped (columns left empty): %v\n",
				r.design.W, r.design.T, r.paper.Pe, r.design.K, r.design.M, strings.TrimPrefix(err.Error(), "sim: "))
		case err != nil:
			return err
		default:
			r.designSimulated = true
		}
		r.simulated = true
	}
	bar.Finish()
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

func (c *lossConfig) writeCSV(rows []lossRow, env *Env) (err error) {
	out, closeOut, err := env.output(c.out)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := closeOut(); err == nil {
			err = cerr
		}
	}()
	cw := csv.NewWriter(out)
	cw.Write(lossHeader)
	g := func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
	d := func(v int64) string { return strconv.FormatInt(v, 10) }
	for _, r := range rows {
		p, q := r.paper, r.design
		rec := []string{d(int64(p.W)), d(int64(p.T)), g(p.Pe), d(int64(p.K)), d(p.M), d(int64(max(p.Rules, 1))),
			g(r.pS), "", "", "", g(r.pF), g(p.AllRules()), "", g(p.ExpectedProducers()), "",
			g(q.Pb), d(int64(q.Retries)), g(q.Pf), g(r.dS), "", "", "", g(q.ExpectedProducers()), ""}
		if r.simulated {
			rec[7], rec[8], rec[9] = g(r.pmc.Success.P), g(r.pmc.Success.Low), g(r.pmc.Success.High)
			rec[12], rec[14] = g(r.pmc.AllRules.P), g(r.pmc.MeanProducers)
		}
		if r.designSimulated {
			rec[19], rec[20], rec[21] = g(r.dmc.Success.P), g(r.dmc.Success.Low), g(r.dmc.Success.High)
			rec[23] = g(r.dmc.MeanProducers)
		}
		cw.Write(rec)
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("writing CSV: %w", err)
	}
	return nil
}

// summary tells, for each (w, t, p_e), at what k·M the paper's protocol
// collapses, next to this design's recovery probability.
func (c *lossConfig) summary(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "w\tt\tp_e\tpaper: k·M where P_T|M = 99.9%%\t99%%\t50%%\tthis design: 1 − P, any k·M (p_f = %g)\t\n", c.pf)
	for _, wv := range c.ws {
		for _, tv := range c.ts {
			if tv > wv {
				continue
			}
			d := sim.DesignModel{W: int(wv), T: int(tv), K: 1, M: 1, Pf: c.pf}
			for _, pe := range c.pes {
				fmt.Fprintf(tw, "%d\t%d\t%g\t", wv, tv, pe)
				for _, target := range []float64{0.999, 0.99, 0.5} {
					km, err := sim.PaperCollapse(int(wv), int(tv), pe, target)
					if err != nil {
						return err
					}
					fmt.Fprintf(tw, "%.3g\t", km)
				}
				fmt.Fprintf(tw, "%.3g\t\n", d.Failure())
			}
		}
	}
	return tw.Flush()
}
