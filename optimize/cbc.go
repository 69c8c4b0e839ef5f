package optimize

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// ILPOptions tune SolveILP; nil means defaults.
type ILPOptions struct {
	// Model is the formulation (default ModelReduced).
	Model Model
	// TimeLimit stops CBC after this much wall time (default 60 s; CBC runs
	// with timeMode elapsed, so a loaded machine does not stretch it); the
	// result then carries the best plan and bound found.
	TimeLimit time.Duration
	// CBC is the solver binary (default "cbc" on PATH).
	CBC string
	// Dir holds the model and solution files (default a fresh temporary
	// directory, removed afterwards).
	Dir string
	// Pack tunes the heuristic run first (for LimitCandidates and MIPStart).
	Pack *PackOptions
	// LimitCandidates, when PPNs are alike, builds the model on the first
	// u candidates only, u = Pack's count (safe: any plan with k ≤ u PPNs
	// can be relabelled onto them). By default the model has every
	// candidate: the limit shrinks the model but was measured to slow CBC
	// down badly (docs/minppn.md).
	LimitCandidates bool
	// AllCandidates keeps every candidate PPN in the model, as the paper's
	// formulation does. That is now the default; the field is kept for
	// callers that set it, and overrides LimitCandidates.
	AllCandidates bool
	// MIPStart hands Pack's plan to CBC as a starting incumbent (its y and
	// z; CBC completes the rest), so a time limit still returns a plan.
	MIPStart bool
}

// CBCReport is what CBC said, parsed from its log and solution file.
type CBCReport struct {
	// Status is CBC's verdict: "optimal", "stopped", "infeasible" or
	// "unknown".
	Status string
	// Objective is the incumbent's objective, NaN without one.
	Objective float64
	// Bound is CBC's best lower bound.
	Bound float64
	// Values maps variable names to their nonzero values.
	Values map[string]float64
}

// SolveILP solves minPPN exactly with COIN-OR CBC. It runs Pack first (its
// plan is the MIP start with MIPStart, and its count the candidate limit
// with LimitCandidates), writes the LP file on every candidate, runs
// `cbc model.lp timeMode elapsed sec T ratioGap 0 solve solu out.txt`,
// parses status, objective, bound and solution, and checks the plan with
// Check: a plan CBC returns that breaks the model is an error, not a
// result.
func SolveILP(ctx context.Context, in *Instance, opt *ILPOptions) (*Result, *CBCReport, error) {
	start := time.Now()
	o := ILPOptions{Model: ModelReduced, TimeLimit: time.Minute, CBC: "cbc"}
	if opt != nil {
		o = *opt
		o.Model = cmpOr(o.Model, ModelReduced)
		o.TimeLimit = cmpOr(o.TimeLimit, time.Minute)
		o.CBC = cmpOr(o.CBC, "cbc")
	}
	h, err := Pack(in, o.Pack)
	if err != nil {
		return nil, nil, err
	}
	if _, err := exec.LookPath(o.CBC); err != nil {
		return nil, nil, fmt.Errorf("%w: CBC not found (%v); install COIN-OR CBC with bash scripts/setup.sh (apt-get install coinor-cbc) or give its path", ErrSolver, err)
	}
	dir := o.Dir
	if dir == "" {
		if dir, err = os.MkdirTemp("", "minppn-"); err != nil {
			return nil, nil, fmt.Errorf("optimize: temporary directory for CBC: %w", err)
		}
		defer os.RemoveAll(dir)
	}
	lpPath, solPath := filepath.Join(dir, "model.lp"), filepath.Join(dir, "solution.txt")
	f, err := os.Create(lpPath)
	if err != nil {
		return nil, nil, fmt.Errorf("optimize: writing model: %w", err)
	}
	lpOpt := &LPOptions{Model: o.Model}
	if o.LimitCandidates && !o.AllCandidates {
		lpOpt.MaxPPNs = len(h.Active)
	}
	if err := errors.Join(WriteLP(f, in, lpOpt), f.Close()); err != nil {
		return nil, nil, fmt.Errorf("optimize: writing model: %w", err)
	}
	secs := strconv.FormatFloat(math.Max(1, o.TimeLimit.Seconds()), 'f', 0, 64)
	args := []string{lpPath}
	if o.MIPStart {
		startPath := filepath.Join(dir, "start.txt")
		if err := os.WriteFile(startPath, mipStart(in, h), 0o644); err != nil {
			return nil, nil, fmt.Errorf("optimize: writing MIP start: %w", err)
		}
		args = append(args, "mips", startPath)
	}
	// CBC's sec counts CPU time unless timeMode says otherwise.
	args = append(args, "timeMode", "elapsed", "sec", secs, "ratioGap", "0", "solve", "solu", solPath)
	cmd := exec.CommandContext(ctx, o.CBC, args...)
	var log bytes.Buffer
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Run(); err != nil {
		return nil, nil, fmt.Errorf("%w: %s: %v\n%s", ErrSolver, o.CBC, err, tail(log.String(), 20))
	}
	rep, err := parseCBC(log.String(), solPath)
	if err != nil {
		return nil, nil, err
	}
	r, err := resultFromCBC(in, rep, modelPPNs(in, *lpOpt), string(o.Model))
	if err != nil {
		return nil, rep, err
	}
	r.Seconds = time.Since(start).Seconds()
	if err := Check(in, r); err != nil {
		return nil, rep, fmt.Errorf("optimize: CBC's answer fails the check: %w", err)
	}
	return r, rep, nil
}

func cmpOr[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// parseCBC reads CBC's log (status, bound) and solution file (values).
func parseCBC(log, solPath string) (*CBCReport, error) {
	rep := &CBCReport{Status: "unknown", Objective: math.NaN(), Bound: math.NaN(), Values: map[string]float64{}}
	for _, line := range strings.Split(log, "\n") {
		key, val, ok := strings.Cut(line, ":")
		val = strings.TrimSpace(val)
		switch {
		case strings.HasPrefix(line, "Result - Optimal solution found"):
			rep.Status = "optimal"
		case strings.HasPrefix(line, "Result - Stopped on time"):
			rep.Status = "stopped"
		case strings.HasPrefix(line, "Result - Problem proven infeasible"), strings.HasPrefix(line, "Result - Linear relaxation infeasible"),
			strings.HasPrefix(line, "Problem is infeasible"):
			rep.Status = "infeasible"
		case ok && key == "Objective value":
			rep.Objective = parseFloat(val)
		case ok && key == "Lower bound":
			rep.Bound = parseFloat(val)
		}
	}
	if rep.Status == "optimal" {
		rep.Bound = rep.Objective
	}
	if rep.Status == "unknown" {
		return nil, fmt.Errorf("%w: no result line in CBC's output:\n%s", ErrSolver, tail(log, 20))
	}
	if rep.Status == "infeasible" {
		return rep, nil
	}
	data, err := os.ReadFile(solPath)
	if err != nil {
		return nil, fmt.Errorf("%w: reading CBC's solution: %v", ErrSolver, err)
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 1<<20)
	first := true
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if first {
			first = false
			if strings.Contains(sc.Text(), "no integer solution") {
				rep.Objective = math.NaN()
				return rep, nil
			}
			continue
		}
		if len(f) > 0 && f[0] == "**" {
			f = f[1:]
		}
		if len(f) < 3 {
			continue
		}
		v, err := strconv.ParseFloat(f[2], 64)
		if err != nil {
			return nil, fmt.Errorf("%w: solution line %q: %v", ErrSolver, sc.Text(), err)
		}
		if v != 0 {
			rep.Values[f[1]] = v
		}
	}
	return rep, sc.Err()
}

func parseFloat(s string) float64 {
	v, err := strconv.ParseFloat(strings.Fields(s + " x")[0], 64)
	if err != nil {
		return math.NaN()
	}
	return v
}

// resultFromCBC turns CBC's y values into a plan.
func resultFromCBC(in *Instance, rep *CBCReport, N int, model string) (*Result, error) {
	bound := LowerBound(in)
	if !math.IsNaN(rep.Bound) {
		bound = max(bound, int(math.Ceil(rep.Bound-1e-6)))
	}
	if rep.Status == "infeasible" {
		return nil, fmt.Errorf("%w: CBC proved the model infeasible; add candidates or capacity", ErrInfeasible)
	}
	if math.IsNaN(rep.Objective) || len(rep.Values) == 0 {
		return &Result{Solver: "ilp-" + model, Status: "no plan", LowerBound: bound}, nil
	}
	assign := make([][]int, len(in.Consumers))
	for c := range assign {
		for n := range N {
			if rep.Values[yName(n, c)] > 0.5 {
				assign[c] = append(assign[c], n)
			}
		}
	}
	r := newResult(in, "ilp-"+model, assign, bound, time.Now())
	r.Status = rep.Status
	r.Optimal = len(r.Active) == bound
	return r, nil
}

// mipStart writes plan h in CBC's solution format, as the values of z and
// y. With interchangeable PPNs the reduced model orders z_n ≥ z_{n+1},
// fixes the largest consumer to PPNs 0..w−1 (writeCuts) and may keep only
// the first candidates, so the plan is relabelled onto PPNs 0..k−1: that
// consumer's PPNs first, then the other active ones.
func mipStart(in *Instance, h *Result) []byte {
	label := make(map[int]int, len(h.Active))
	if in.Uniform() {
		sizes := in.Sizes()
		big := 0
		for c := range sizes {
			if sizes[c] > sizes[big] {
				big = c
			}
		}
		for _, n := range h.Consumers[big] {
			label[n] = len(label)
		}
		for _, n := range h.Active {
			if _, ok := label[n]; !ok {
				label[n] = len(label)
			}
		}
	} else {
		for _, n := range h.Active {
			label[n] = n
		}
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "Feasible - objective value %d\n", len(h.Active))
	i := 0
	for _, n := range h.Active {
		fmt.Fprintf(&b, "%d %s 1\n", i, zName(label[n]))
		i++
	}
	for c, ns := range h.Consumers {
		for _, n := range ns {
			fmt.Fprintf(&b, "%d %s 1\n", i, yName(label[n], c))
			i++
		}
	}
	return b.Bytes()
}
