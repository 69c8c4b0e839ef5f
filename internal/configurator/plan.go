package configurator

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/ppnet/ppnet/optimize"
)

// planFlags are the flags of configurator plan.
type planFlags struct {
	instance, generate            string
	producers, consumers, w, ppn  int
	alpha, p                      float64
	seed                          uint64
	solver, model, format         string
	exportLP, saveInstance, cbc   string
	timeLimit                     time.Duration
	producerSets, quiet, mipStart bool
	limitCandidates               bool
}

var solvers = []string{"greedy", "pack", "exact", "ilp"}

func (f *planFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.instance, "instance", "", "JSON instance `file` (see docs/minppn.md)")
	fs.StringVar(&f.generate, "generate", "", "draw an instance instead: `family` paper (A_pc ~ Bernoulli(0.5), α = 8) or hard (p_c ~ U(0.05, 0.95), α = 2)")
	fs.IntVar(&f.producers, "producers", 1000, "with --generate: |P|")
	fs.IntVar(&f.consumers, "consumers", 10, "with --generate: |C|")
	fs.Float64Var(&f.alpha, "alpha", 0, "with --generate: L = α·|P| (default 8 paper, 2 hard)")
	fs.Float64Var(&f.p, "p", 0.5, "with --generate paper: membership probability")
	fs.IntVar(&f.w, "w", 4, "with --generate: shares per consumer (w = t)")
	fs.IntVar(&f.ppn, "ppns", 0, "with --generate: candidate PPNs (default w·|C|)")
	fs.Uint64Var(&f.seed, "seed", 1, "with --generate: instance seed; also seeds the pack heuristic")
	fs.StringVar(&f.solver, "solver", "pack", "greedy (the paper's Fig. 3), pack (ours), exact (branch and bound), or ilp (COIN-OR CBC)")
	fs.StringVar(&f.model, "model", "reduced", "MILP formulation for --solver ilp and --export-lp: reduced or full (the paper's, with x)")
	fs.DurationVar(&f.timeLimit, "time-limit", time.Minute, "time limit of the exact and ilp solvers")
	fs.StringVar(&f.cbc, "cbc", "cbc", "CBC `binary`")
	fs.BoolVar(&f.mipStart, "mip-start", false, "with --solver ilp: give CBC pack's plan as a starting incumbent")
	fs.BoolVar(&f.limitCandidates, "limit-candidates", false, "with --solver ilp and --export-lp: build the model on pack's count of candidates, not on every candidate (smaller, but CBC was measured slower on it)")
	fs.StringVar(&f.format, "format", "table", "output: json or table")
	fs.StringVar(&f.exportLP, "export-lp", "", "also write the MILP to this LP `file` (CPLEX LP format, for CBC, HiGHS, Gurobi, CPLEX): the --model formulation on every candidate (pack's count with --limit-candidates), exactly as --solver ilp hands it to CBC, without the MIP start")
	fs.StringVar(&f.saveInstance, "save-instance", "", "also write the instance as JSON to this `file`")
	fs.BoolVar(&f.producerSets, "producer-sets", false, "compute each producer's PPN set (x); JSON lists them")
	fs.BoolVar(&f.quiet, "quiet", false, "no progress messages on stderr")
}

// check validates flag combinations, naming the fix.
func (f *planFlags) check(fs *flag.FlagSet, env *Env) error {
	set := map[string]bool{}
	fs.Visit(func(fl *flag.Flag) { set[fl.Name] = true })
	switch {
	case (f.instance == "") == (f.generate == ""):
		return usageErr(fs, env, "give exactly one of --instance FILE or --generate paper|hard")
	case f.generate != "" && !oneOf(f.generate, "paper", "hard"):
		return usageErr(fs, env, "--generate %q: use paper or hard", f.generate)
	case !oneOf(f.solver, solvers...):
		return usageErr(fs, env, "--solver %q: use one of %s", f.solver, quoteAll(solvers))
	case !oneOf(f.model, "reduced", "full"):
		return usageErr(fs, env, "--model %q: use reduced or full", f.model)
	case !oneOf(f.format, "json", "table"):
		return usageErr(fs, env, "--format %q: use json or table", f.format)
	case f.timeLimit <= 0:
		return usageErr(fs, env, "--time-limit %v: give a positive duration such as 30s", f.timeLimit)
	}
	if f.generate != "" {
		switch {
		case f.producers < 1 || f.consumers < 1:
			return usageErr(fs, env, "--producers %d --consumers %d: both must be ≥ 1", f.producers, f.consumers)
		case f.w < 1:
			return usageErr(fs, env, "--w %d: give the number of shares per consumer, ≥ 1", f.w)
		case f.alpha < 0:
			return usageErr(fs, env, "--alpha %v: give a positive α (L = α·|P|) or omit it for the family default", f.alpha)
		}
	}
	if f.instance != "" {
		for _, g := range []string{"producers", "consumers", "alpha", "p", "w", "ppns"} {
			if set[g] {
				return usageErr(fs, env, "--%s applies to --generate; put it in the instance file or drop it", g)
			}
		}
	}
	return nil
}

func runPlan(ctx context.Context, args []string, env *Env) error {
	fs := flag.NewFlagSet("plan", flag.ContinueOnError)
	var f planFlags
	f.register(fs)
	if err := parseFlags(fs, args, env); err != nil {
		return err
	}
	if err := f.check(fs, env); err != nil {
		return err
	}
	prog := &progress{w: env.Stderr, quiet: f.quiet, start: time.Now()}
	in, err := f.load(prog)
	if err != nil {
		return err
	}
	if err := f.writeFiles(in, prog); err != nil {
		return err
	}
	prog.say("solving with %s (%d consumers, %d candidate PPNs, w = %d)", f.solver, len(in.Consumers), in.Candidates(), in.W)
	stop := prog.tick(ctx, f.solver, f.timeLimit)
	r, rep, err := f.solve(ctx, in)
	stop()
	if err != nil {
		return fmt.Errorf("configurator plan: %w", err)
	}
	if err := optimize.Check(in, r); err != nil {
		return fmt.Errorf("configurator plan: %w", err)
	}
	var ps *optimize.ProducerSets
	if f.producerSets && r.Consumers != nil {
		prog.say("computing per-producer PPN sets for %d producers", in.Producers)
		ps = r.ProducerPPNs(in)
	}
	out := newPlanOutput(in, r, rep, ps, f)
	if f.format == "json" {
		err = out.writeJSON(env.Stdout)
	} else {
		err = out.writeTable(env.Stdout)
	}
	if err != nil {
		return fmt.Errorf("configurator plan: writing output: %w", err)
	}
	if r.Consumers == nil {
		return fmt.Errorf("configurator plan: %s found no plan within %v (lower bound %d); raise --time-limit or use --solver pack or exact", f.solver, f.timeLimit, r.LowerBound)
	}
	return nil
}

// load reads or generates the instance.
func (f *planFlags) load(prog *progress) (*optimize.Instance, error) {
	if f.instance != "" {
		file, err := os.Open(f.instance)
		if err != nil {
			return nil, fmt.Errorf("configurator plan: %w; give an existing JSON instance to --instance", err)
		}
		defer file.Close()
		in, err := optimize.ReadInstance(file)
		if err != nil {
			return nil, fmt.Errorf("configurator plan: %s: %w", f.instance, err)
		}
		return in, nil
	}
	prog.say("generating %s instance: %d producers × %d consumers, seed %d", f.generate, f.producers, f.consumers, f.seed)
	in, err := optimize.Generate(optimize.GenOptions{
		Family: optimize.Family(f.generate), Producers: f.producers, Consumers: f.consumers,
		Alpha: f.alpha, P: f.p, W: f.w, PPNs: f.ppn, Seed: f.seed,
	})
	if err != nil {
		return nil, fmt.Errorf("configurator plan: %w", err)
	}
	return in, nil
}

// writeFiles writes --export-lp and --save-instance.
func (f *planFlags) writeFiles(in *optimize.Instance, prog *progress) error {
	write := func(path, what string, fn func(io.Writer) error) error {
		if path == "" {
			return nil
		}
		prog.say("writing %s to %s", what, path)
		file, err := os.Create(path)
		if err != nil {
			return fmt.Errorf("configurator plan: %w", err)
		}
		if err := errors.Join(fn(file), file.Close()); err != nil {
			return fmt.Errorf("configurator plan: writing %s: %w", path, err)
		}
		return nil
	}
	err := write(f.exportLP, "the "+f.model+" model", func(w io.Writer) error {
		lp := &optimize.LPOptions{Model: optimize.Model(f.model)}
		if f.limitCandidates {
			pk, err := optimize.Pack(in, &optimize.PackOptions{Seed: f.seed})
			if err != nil {
				return err
			}
			lp.MaxPPNs = pk.NumActive()
		}
		return optimize.WriteLP(w, in, lp)
	})
	if err != nil {
		return err
	}
	return write(f.saveInstance, "the instance", in.WriteJSON)
}

func (f *planFlags) solve(ctx context.Context, in *optimize.Instance) (*optimize.Result, *optimize.CBCReport, error) {
	pack := &optimize.PackOptions{Seed: f.seed}
	switch f.solver {
	case "greedy":
		r, err := optimize.Greedy(in)
		return r, nil, err
	case "pack":
		r, err := optimize.Pack(in, pack)
		return r, nil, err
	case "exact":
		r, err := optimize.Exact(ctx, in, &optimize.ExactOptions{TimeLimit: f.timeLimit, Pack: pack})
		return r, nil, err
	}
	return optimize.SolveILP(ctx, in, &optimize.ILPOptions{
		Model: optimize.Model(f.model), TimeLimit: f.timeLimit, CBC: f.cbc, Pack: pack, MIPStart: f.mipStart,
		LimitCandidates: f.limitCandidates,
	})
}

// progress prints stage messages with the elapsed time on stderr.
type progress struct {
	w     io.Writer
	quiet bool
	start time.Time
}

func (p *progress) say(format string, a ...any) {
	if !p.quiet {
		fmt.Fprintf(p.w, "plan: [%6.1fs] %s\n", time.Since(p.start).Seconds(), fmt.Sprintf(format, a...))
	}
}

// tick reports every 5 s while a solver runs; the returned func stops it.
func (p *progress) tick(ctx context.Context, solver string, limit time.Duration) func() {
	if p.quiet {
		return func() {}
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(5 * time.Second)
		defer t.Stop()
		began := time.Now()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				p.say("%s running for %.0fs (limit %v)", solver, time.Since(began).Seconds(), limit)
			}
		}
	}()
	return func() { cancel(); <-done }
}
