package cli

import (
	"context"
	"encoding/csv"
	"flag"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/ppnet/ppnet/internal/fddm/attack"
	"github.com/ppnet/ppnet/internal/fddm/mask"
)

type evalConfig struct {
	trainConfig
	strategies []mask.Strategy
	thresholds []float64 // or target rates, with byRate
	byRate     bool
	maxShare   float64
	coarsenWh  uint64
	roundSteps []uint64
	plot       string
	csv        string
}

func parseEval(args []string, env *Env) (*evalConfig, error) {
	c := &evalConfig{}
	fs := flag.NewFlagSet("eval", flag.ContinueOnError)
	trainFlags(fs, &c.trainConfig)
	strategies := fs.String("strategies", "generalise,coarsen,suppress", "masking strategies to evaluate")
	thresholds := fs.String("thresholds", "0.9,0.8,0.7,0.6,0.5,0.4", "score thresholds to evaluate")
	rates := fs.String("rates", "", "target masking rates to evaluate instead of thresholds (e.g. 0.1,0.2,0.3)")
	fs.Float64Var(&c.maxShare, "max-share", 0.5, "never mask more than this share of a meter's period")
	fs.Uint64Var(&c.coarsenWh, "coarsen-wh", 100, "coarsen strategy: round masked readings to this many Wh")
	steps := fs.String("round-steps", "10,25,50,100,200", "static rounding baseline: steps in Wh")
	fs.StringVar(&c.plot, "plot", "", "write the privacy–utility plot to PREFIX.png and PREFIX.svg")
	fs.StringVar(&c.csv, "csv", "", "write the table as CSV to this file")
	if err := parseFlags(fs, args, env); err != nil {
		return nil, err
	}
	if err := c.validate(); err != nil {
		return nil, err
	}
	for _, s := range strings.Split(*strategies, ",") {
		st, err := mask.ParseStrategy(strings.TrimSpace(s))
		if err != nil {
			return nil, usageError{fmt.Sprintf("-strategies: %v", err)}
		}
		c.strategies = append(c.strategies, st)
	}
	list, name := *thresholds, "-thresholds"
	if *rates != "" {
		list, name, c.byRate = *rates, "-rates", true
	}
	var err error
	if c.thresholds, err = parseShares(name, list); err != nil {
		return nil, err
	}
	for _, s := range strings.Split(*steps, ",") {
		v, err := strconv.ParseUint(strings.TrimSpace(s), 10, 64)
		if err != nil || v == 0 || v > 100_000 {
			return nil, usageError{fmt.Sprintf("-round-steps: %q is not a step of 1 to 100000 Wh", s)}
		}
		c.roundSteps = append(c.roundSteps, v)
	}
	if !(c.maxShare > 0 && c.maxShare <= 1) {
		return nil, usageError{fmt.Sprintf("-max-share %g: use a share in (0, 1]", c.maxShare)}
	}
	if c.coarsenWh == 0 {
		return nil, usageError{"-coarsen-wh 0: use a step of at least 1 Wh"}
	}
	return c, nil
}

// parseShares reads a comma-separated list of values in [0, 1].
func parseShares(name, s string) ([]float64, error) {
	var out []float64
	for _, f := range strings.Split(s, ",") {
		v, err := strconv.ParseFloat(strings.TrimSpace(f), 64)
		if err != nil || !(v >= 0 && v <= 1) {
			return nil, usageError{fmt.Sprintf("%s: %q is not a number in [0, 1]", name, f)}
		}
		out = append(out, v)
	}
	return out, nil
}

// scheme is one way of treating the period's histories.
type scheme struct {
	name     string
	kind     string // exact, static, dynamic, reference
	strategy mask.Strategy
	knob     float64 // threshold, target rate or rounding step
}

// row is one scheme's outcome.
type row struct {
	scheme
	masked, activeMasked, otherMasked float64
	capped                            int
	occ, occNaive                     attack.OccupancyResult
	reid, link                        attack.Rate
	util                              attack.UtilityResult
}

func (c *evalConfig) schemes() []scheme {
	s := []scheme{{name: "exact", kind: "exact"}}
	for _, step := range c.roundSteps {
		s = append(s, scheme{name: fmt.Sprintf("static round %d Wh", step), kind: "static", knob: float64(step)})
	}
	knob := "threshold"
	if c.byRate {
		knob = "rate"
	}
	for _, st := range c.strategies {
		for _, th := range c.thresholds {
			s = append(s, scheme{name: fmt.Sprintf("%s %s %.2f", st, knob, th), kind: "dynamic", strategy: st, knob: th})
		}
	}
	return append(s, scheme{name: "suppress all", kind: "reference", strategy: mask.Suppress})
}

func runEval(ctx context.Context, c *evalConfig, env *Env) error {
	out := env.Stdout
	c.quiet = true
	t, err := runTrain(ctx, &c.trainConfig, out)
	if err != nil {
		return err
	}
	d := t.data
	fmt.Fprintf(out, "fddm eval: seed %d, %d households, %d-day period (masked), %d-day history (training), %d FedAvg rounds over %d PPNs (t = %d)\n",
		c.data.seed, c.data.households, c.data.days, c.data.days, c.rounds, c.ppns, c.t)
	fmt.Fprintf(out, "sensitivity model against ground truth on the period: federated acc %.4f bal.acc %.4f; central acc %.4f bal.acc %.4f\n",
		t.fedAcc.acc, t.fedAcc.balanced, t.cenAcc.acc, t.cenAcc.balanced)
	scores := make([][]float64, len(d.period))
	for h, md := range d.period {
		X, _, err := md.features(d.interval, c.labels)
		if err != nil {
			return err
		}
		scores[h] = t.federated.Scores(nil, X)
	}
	exact := attack.View{Start: d.period[0].start, Interval: d.interval}
	aux := attack.View{Start: d.pop.IntervalStart(int64((c.data.firstDay + 2*c.data.days) * d.perDay)), Interval: d.interval}
	var occupied [][]bool
	profile := make([]uint64, d.perDay)
	for s, p := range d.profile {
		profile[s] = uint64(math.Round(p))
	}
	for h, md := range d.period {
		exact.Wh = append(exact.Wh, attack.FromWh(md.wh, mask.Suppressed))
		aux.Wh = append(aux.Wh, attack.FromWh(d.aux[h], mask.Suppressed))
		occupied = append(occupied, md.occupied)
	}
	var rows []row
	for _, s := range c.schemes() {
		if err := ctx.Err(); err != nil {
			return err
		}
		r, err := c.evalScheme(s, d, scores, profile, exact, aux, occupied)
		if err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
		rows = append(rows, r)
	}
	printRows(out, rows, c)
	if c.csv != "" {
		if err := writeCSV(c.csv, rows, env); err != nil {
			return err
		}
	}
	if c.plot != "" {
		return plotRows(c.plot, rows, env)
	}
	return nil
}

func (c *evalConfig) evalScheme(s scheme, d *dataset, scores [][]float64, profile []uint64, exact, aux attack.View, occupied [][]bool) (row, error) {
	r := row{scheme: s}
	view := attack.View{Start: exact.Start, Interval: exact.Interval}
	var masked, active, activeMasked, total float64
	for h, md := range d.period {
		wh := slices.Clone(md.wh)
		switch s.kind {
		case "static":
			if err := mask.StaticRound(wh, uint64(s.knob)); err != nil {
				return r, err
			}
		case "dynamic", "reference":
			p := mask.Policy{Strategy: s.strategy, MaxShare: c.maxShare, CoarsenWh: c.coarsenWh, Threshold: s.knob}
			if c.byRate {
				p.Threshold, p.TargetRate = 0, s.knob
			}
			if s.kind == "reference" {
				p = mask.Policy{Strategy: mask.Suppress, MaxShare: 1}
			}
			res, err := mask.Apply(true, mask.Period{Wh: wh, Scores: scores[h], Profile: profile}, p)
			if err != nil {
				return r, err
			}
			if res.Capped {
				r.capped++
			}
		}
		for i := range wh {
			changed := wh[i] != md.wh[i]
			if changed {
				masked++
			}
			if md.active[i] {
				active++
				if changed {
					activeMasked++
				}
			}
		}
		total += float64(len(wh))
		view.Wh = append(view.Wh, attack.FromWh(wh, mask.Suppressed))
	}
	r.masked = masked / total
	r.activeMasked = activeMasked / max(active, 1)
	r.otherMasked = (masked - activeMasked) / max(total-active, 1)
	var err error
	if r.occ, err = attack.Occupancy(view, occupied, attack.OccupancyOptions{}); err != nil {
		return r, err
	}
	if r.occNaive, err = attack.Occupancy(view, occupied, attack.OccupancyOptions{TrainOn: exact.Wh}); err != nil {
		return r, err
	}
	if r.reid, err = attack.Reidentify(view, aux); err != nil {
		return r, err
	}
	if r.link, err = attack.Linkage(view, d.bills, d.profile); err != nil {
		return r, err
	}
	if r.util, err = attack.Utility(view, exact, d.profile); err != nil {
		return r, err
	}
	return r, nil
}

func printRows(out io.Writer, rows []row, c *evalConfig) {
	fmt.Fprintf(out, "masking capped at %.0f%% of a meter's period; coarsen step %d Wh; occupancy attack trained on households [0, N/2) (masked the same way; naive: exact), tested on [N/2, N)\n", 100*c.maxShare, c.coarsenWh)
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "scheme\tchanged\tactive chg\tother chg\tcapped\tocc bal.acc\tocc acc\tocc naive\treid top-1\tlink top-1\tunchanged\thh hourly err\tagg hourly err\t")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%.3f\t%.3f\t%.3f\t%d\t%.3f\t%.3f\t%.3f\t%.3f\t%.3f\t%.3f\t%.3f\t%.4f\t\n",
			r.name, r.masked, r.activeMasked, r.otherMasked, r.capped, r.occ.BalancedAccuracy, r.occ.Accuracy, r.occNaive.BalancedAccuracy, r.reid.Value, r.link.Value, r.util.Unchanged, r.util.HouseholdError, r.util.AggregateError)
	}
	tw.Flush()
	if len(rows) > 0 {
		fmt.Fprintf(out, "chance: occupancy bal.acc 0.5 (majority-class acc %.3f over %d test slots); re-identification and linkage 1/N = %.3f\n",
			rows[0].occ.Majority, rows[0].occ.TestSlots, rows[0].reid.Chance)
	}
}

func writeCSV(name string, rows []row, env *Env) (err error) {
	f, err := env.create(name)
	if err != nil {
		return fmt.Errorf("creating %s: %w", name, err)
	}
	defer func() {
		if cerr := f.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("writing %s: %w", name, cerr)
		}
	}()
	w := csv.NewWriter(f)
	w.Write([]string{"scheme", "kind", "strategy", "knob", "changed", "active_changed", "other_changed", "capped_meters",
		"occupancy_balanced_accuracy", "occupancy_accuracy", "occupancy_majority", "occupancy_naive_balanced_accuracy", "reid_top1", "reid_chance", "linkage_top1",
		"unchanged", "household_hourly_error", "aggregate_hourly_error"})
	g := func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
	for _, r := range rows {
		st := ""
		if r.kind == "dynamic" || r.kind == "reference" {
			st = r.strategy.String()
		}
		w.Write([]string{r.name, r.kind, st, g(r.knob), g(r.masked), g(r.activeMasked), g(r.otherMasked), strconv.Itoa(r.capped),
			g(r.occ.BalancedAccuracy), g(r.occ.Accuracy), g(r.occ.Majority), g(r.occNaive.BalancedAccuracy), g(r.reid.Value), g(r.reid.Chance), g(r.link.Value),
			g(r.util.Unchanged), g(r.util.HouseholdError), g(r.util.AggregateError)})
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return fmt.Errorf("writing %s: %w", name, err)
	}
	return nil
}
