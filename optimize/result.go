package optimize

import (
	"fmt"
	"math/bits"
	"runtime"
	"slices"
	"sync"
	"time"
)

// Result is a plan with the figures that qualify it. Every solver returns
// one; Check validates it against the instance.
type Result struct {
	// Solver names the method that produced the plan.
	Solver string
	// Status is the solver's verdict: "heuristic", "optimal", "stopped"
	// (time limit with a plan), or "no plan" (time limit without one).
	Status string
	// Active lists the PPNs that serve at least one consumer, ascending.
	Active []int
	// Consumers holds, for each consumer in instance order, the w PPN
	// indices that serve it, ascending. Nil when no plan was found.
	Consumers [][]int
	// Load is the number of sums per round of every candidate PPN,
	// Σ_c M_c·y_nc.
	Load []int64
	// LowerBound is the best proven lower bound on the number of active
	// PPNs: the combinatorial bound, raised by the MILP's best bound.
	LowerBound int
	// Optimal reports that the plan is proven optimal (len(Active) equals
	// LowerBound).
	Optimal bool
	// Seconds is the wall-clock time the solver took.
	Seconds float64
}

// NumActive returns the number of active PPNs, or 0 without a plan.
func (r *Result) NumActive() int { return len(r.Active) }

// Gap returns (active − bound)/active, the relative distance from the
// bound, or 1 without a plan.
func (r *Result) Gap() float64 {
	if len(r.Active) == 0 {
		return 1
	}
	return float64(len(r.Active)-r.LowerBound) / float64(len(r.Active))
}

// newResult builds a Result from an assignment, filling Active and Load.
func newResult(in *Instance, solver string, assign [][]int, bound int, start time.Time) *Result {
	r := &Result{Solver: solver, Status: "heuristic", Consumers: assign, LowerBound: bound}
	r.Load = make([]int64, in.Candidates())
	for c, ns := range assign {
		slices.Sort(ns)
		m := int64(in.Consumers[c].Producers.Len())
		for _, n := range ns {
			r.Load[n] += m
		}
	}
	for n, l := range r.Load {
		if l > 0 {
			r.Active = append(r.Active, n)
		}
	}
	r.Optimal = len(r.Active) == bound
	if r.Optimal {
		r.Status = "optimal"
	}
	r.Seconds = time.Since(start).Seconds()
	return r
}

// Check validates a plan against the instance: every consumer is served by
// exactly w distinct candidate PPNs, the reported loads are the true loads
// and within capacity, Active is exactly the PPNs with load, and the number
// of active PPNs is not below the combinatorial lower bound nor the
// reported one. A result without a plan passes only if it says so.
func Check(in *Instance, r *Result) error {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w: %s: "+format, append([]any{ErrPlan, r.Solver}, a...)...)
	}
	if r.Consumers == nil {
		if r.Status != "no plan" || len(r.Active) != 0 || r.Optimal {
			return bad("no assignment but status %q", r.Status)
		}
		return nil
	}
	if len(r.Consumers) != len(in.Consumers) {
		return bad("%d consumer assignments for %d consumers", len(r.Consumers), len(in.Consumers))
	}
	nc := in.Candidates()
	load := make([]int64, nc)
	for c, ns := range r.Consumers {
		id := in.Consumers[c].ID
		if len(ns) != in.W {
			return bad("consumer %q served by %d PPNs, want w = %d", id, len(ns), in.W)
		}
		for i, n := range ns {
			if n < 0 || n >= nc {
				return bad("consumer %q assigned to PPN %d, not a candidate (0..%d)", id, n, nc-1)
			}
			if slices.Contains(ns[:i], n) {
				return bad("consumer %q assigned twice to PPN %d", id, n)
			}
			load[n] += int64(in.Consumers[c].Producers.Len())
		}
	}
	if !slices.Equal(load, r.Load) {
		return bad("reported loads %v differ from the assignment's %v", r.Load, load)
	}
	var active []int
	for n, l := range load {
		if l > in.Capacity(n) {
			return bad("PPN %d load %d exceeds its capacity %d", n, l, in.Capacity(n))
		}
		if l > 0 {
			active = append(active, n)
		}
	}
	if !slices.Equal(active, r.Active) {
		return bad("reported active PPNs %v, the assignment uses %v", r.Active, active)
	}
	if lb := LowerBound(in); len(active) < lb || len(active) < r.LowerBound {
		return bad("%d active PPNs is below the lower bound (%d combinatorial, %d reported): the bound or the plan is wrong", len(active), lb, r.LowerBound)
	}
	if r.Optimal && len(active) != r.LowerBound {
		return bad("claims optimal with %d active PPNs but bound %d", len(active), r.LowerBound)
	}
	return nil
}

// ProducerSets is the per-producer PPN set of a plan, the x of the model:
// PPN n is in producer p's set iff p belongs to a consumer n serves. It is
// stored as one bitmask over the active PPNs per producer.
type ProducerSets struct {
	active []int // bit i ↔ PPN active[i]
	words  int
	bits   []uint64
}

// ProducerPPNs computes x by streaming every consumer's producer set once,
// in parallel; memory is |P|·⌈|active|/64⌉ words and A is never built.
func (r *Result) ProducerPPNs(in *Instance) *ProducerSets {
	ps := &ProducerSets{active: r.Active, words: (len(r.Active) + 63) / 64}
	ps.bits = make([]uint64, in.Producers*ps.words)
	pos := make(map[int]int, len(r.Active))
	for i, n := range r.Active {
		pos[n] = i
	}
	// Each worker owns a range of whole words, so workers never share one;
	// every worker replays each consumer's set over its own producer range.
	workers := runtime.GOMAXPROCS(0)
	chunk := (in.Producers + workers - 1) / workers
	var wg sync.WaitGroup
	for lo := 0; lo < in.Producers; lo += chunk {
		hi := min(lo+chunk, in.Producers)
		wg.Go(func() {
			if hs, ok := hashSets(in); ok {
				ps.fillHashed(hs, r, pos, lo, hi)
				return
			}
			for c, cons := range in.Consumers {
				mask := make([]uint64, ps.words)
				for _, n := range r.Consumers[c] {
					mask[pos[n]/64] |= 1 << (pos[n] % 64)
				}
				for p := range rangeOf(cons.Producers, lo, hi) {
					row := ps.bits[p*ps.words : (p+1)*ps.words]
					for i, m := range mask {
						row[i] |= m
					}
				}
			}
		})
	}
	wg.Wait()
	return ps
}

// PPNs returns the PPNs producer p sends shares to, ascending.
func (ps *ProducerSets) PPNs(p int) []int {
	var out []int
	for i, w := range ps.bits[p*ps.words : (p+1)*ps.words] {
		for w != 0 {
			b := bits.TrailingZeros64(w)
			out = append(out, ps.active[i*64+b])
			w &= w - 1
		}
	}
	return out
}

// Shares returns Σ_p Σ_n x_pn, the number of shares producers send per
// round.
func (ps *ProducerSets) Shares() int64 {
	var s int64
	for _, w := range ps.bits {
		s += int64(bits.OnesCount64(w))
	}
	return s
}

// hashSets returns the generated sets of in, if every set is generated.
func hashSets(in *Instance) ([]*hashSet, bool) {
	hs := make([]*hashSet, len(in.Consumers))
	for c, cons := range in.Consumers {
		h, ok := cons.Producers.(*hashSet)
		if !ok {
			return nil, false
		}
		hs[c] = h
	}
	return hs, true
}

// fillHashed computes the sets of producers lo..hi−1 producer by producer:
// membership of a generated set is a hash, so each producer's row is built
// in registers and written once.
func (ps *ProducerSets) fillHashed(hs []*hashSet, r *Result, pos map[int]int, lo, hi int) {
	masks := make([][]uint64, len(hs))
	for c := range hs {
		masks[c] = make([]uint64, ps.words)
		for _, n := range r.Consumers[c] {
			masks[c][pos[n]/64] |= 1 << (pos[n] % 64)
		}
	}
	for p := lo; p < hi; p++ {
		row := ps.bits[p*ps.words : (p+1)*ps.words]
		for c, h := range hs {
			// Branch-free: membership is a coin flip, which a branch
			// predictor gets wrong half the time.
			sel := -h.bit(p)
			for i, m := range masks[c] {
				row[i] |= m & sel
			}
		}
	}
}
