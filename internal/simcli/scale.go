package simcli

import (
	"context"
	"flag"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/ppnet/ppnet/sim"
)

func runScale(ctx context.Context, args []string, env *Env) error {
	fs := flag.NewFlagSet("scale", flag.ContinueOnError)
	var cfg sim.ScaleConfig
	fs.IntVar(&cfg.Producers, "producers", 100000, "producers P")
	fs.IntVar(&cfg.PPNs, "ppns", 4, "PPNs N")
	fs.IntVar(&cfg.Threshold, "t", 0, "threshold t (0: N−1, so each aggregate is recovered from several PPN subsets)")
	fs.IntVar(&cfg.Rules, "rules", 4, "rules C (producer p in rule p mod C)")
	fs.IntVar(&cfg.Rounds, "rounds", 96, "rounds per producer (readings of the household model)")
	fs.IntVar(&cfg.Workers, "workers", 0, "goroutines (0: all cores)")
	fs.Uint64Var(&cfg.Seed, "seed", 1, "seed of the households and of the share randomness")
	fs.BoolVar(&cfg.ThreadCPU, "cpu-time", sim.ThreadCPUAvailable(), "time stages by each worker thread's CPU time (robust on a loaded machine; Linux)")
	model := fs.String("model", "", "household model YAML file (default: built-in)")
	quiet := fs.Bool("quiet", false, "no progress bar")
	if err := parseFlags(fs, args, env); err != nil {
		return err
	}
	if cfg.Producers < 1 || cfg.Threshold < 0 || cfg.Rules < 1 || cfg.Rounds < 1 || cfg.PPNs < 1 || cfg.Workers < 0 {
		return usageError{"scale: --producers, --ppns, --rules and --rounds must be ≥ 1; --t and --workers ≥ 0"}
	}
	opts, err := loadModel(*model, 0)
	if err != nil {
		return err
	}
	cfg.Households = opts
	bar := newProgress(env.Stderr, *quiet, int64(cfg.Producers), "producers")
	cfg.Progress = func(done int) { bar.Set(int64(done)) }
	rep, err := sim.Scale(ctx, cfg)
	bar.Finish()
	if err != nil {
		return err
	}
	writeScaleReport(env, &rep)
	return nil
}

func writeScaleReport(env *Env, rep *sim.ScaleReport) {
	c := rep.Config
	fmt.Fprintf(env.Stdout, "scale: %d producers × %d rounds × %d PPNs (t = %d), %d rules, %d workers, seed %d\n",
		c.Producers, c.Rounds, c.PPNs, c.Threshold, c.Rules, c.Workers, c.Seed)
	tw := tabwriter.NewWriter(env.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	clock := "wall"
	if c.ThreadCPU {
		clock = "CPU"
	}
	fmt.Fprintf(tw, "stage\titems\tunit\t%s core·s\tper core /s\t× baseline\tshare\t\n", clock)
	base := rep.Stages[1] // plain sum
	var total time.Duration
	for _, s := range rep.Stages {
		total += s.Busy
	}
	for _, s := range rep.Stages {
		ratio := "-"
		if base.Busy > 0 {
			ratio = fmt.Sprintf("%.1f", s.Busy.Seconds()/base.Busy.Seconds())
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%.3f\t%.3g\t%s\t%.1f%%\t\n", s.Name, s.Items, s.Unit, s.Busy.Seconds(), s.PerSecond(), ratio, 100*s.Busy.Seconds()/total.Seconds())
	}
	tw.Flush()
	readings := float64(c.Producers) * float64(c.Rounds)
	fmt.Fprintf(env.Stdout, "wall %v (%.3g readings/s); stages busy %.1f core·s in all, %.1f s per worker\n",
		rep.Wall.Round(time.Millisecond), readings/rep.Wall.Seconds(), total.Seconds(), total.Seconds()/float64(c.Workers))
	fmt.Fprintf(env.Stdout, "%d aggregates (rule × round), each recovered from all %d t-subsets of PPNs, all equal to the plain sums (total %.1f kWh)\n",
		rep.Aggregates, rep.Subsets, float64(rep.EnergyWh)/1000)
}
