package configurator

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/ppnet/ppnet/optimize"
)

// benchFlags are the flags of configurator plan-bench.
type benchFlags struct {
	table                  string
	producers, consumers   string
	instances, ppns        int
	seed                   uint64
	cbcLimit, fullLimit    time.Duration
	exactLimit             time.Duration
	fullMaxRows            int64
	limit, noILP, quiet    bool
	mipStart               bool
	scaleProducers, scaleC string
	cbc                    string
}

func runPlanBench(ctx context.Context, args []string, env *Env) error {
	fs := flag.NewFlagSet("plan-bench", flag.ContinueOnError)
	var f benchFlags
	fs.StringVar(&f.table, "table", "paper", "which table: paper (p = 0.5, α = 8), hard (p_c ~ U(0.05, 0.95), α = 2), scale, or bounds (both families)")
	fs.StringVar(&f.producers, "producers", "100,1000,10000", "comma-separated |P| values (paper, hard)")
	fs.StringVar(&f.consumers, "consumers", "10,50", "comma-separated |C| values (paper, hard)")
	fs.IntVar(&f.instances, "instances", 10, "instances per row; instance i has seed --seed + i")
	fs.Uint64Var(&f.seed, "seed", 1, "first instance seed")
	fs.IntVar(&f.ppns, "ppns", 0, "candidate PPNs per instance (default w·|C|)")
	fs.DurationVar(&f.exactLimit, "exact-time-limit", 30*time.Second, "time limit of the exact search per instance")
	fs.DurationVar(&f.cbcLimit, "time-limit", 30*time.Second, "CBC time limit per instance, reduced model")
	fs.DurationVar(&f.fullLimit, "full-time-limit", 10*time.Second, "CBC time limit per instance, full model")
	fs.Int64Var(&f.fullMaxRows, "full-max-rows", 1000000, "run the full model only on instances where it has at most this many rows (its x rows grow as ΣM_c·|N|); larger ones show their size")
	fs.BoolVar(&f.limit, "limit-candidates", false, "build both CBC models on pack's count of candidates instead of every candidate")
	fs.BoolVar(&f.noILP, "no-ilp", false, "skip CBC")
	fs.BoolVar(&f.mipStart, "mip-start", false, "give CBC pack's plan as a starting incumbent")
	fs.StringVar(&f.cbc, "cbc", "cbc", "CBC `binary`")
	fs.StringVar(&f.scaleProducers, "scale-producers", "100000,1000000,10000000", "comma-separated |P| values (scale)")
	fs.StringVar(&f.scaleC, "scale-consumers", "100", "|C| (scale)")
	fs.BoolVar(&f.quiet, "quiet", false, "no progress messages on stderr")
	if err := parseFlags(fs, args, env); err != nil {
		return err
	}
	if !oneOf(f.table, "paper", "hard", "scale", "bounds") {
		return usageErr(fs, env, "--table %q: use paper, hard, scale or bounds", f.table)
	}
	if f.instances < 1 {
		return usageErr(fs, env, "--instances %d: give at least 1", f.instances)
	}
	prog := &progress{w: env.Stderr, quiet: f.quiet, start: time.Now()}
	if f.table == "scale" {
		ps, err := intList(fs, env, "scale-producers", f.scaleProducers)
		if err != nil {
			return err
		}
		cs, err := intList(fs, env, "scale-consumers", f.scaleC)
		if err != nil {
			return err
		}
		return scaleTable(env.Stdout, ps, cs, f.seed, prog)
	}
	ps, err := intList(fs, env, "producers", f.producers)
	if err != nil {
		return err
	}
	cs, err := intList(fs, env, "consumers", f.consumers)
	if err != nil {
		return err
	}
	if f.table == "bounds" {
		return boundsTable(ctx, env.Stdout, &f, ps, cs, prog)
	}
	return compareTable(ctx, env.Stdout, &f, ps, cs, prog)
}

// boundsTable compares the trivial bound max(w, ⌈w·ΣM_c/L⌉) with
// optimize.LowerBound and with the bound the exact search proves, on both
// families.
func boundsTable(ctx context.Context, w io.Writer, f *benchFlags, ps, cs []int, prog *progress) error {
	fmt.Fprintf(w, "%d instances per row (seeds %d..%d), exact search limit %v. Means; (k) counts instances where the bound beats the trivial one.\n\n", f.instances, f.seed, f.seed+uint64(f.instances)-1, f.exactLimit)
	fmt.Fprintln(w, "| family | \\|P\\| | \\|C\\| | trivial | LowerBound (k) | exact's bound (k) | optimum proven |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|---:|")
	for _, fam := range []optimize.Family{optimize.FamilyPaper, optimize.FamilyHard} {
		for _, P := range ps {
			for _, C := range cs {
				var triv, lb, ex float64
				var lbWins, exWins, proven int
				for i := range f.instances {
					seed := f.seed + uint64(i)
					prog.say("bounds %s |P|=%d |C|=%d seed %d", fam, P, C, seed)
					in, err := optimize.Generate(optimize.GenOptions{Family: fam, Producers: P, Consumers: C, PPNs: f.ppns, Seed: seed})
					if err != nil {
						return err
					}
					var vol int64
					for _, m := range in.Sizes() {
						vol += int64(in.W) * m
					}
					t := max(in.W, int((vol+in.L-1)/in.L))
					b := optimize.LowerBound(in)
					r, err := optimize.Exact(ctx, in, &optimize.ExactOptions{TimeLimit: f.exactLimit, Pack: &optimize.PackOptions{Seed: seed}})
					if err != nil {
						return err
					}
					if err := optimize.Check(in, r); err != nil {
						return err
					}
					triv, lb, ex = triv+float64(t), lb+float64(b), ex+float64(r.LowerBound)
					lbWins += btoi(b > t)
					exWins += btoi(r.LowerBound > t)
					proven += btoi(r.Optimal)
				}
				n := float64(f.instances)
				fmt.Fprintf(w, "| %s | %d | %d | %.2f | %.2f (%d) | %.2f (%d) | %d/%d |\n", fam, P, C, triv/n, lb/n, lbWins, ex/n, exWins, proven, f.instances)
			}
		}
	}
	return nil
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

func intList(fs *flag.FlagSet, env *Env, name, s string) ([]int, error) {
	var out []int
	for _, part := range strings.Split(s, ",") {
		v, err := strconv.Atoi(strings.TrimSpace(part))
		if err != nil || v < 1 {
			return nil, usageErr(fs, env, "--%s %q: give positive integers separated by commas, e.g. 100,1000", name, s)
		}
		out = append(out, v)
	}
	return out, nil
}

// row aggregates one (|P|, |C|) cell over its instances.
type row struct {
	n                                   int
	bound, best, greedy, pack, exact    float64 // sums of counts
	exactProven, redProven, fullProven  int
	redFound, fullFound                 int
	redSum, fullSum                     float64 // sums of CBC plan sizes, over found
	tGreedy, tPack, tExact, tRed, tFull float64
	greedyGap, packGap                  float64 // sums of (count/best bound − 1)
	fullSkipped                         int     // instances whose full model exceeds --full-max-rows
	fullRows, fullCols                  int64   // largest skipped full model
	greedyFail                          int     // instances the greedy found infeasible
}

func compareTable(ctx context.Context, w io.Writer, f *benchFlags, ps, cs []int, prog *progress) error {
	fmt.Fprintf(w, "Family %s, w = 4, %d instances per row (seeds %d..%d), candidates %s.\n", f.table, f.instances, f.seed, f.seed+uint64(f.instances)-1, candText(f.ppns))
	start := ""
	if f.mipStart {
		start = " CBC starts from pack's plan (--mip-start)."
	}
	cands := "every candidate"
	if f.limit {
		cands = "pack's count of candidates (--limit-candidates)"
	}
	fmt.Fprintf(w, "Limits (wall time): exact %v, CBC reduced %v, CBC full %v; CBC models on %s; full model run up to %d rows.%s Counts are means of active PPNs (CBC: over the instances where it found a plan, so read them with the found count); gaps are means of count/best bound − 1; (k/n) counts proofs of optimality (for CBC: CBC's own status, not our bound); CBC cells are mean (found k/n, proven k/n); times are mean wall seconds (CBC full: over the instances it ran).\n\n", f.exactLimit, f.cbcLimit, f.fullLimit, cands, f.fullMaxRows, start)
	fmt.Fprintln(w, "| \\|P\\| | \\|C\\| | bound | best bound | greedy | greedy gap | pack | pack gap | exact (proven) | CBC reduced (found, proven) | CBC full (found, proven) | t greedy | t pack | t exact | t CBC red | t CBC full |")
	fmt.Fprintln(w, "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
	for _, P := range ps {
		for _, C := range cs {
			r, err := benchRow(ctx, f, P, C, prog)
			if err != nil {
				return err
			}
			n := float64(r.n)
			full, tFull := "—", "—"
			if ran := r.n - r.fullSkipped; !f.noILP && ran > 0 {
				full = fmt.Sprintf("%s (%d/%d, %d/%d)", meanOf(r.fullSum, r.fullFound), r.fullFound, ran, r.fullProven, ran)
				tFull = fmt.Sprintf("%.2f", r.tFull/float64(ran))
			}
			if r.fullSkipped > 0 {
				skip := fmt.Sprintf("not run: %s rows × %s cols", sizeText(r.fullRows), sizeText(r.fullCols))
				if r.fullSkipped < r.n {
					skip = fmt.Sprintf("%d not run (up to %s rows)", r.fullSkipped, sizeText(r.fullRows))
					full += "; " + skip
				} else {
					full = skip
				}
			}
			red, tRed := "—", "—"
			if !f.noILP {
				red = fmt.Sprintf("%s (%d/%d, %d/%d)", meanOf(r.redSum, r.redFound), r.redFound, r.n, r.redProven, r.n)
				tRed = fmt.Sprintf("%.2f", r.tRed/n)
			}
			greedy, greedyGap := "failed", "—"
			if ok := n - float64(r.greedyFail); ok > 0 {
				greedy, greedyGap = fmt.Sprintf("%.2f", r.greedy/ok), fmt.Sprintf("%.1f%%", 100*r.greedyGap/ok)
				if r.greedyFail > 0 {
					greedy += fmt.Sprintf(" (%d failed)", r.greedyFail)
				}
			}
			fmt.Fprintf(w, "| %d | %d | %.2f | %.2f | %s | %s | %.2f | %.1f%% | %.2f (%d/%d) | %s | %s | %.4f | %.4f | %.3f | %s | %s |\n",
				P, C, r.bound/n, r.best/n, greedy, greedyGap, r.pack/n, 100*r.packGap/n,
				r.exact/n, r.exactProven, r.n, red, full, r.tGreedy/n, r.tPack/n, r.tExact/n, tRed, tFull)
		}
	}
	return nil
}

func candText(ppns int) string {
	if ppns == 0 {
		return "w·|C| (default)"
	}
	return strconv.Itoa(ppns)
}

// sizeText writes a row or column count compactly: 950, 12.3k, 50.1M.
func sizeText(n int64) string {
	switch {
	case n >= 1e6:
		return fmt.Sprintf("%.1fM", float64(n)/1e6)
	case n >= 1e4:
		return fmt.Sprintf("%.0fk", float64(n)/1e3)
	}
	return strconv.FormatInt(n, 10)
}

func meanOf(sum float64, n int) string {
	if n == 0 {
		return "none"
	}
	return fmt.Sprintf("%.2f", sum/float64(n))
}

func benchRow(ctx context.Context, f *benchFlags, P, C int, prog *progress) (*row, error) {
	r := &row{}
	for i := range f.instances {
		seed := f.seed + uint64(i)
		prog.say("%s |P|=%d |C|=%d seed %d", f.table, P, C, seed)
		in, err := optimize.Generate(optimize.GenOptions{Family: optimize.Family(f.table), Producers: P, Consumers: C, PPNs: f.ppns, Seed: seed})
		if err != nil {
			return nil, err
		}
		g, err := optimize.Greedy(in)
		if errors.Is(err, optimize.ErrInfeasible) {
			// The paper's greedy cannot even spread onto too few candidates.
			r.greedyFail++
			g = nil
		} else if err != nil {
			return nil, err
		}
		pk, err := optimize.Pack(in, &optimize.PackOptions{Seed: seed})
		if err != nil {
			return nil, err
		}
		ex, err := optimize.Exact(ctx, in, &optimize.ExactOptions{TimeLimit: f.exactLimit, Pack: &optimize.PackOptions{Seed: seed}})
		if err != nil {
			return nil, err
		}
		for _, res := range []*optimize.Result{g, pk, ex} {
			if res == nil {
				continue
			}
			if err := optimize.Check(in, res); err != nil {
				return nil, err
			}
		}
		best := ex.LowerBound
		r.n++
		r.bound += float64(optimize.LowerBound(in))
		if g != nil {
			r.greedy += float64(g.NumActive())
			r.tGreedy += g.Seconds
		}
		r.pack += float64(pk.NumActive())
		r.exact += float64(ex.NumActive())
		r.tPack += pk.Seconds
		r.tExact += ex.Seconds
		if ex.Optimal {
			r.exactProven++
		}
		if !f.noILP {
			red, err := runCBC(ctx, f, in, optimize.ModelReduced, f.cbcLimit, seed)
			if err != nil {
				return nil, err
			}
			best = max(best, red.LowerBound)
			r.tRed += red.Seconds
			if red.Consumers != nil {
				r.redFound++
				r.redSum += float64(red.NumActive())
			}
			if red.Status == "optimal" { // CBC's own proof, not our bound
				r.redProven++
			}
		}
		runFull := false
		if !f.noILP {
			lpOpt := &optimize.LPOptions{Model: optimize.ModelFull}
			if f.limit {
				lpOpt.MaxPPNs = pk.NumActive()
			}
			rows, cols := optimize.ModelSize(in, lpOpt)
			runFull = rows <= f.fullMaxRows
			if !runFull {
				r.fullSkipped++
				r.fullRows, r.fullCols = max(r.fullRows, rows), max(r.fullCols, cols)
			}
		}
		if runFull {
			full, err := runCBC(ctx, f, in, optimize.ModelFull, f.fullLimit, seed)
			if err != nil {
				return nil, err
			}
			best = max(best, full.LowerBound)
			r.tFull += full.Seconds
			if full.Consumers != nil {
				r.fullFound++
				r.fullSum += float64(full.NumActive())
			}
			if full.Status == "optimal" {
				r.fullProven++
			}
		}
		r.best += float64(best)
		if g != nil {
			r.greedyGap += float64(g.NumActive())/float64(best) - 1
		}
		r.packGap += float64(pk.NumActive())/float64(best) - 1
	}
	return r, nil
}

func runCBC(ctx context.Context, f *benchFlags, in *optimize.Instance, m optimize.Model, limit time.Duration, seed uint64) (*optimize.Result, error) {
	dir, err := os.MkdirTemp("", "plan-bench-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	r, _, err := optimize.SolveILP(ctx, in, &optimize.ILPOptions{
		Model: m, TimeLimit: limit, CBC: f.cbc, Dir: dir, Pack: &optimize.PackOptions{Seed: seed},
		LimitCandidates: f.limit, MIPStart: f.mipStart,
	})
	if err != nil {
		return nil, fmt.Errorf("configurator plan-bench: CBC %s model: %w", m, err)
	}
	return r, nil
}

// scaleTable times each step on large paper-family instances and reports
// the process's peak resident memory (VmHWM) after each step.
func scaleTable(w io.Writer, ps, cs []int, seed uint64, prog *progress) error {
	fmt.Fprintln(w, "Paper family (p = 0.5, α = 8, w = 4). CPU s is the process's user+system time for the step (all threads), which a loaded machine does not inflate (× greedy is the CPU-time ratio to the greedy on the same instance); peak RSS is the process high-water mark after the step (it only grows down the table).")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| \\|P\\| | \\|C\\| | step | seconds | CPU s | × greedy | active PPNs | peak RSS MiB | Go heap MiB |")
	fmt.Fprintln(w, "|---:|---:|---|---:|---:|---:|---:|---:|---:|")
	for _, P := range ps {
		for _, C := range cs {
			var in *optimize.Instance
			var g, pk *optimize.Result
			var err error
			var tGreedy float64
			steps := []struct {
				name string
				run  func() (int, error)
			}{
				{"generate", func() (int, error) {
					in, err = optimize.Generate(optimize.GenOptions{Producers: P, Consumers: C, Seed: seed})
					return 0, err
				}},
				{"lower bound", func() (int, error) { return optimize.LowerBound(in), nil }},
				{"greedy", func() (int, error) {
					if g, err = optimize.Greedy(in); err != nil {
						return 0, err
					}
					return g.NumActive(), nil
				}},
				{"pack", func() (int, error) {
					if pk, err = optimize.Pack(in, &optimize.PackOptions{Seed: seed}); err != nil {
						return 0, err
					}
					return pk.NumActive(), nil
				}},
				{"producer PPN sets", func() (int, error) {
					sets := pk.ProducerPPNs(in)
					if sets.Shares() == 0 {
						return 0, fmt.Errorf("configurator plan-bench: no shares computed")
					}
					return pk.NumActive(), nil
				}},
			}
			for _, s := range steps {
				prog.say("scale |P|=%d |C|=%d: %s", P, C, s.name)
				start, cpu0 := time.Now(), cpuSeconds()
				k, err := s.run()
				secs, cpu := time.Since(start).Seconds(), cpuSeconds()-cpu0
				if err != nil {
					return err
				}
				if s.name == "greedy" {
					tGreedy = cpu
				}
				ratio, active := "—", "—"
				if tGreedy > 0 && (s.name == "greedy" || s.name == "pack") {
					ratio = fmt.Sprintf("%.2f", cpu/tGreedy)
				}
				if k > 0 {
					active = strconv.Itoa(k)
				}
				var ms runtime.MemStats
				runtime.ReadMemStats(&ms)
				fmt.Fprintf(w, "| %d | %d | %s | %.3f | %.3f | %s | %s | %s | %.0f |\n", P, C, s.name, secs, cpu, ratio, active, peakRSS(), float64(ms.HeapInuse)/(1<<20))
			}
		}
	}
	return nil
}

// peakRSS returns VmHWM from /proc/self/status in MiB, or "n/a".
func peakRSS() string {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return "n/a"
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(rest), " kB"))
			if err == nil {
				return fmt.Sprintf("%.0f", float64(kb)/1024)
			}
		}
	}
	return "n/a"
}

// cpuSeconds returns the process's user and system CPU time.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}
