package optimize

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
)

// Model selects the MILP formulation written by WriteLP.
type Model string

// The formulations.
const (
	// ModelReduced drops x (it follows from y and A), puts z on the right
	// of the capacity row, adds Σ_n z_n ≥ LowerBound and, when all PPNs are
	// alike, the symmetry breaking z_n ≥ z_{n+1} and the largest consumer
	// fixed to PPNs 0..w−1.
	ModelReduced Model = "reduced"
	// ModelFull is the paper's formulation: x_pn, y_nc and z_n, linking
	// rows y_nc ≤ x_pn for every p in c, and its capacity row (7) on the
	// sums, Σ_c M_c·y_nc ≤ L_n (M_c = Σ_p A_pc), on y and without z. No
	// symmetry breaking. Its LP relaxation is w.
	ModelFull Model = "full"
)

// LPOptions tune WriteLP; nil means defaults.
type LPOptions struct {
	// Model is the formulation (default ModelReduced).
	Model Model
	// MaxPPNs, when positive and PPNs are alike, limits the model to the
	// first MaxPPNs candidates: with interchangeable PPNs any plan with k
	// active PPNs can be relabelled onto the first k, so a heuristic's count
	// is a safe limit that shrinks the model. Zero (the default, and what
	// SolveILP uses unless ILPOptions.LimitCandidates) keeps every
	// candidate.
	MaxPPNs int
}

// ModelSize returns the number of rows (constraints) and columns
// (variables) that WriteLP writes for in, without writing it: a planner can
// see beforehand that the full model at 10^4 producers is tens of millions
// of rows. The full model's count streams over the producer sets.
func ModelSize(in *Instance, opt *LPOptions) (rows, cols int64) {
	o := LPOptions{Model: ModelReduced}
	if opt != nil {
		o = *opt
		o.Model = cmpOr(o.Model, ModelReduced)
	}
	N, C := int64(modelPPNs(in, o)), int64(len(in.Consumers))
	rows = C + N*C + N // assignment, y ≤ z, capacity
	cols = N + N*C     // z, y
	if o.Model == ModelFull {
		var links, used int64
		for _, m := range in.Sizes() {
			links += m
		}
		for range usedProducers(in) {
			used++
		}
		return rows + links*N, cols + used*N
	}
	rows++ // Σ z ≥ bound
	if in.Uniform() {
		rows += max(N-1, 0) + int64(in.W) // z_n ≥ z_{n+1}, fixed largest consumer
	}
	return rows, cols
}

// yName, zName and xName name the model's variables; resultFromCBC reads
// the solution back by the same names.
func yName(n, c int) string { return "y" + strconv.Itoa(n) + "_" + strconv.Itoa(c) }
func zName(n int) string    { return "z" + strconv.Itoa(n) }
func xName(p, n int) string { return "x" + strconv.Itoa(p) + "_" + strconv.Itoa(n) }

// modelPPNs returns how many candidates the model uses.
func modelPPNs(in *Instance, o LPOptions) int {
	n := in.Candidates()
	if o.MaxPPNs > 0 && in.Uniform() {
		n = min(n, max(o.MaxPPNs, in.W))
	}
	return n
}

// WriteLP writes minPPN as a MILP in CPLEX LP format, which CBC, HiGHS,
// Gurobi and CPLEX all read. Capacity rows are divided by L_n, so their
// coefficients are M_c/L_n ≤ 1: raw coefficients in the millions were seen
// to mislead CBC into wrong "optimal" answers.
func WriteLP(w io.Writer, in *Instance, opt *LPOptions) error {
	o := LPOptions{Model: ModelReduced}
	if opt != nil {
		o = *opt
		if o.Model == "" {
			o.Model = ModelReduced
		}
	}
	if o.Model != ModelReduced && o.Model != ModelFull {
		return fmt.Errorf("%w: unknown model %q; use %q or %q", ErrInstance, o.Model, ModelReduced, ModelFull)
	}
	bw := bufio.NewWriter(w)
	lw := &lpWriter{w: bw}
	N, C := modelPPNs(in, o), len(in.Consumers)
	sizes := in.Sizes()
	fmt.Fprintf(bw, "\\ minPPN (%s model): %d producers, %d consumers, %d candidate PPNs, w = %d\n", o.Model, in.Producers, C, N, in.W)
	fmt.Fprintf(bw, "Minimize\n obj:")
	for n := range N {
		lw.term(1, zName(n))
	}
	lw.end("")
	fmt.Fprintf(bw, "Subject To\n")
	for c := range C {
		fmt.Fprintf(bw, " a%d:", c)
		for n := range N {
			lw.term(1, yName(n, c))
		}
		lw.end(" = " + strconv.Itoa(in.W))
	}
	for n := range N {
		for c := range C {
			fmt.Fprintf(bw, " u%d_%d: %s - %s <= 0\n", n, c, yName(n, c), zName(n))
		}
	}
	for n := range N {
		fmt.Fprintf(bw, " cap%d:", n)
		L := float64(in.Capacity(n))
		for c := range C {
			lw.term(float64(sizes[c])/L, yName(n, c))
		}
		if o.Model == ModelFull {
			lw.end(" <= 1")
		} else {
			lw.term(-1, zName(n))
			lw.end(" <= 0")
		}
	}
	if o.Model == ModelFull {
		writeLinks(bw, in, N)
	} else {
		writeCuts(bw, lw, in, N, sizes)
	}
	fmt.Fprintf(bw, "Binaries\n")
	for n := range N {
		lw.term(0, zName(n))
		for c := range C {
			lw.term(0, yName(n, c))
		}
	}
	lw.end("")
	if o.Model == ModelFull {
		for p := range usedProducers(in) {
			for n := range N {
				lw.term(0, xName(p, n))
			}
		}
		lw.end("")
	}
	fmt.Fprintf(bw, "End\n")
	return bw.Flush()
}

// writeLinks writes the paper's x rows, y_nc − x_pn ≤ 0 for p in c.
func writeLinks(bw *bufio.Writer, in *Instance, N int) {
	for c, cons := range in.Consumers {
		for p := range cons.Producers.All() {
			for n := range N {
				fmt.Fprintf(bw, " f%d_%d_%d: %s - %s <= 0\n", p, n, c, yName(n, c), xName(p, n))
			}
		}
	}
}

// writeCuts writes the reduced model's valid inequalities.
func writeCuts(bw *bufio.Writer, lw *lpWriter, in *Instance, N int, sizes []int64) {
	fmt.Fprintf(bw, " lb:")
	for n := range N {
		lw.term(1, zName(n))
	}
	lw.end(" >= " + strconv.Itoa(LowerBound(in)))
	if !in.Uniform() {
		return
	}
	for n := 0; n+1 < N; n++ {
		fmt.Fprintf(bw, " s%d: %s - %s >= 0\n", n, zName(n), zName(n+1))
	}
	big := 0
	for c := range sizes {
		if sizes[c] > sizes[big] {
			big = c
		}
	}
	for n := range in.W {
		fmt.Fprintf(bw, " fix%d: %s = 1\n", n, yName(n, big))
	}
}

// usedProducers yields each producer that some consumer aggregates once.
func usedProducers(in *Instance) func(func(int) bool) {
	return func(yield func(int) bool) {
		seen := make([]bool, in.Producers)
		for _, c := range in.Consumers {
			for p := range c.Producers.All() {
				seen[p] = true
			}
		}
		for p, s := range seen {
			if s && !yield(p) {
				return
			}
		}
	}
}

// lpWriter writes linear expressions a few terms per line, since LP
// readers limit line length.
type lpWriter struct {
	w     *bufio.Writer
	terms int
}

func (l *lpWriter) term(coef float64, name string) {
	if l.terms > 0 && l.terms%8 == 0 {
		l.w.WriteString("\n  ")
	}
	l.terms++
	switch {
	case coef == 0: // bare name, in a Binaries list
		l.w.WriteString(" " + name)
	case coef == 1:
		l.w.WriteString(" + " + name)
	case coef == -1:
		l.w.WriteString(" - " + name)
	default:
		l.w.WriteString(" + " + strconv.FormatFloat(coef, 'g', 15, 64) + " " + name)
	}
}

func (l *lpWriter) end(rhs string) {
	l.w.WriteString(rhs + "\n")
	l.terms = 0
}
