package optimize

import (
	"bufio"
	"bytes"
	"context"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestParseCBC(t *testing.T) {
	tests := []struct {
		name      string
		status    string
		objective float64 // NaN: no incumbent
		bound     float64
		values    int
	}{
		{"optimal", "optimal", 6, 6, 1},
		{"stopped", "stopped", math.NaN(), 54, 0},
		{"infeasible", "infeasible", math.NaN(), math.NaN(), 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			log, err := os.ReadFile(filepath.Join("testdata", "cbc-"+tt.name+".log"))
			if err != nil {
				t.Fatal(err)
			}
			rep, err := parseCBC(string(log), filepath.Join("testdata", "cbc-"+tt.name+".sol"))
			if err != nil {
				t.Fatal(err)
			}
			same := func(a, b float64) bool { return a == b || math.IsNaN(a) && math.IsNaN(b) }
			if rep.Status != tt.status || !same(rep.Objective, tt.objective) || !same(rep.Bound, tt.bound) {
				t.Errorf("got status %q objective %v bound %v, want %q %v %v", rep.Status, rep.Objective, rep.Bound, tt.status, tt.objective, tt.bound)
			}
			if (len(rep.Values) > 0) != (tt.values > 0) {
				t.Errorf("%d values parsed", len(rep.Values))
			}
		})
	}
	if _, err := parseCBC("Welcome to the CBC MILP Solver\n", "/nonexistent"); err == nil {
		t.Error("a log without a result line parsed without error")
	}
}

// TestWriteLPScaled checks that capacity rows are normalised by L: every
// coefficient of y in a cap row is M_c/L ≤ 1.
func TestWriteLPScaled(t *testing.T) {
	in, err := Generate(GenOptions{Producers: 100000, Consumers: 5, Seed: 2})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range []Model{ModelReduced, ModelFull} {
		if m == ModelFull {
			in, _ = Generate(GenOptions{Producers: 200, Consumers: 5, Seed: 2})
		}
		var buf bytes.Buffer
		if err := WriteLP(&buf, in, &LPOptions{Model: m, MaxPPNs: 6}); err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(&buf)
		inCap, caps := false, 0
		for sc.Scan() {
			line := sc.Text()
			if strings.HasPrefix(line, " cap") {
				inCap, caps = true, caps+1
			} else if !strings.HasPrefix(line, "  ") {
				inCap = false
			}
			if !inCap {
				continue
			}
			for _, f := range strings.Fields(line) {
				if v, err := strconv.ParseFloat(f, 64); err == nil && v > 1 {
					t.Fatalf("%s: capacity coefficient %v > 1 in %q", m, v, line)
				}
			}
		}
		if caps != 6 {
			t.Errorf("%s: %d capacity rows, want 6 (MaxPPNs)", m, caps)
		}
	}
	if err := WriteLP(&bytes.Buffer{}, in, &LPOptions{Model: "dense"}); err == nil {
		t.Error("unknown model accepted")
	}
}

// TestSolveILP runs the real CBC on small instances and compares its
// optimum with the exact search (or brute force for per-PPN capacities).
func TestSolveILP(t *testing.T) {
	ctx := context.Background()
	paper, err := Generate(GenOptions{Producers: 100, Consumers: 10, Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	hard, err := Generate(GenOptions{Family: FamilyHard, Producers: 200, Consumers: 8, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		in    *Instance
		model Model
	}{
		{"tiny reduced", readTestInstance(t, "tiny.json"), ModelReduced},
		{"tiny full", readTestInstance(t, "tiny.json"), ModelFull},
		{"capacities reduced", readTestInstance(t, "capacities.json"), ModelReduced},
		{"paper reduced", paper, ModelReduced},
		{"paper full", paper, ModelFull},
		{"hard reduced", hard, ModelReduced},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, rep, err := SolveILP(ctx, tt.in, &ILPOptions{Model: tt.model, TimeLimit: 5 * time.Second, Dir: t.TempDir()})
			if err != nil {
				t.Fatal(err)
			}
			var opt int
			if tt.in.Uniform() {
				e, err := Exact(ctx, tt.in, &ExactOptions{TimeLimit: 10 * time.Second})
				if err != nil || !e.Optimal {
					t.Fatalf("exact: %v (optimal %v)", err, e != nil && e.Optimal)
				}
				opt = len(e.Active)
			} else {
				opt = bruteForce(tt.in)
			}
			t.Logf("CBC %s: status %s objective %v bound %v; plan %d PPNs, optimum %d", tt.model, rep.Status, rep.Objective, rep.Bound, r.NumActive(), opt)
			if r.LowerBound > opt {
				t.Fatalf("bound %d above the optimum %d", r.LowerBound, opt)
			}
			if r.Consumers != nil && r.NumActive() < opt {
				t.Fatalf("plan with %d PPNs below the optimum %d", r.NumActive(), opt)
			}
			if rep.Status == "optimal" && (!r.Optimal || r.NumActive() != opt) {
				t.Fatalf("CBC optimal with %d PPNs (Optimal=%v), optimum %d", r.NumActive(), r.Optimal, opt)
			}
			if tt.model == ModelReduced && rep.Status != "optimal" {
				t.Errorf("reduced model not solved to optimality in 5 s on a small instance: %s", rep.Status)
			}
		})
	}
}

// TestSolveILPStart gives CBC pack's plan as a MIP start on a hard
// instance with 50 consumers where pack is one PPN above the bound (CBC
// alone rarely finds a plan there in its time limit): with the start it
// must return a valid plan no worse than pack's.
func TestSolveILPStart(t *testing.T) {
	in, err := Generate(GenOptions{Family: FamilyHard, Producers: 200, Consumers: 50, Seed: 26})
	if err != nil {
		t.Fatal(err)
	}
	p, err := Pack(in, nil)
	if err != nil {
		t.Fatal(err)
	}
	if p.NumActive() == p.LowerBound {
		t.Fatal("pack is optimal here; the test needs an instance where it is not")
	}
	for _, m := range []Model{ModelReduced} {
		r, rep, err := SolveILP(context.Background(), in, &ILPOptions{Model: m, TimeLimit: 2 * time.Second, Dir: t.TempDir(), MIPStart: true})
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: pack %d, CBC %s with %d PPNs, bound %d", m, p.NumActive(), rep.Status, r.NumActive(), r.LowerBound)
		if r.Consumers == nil || r.NumActive() > p.NumActive() {
			t.Errorf("%s: with pack's plan as start CBC returned %d PPNs (pack %d)", m, r.NumActive(), p.NumActive())
		}
	}
}

func TestSolveILPMissingSolver(t *testing.T) {
	in := readTestInstance(t, "tiny.json")
	_, _, err := SolveILP(context.Background(), in, &ILPOptions{CBC: filepath.Join(t.TempDir(), "no-cbc"), Dir: t.TempDir()})
	if err == nil || !strings.Contains(err.Error(), "scripts/setup.sh") {
		t.Fatalf("error %v, want one naming the install step", err)
	}
}

// TestSolveILPArgs runs SolveILP against a stand-in for cbc that records
// its arguments: CBC's time limit must be wall time (timeMode elapsed
// before sec), and the model must hold every candidate unless
// LimitCandidates asks for pack's count.
func TestSolveILPArgs(t *testing.T) {
	in, err := Generate(GenOptions{Family: FamilyHard, Producers: 100, Consumers: 10, Seed: 5})
	if err != nil {
		t.Fatal(err)
	}
	p, err := Pack(in, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		opt  ILPOptions
		want int // capacity rows
	}{
		{"default", ILPOptions{}, in.Candidates()},
		{"limited", ILPOptions{LimitCandidates: true}, p.NumActive()},
		{"all overrides limit", ILPOptions{LimitCandidates: true, AllCandidates: true}, in.Candidates()},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			fake := filepath.Join(dir, "cbc")
			script := "#!/bin/sh\necho \"$@\" > " + filepath.Join(dir, "args") + "\nexit 1\n"
			if err := os.WriteFile(fake, []byte(script), 0o755); err != nil {
				t.Fatal(err)
			}
			o := tt.opt
			o.CBC, o.Dir, o.TimeLimit = fake, dir, 7*time.Second
			if _, _, err := SolveILP(context.Background(), in, &o); err == nil {
				t.Fatal("a failing solver gave no error")
			}
			args, err := os.ReadFile(filepath.Join(dir, "args"))
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(args), "timeMode elapsed sec 7 ") {
				t.Errorf("cbc arguments %q lack timeMode elapsed before sec 7", args)
			}
			lp, err := os.ReadFile(filepath.Join(dir, "model.lp"))
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Count(string(lp), "\n cap"); got != tt.want {
				t.Errorf("%d capacity rows, want %d", got, tt.want)
			}
		})
	}
}

// TestModelSize counts the rows and columns of written LP files.
func TestModelSize(t *testing.T) {
	for _, tt := range []struct {
		name string
		in   *Instance
	}{
		{"tiny", readTestInstance(t, "tiny.json")},
		{"capacities", readTestInstance(t, "capacities.json")},
	} {
		for _, opt := range []LPOptions{{Model: ModelReduced}, {Model: ModelFull}, {Model: ModelReduced, MaxPPNs: 3}, {Model: ModelFull, MaxPPNs: 3}} {
			var buf bytes.Buffer
			if err := WriteLP(&buf, tt.in, &opt); err != nil {
				t.Fatal(err)
			}
			rows, cols := countLP(t, buf.String())
			wr, wc := ModelSize(tt.in, &opt)
			if rows != wr || cols != wc {
				t.Errorf("%s %+v: ModelSize says %d rows × %d cols, the file has %d × %d", tt.name, opt, wr, wc, rows, cols)
			}
		}
	}
}

// countLP counts the constraints (named rows under Subject To) and the
// distinct variables (names under Binaries) of an LP file WriteLP wrote.
func countLP(t *testing.T, lp string) (rows, cols int64) {
	t.Helper()
	section := ""
	vars := map[string]bool{}
	for _, line := range strings.Split(lp, "\n") {
		switch strings.TrimSpace(line) {
		case "Subject To", "Binaries", "End", "Minimize":
			section = strings.TrimSpace(line)
			continue
		}
		switch {
		case section == "Subject To" && strings.HasPrefix(line, " ") && !strings.HasPrefix(line, "  ") && strings.Contains(line, ":"):
			rows++
		case section == "Binaries":
			for _, f := range strings.Fields(line) {
				vars[f] = true
			}
		}
	}
	return rows, int64(len(vars))
}

// TestILPAgainstExact compares CBC with the exact search on medium hard
// instances (100 producers, 10 consumers): seed 1, where the optimum meets
// LowerBound, and seeds 5 and 15, where it is one above and both solvers
// must prove the higher bound. It needs the real CBC: without it, it
// fails.
func TestILPAgainstExact(t *testing.T) {
	ctx := context.Background()
	for _, tt := range []struct {
		seed  uint64
		model Model
	}{{1, ModelReduced}, {5, ModelReduced}, {15, ModelReduced}, {1, ModelFull}} {
		t.Run(string(tt.model)+"-"+strconv.FormatUint(tt.seed, 10), func(t *testing.T) {
			in, err := Generate(GenOptions{Family: FamilyHard, Producers: 100, Consumers: 10, Seed: tt.seed})
			if err != nil {
				t.Fatal(err)
			}
			e, err := Exact(ctx, in, &ExactOptions{TimeLimit: time.Minute})
			if err != nil || !e.Optimal {
				t.Fatalf("exact: %v (optimal %v)", err, e != nil && e.Optimal)
			}
			r, rep, err := SolveILP(ctx, in, &ILPOptions{Model: tt.model, TimeLimit: time.Minute, Dir: t.TempDir()})
			if err != nil {
				t.Fatal(err)
			}
			opt := e.NumActive()
			t.Logf("CBC %s: %s, %d PPNs, bound %v, %.1f s; exact %d (LowerBound %d)", tt.model, rep.Status, r.NumActive(), rep.Bound, r.Seconds, opt, LowerBound(in))
			if r.LowerBound > opt || (r.Consumers != nil && r.NumActive() < opt) {
				t.Fatalf("CBC: plan %d PPNs, bound %d; the optimum is %d", r.NumActive(), r.LowerBound, opt)
			}
			if rep.Status != "optimal" || r.NumActive() != opt || !r.Optimal {
				t.Errorf("CBC did not prove the optimum %d within a minute: %s, %d PPNs", opt, rep.Status, r.NumActive())
			}
		})
	}
}
