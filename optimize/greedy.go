package optimize

import (
	"cmp"
	"fmt"
	"slices"
	"time"
)

// Greedy is the heuristic of the paper's Fig. 3 as reconstructed from its
// description: the figure's pseudo-code was not available to us, so every
// choice below is ours, not the paper's (docs/minppn.md lists them, what
// was searched for the text, and how other readings compare):
//
//  1. Spread: every candidate PPN starts active. Consumers, in instance
//     order, each go to the w PPNs with the most residual capacity that
//     can take them (ties to the lower index).
//  2. Consolidate: repeatedly take the active PPN with the least load
//     (ties to the higher index) and move each of its consumers, largest
//     first, to the active PPN with the most residual capacity that does
//     not serve it yet and can take it. If every consumer moves, the PPN is
//     switched off and the step repeats; at the first PPN that cannot be
//     emptied the algorithm stops.
//
// PPNs left without load after spreading are inactive. The result depends
// on the number of candidates: with few spare ones the spread leaves no
// room to consolidate.
func Greedy(in *Instance) (*Result, error) {
	start := time.Now()
	sizes := in.Sizes()
	st := newState(in, sizes, in.Candidates())
	for c := range sizes {
		for range in.W {
			n := st.mostResidual(c, -1)
			if n < 0 {
				return nil, fmt.Errorf("%w: greedy: consumer %q fits fewer than w = %d of the %d candidates; add candidates or capacity", ErrInfeasible, in.Consumers[c].ID, in.W, in.Candidates())
			}
			st.place(c, n)
		}
	}
	on := make([]bool, len(st.load))
	for n, l := range st.load {
		on[n] = l > 0
	}
	st.on = on
	for {
		victim := -1
		for n := range st.load {
			if on[n] && (victim < 0 || st.load[n] <= st.load[victim]) {
				victim = n
			}
		}
		if victim < 0 || !st.empty(victim) {
			break
		}
		on[victim] = false
	}
	return newResult(in, "greedy", st.assignment(), LowerBound(in), start), nil
}

// state is a partial plan: which consumers each PPN serves and its load.
type state struct {
	in     *Instance
	sizes  []int64
	caps   []int64
	load   []int64
	serves [][]int // PPN → consumers
	on     []bool  // nil: every PPN may be used
}

func newState(in *Instance, sizes []int64, n int) *state {
	st := &state{in: in, sizes: sizes, caps: make([]int64, n), load: make([]int64, n), serves: make([][]int, n)}
	for i := range n {
		st.caps[i] = in.Capacity(i)
	}
	return st
}

func (st *state) residual(n int) int64 { return st.caps[n] - st.load[n] }

func (st *state) place(c, n int) {
	st.serves[n] = append(st.serves[n], c)
	st.load[n] += st.sizes[c]
}

func (st *state) remove(c, n int) {
	i := slices.Index(st.serves[n], c)
	st.serves[n] = slices.Delete(st.serves[n], i, i+1)
	st.load[n] -= st.sizes[c]
}

// mostResidual returns the usable PPN other than skip, not serving c, that
// fits c with the most residual capacity (lowest index on ties), or −1.
func (st *state) mostResidual(c, skip int) int {
	best := -1
	for n := range st.load {
		if n == skip || (st.on != nil && !st.on[n]) || st.residual(n) < st.sizes[c] || slices.Contains(st.serves[n], c) {
			continue
		}
		if best < 0 || st.residual(n) > st.residual(best) {
			best = n
		}
	}
	return best
}

// empty moves every consumer of PPN v elsewhere (largest first, each to
// the most residual PPN) and reports success; on failure it undoes the
// moves.
func (st *state) empty(v int) bool {
	cs := slices.Clone(st.serves[v])
	slices.SortStableFunc(cs, func(a, b int) int { return cmp.Compare(st.sizes[b], st.sizes[a]) })
	type move struct{ c, to int }
	var done []move
	for _, c := range cs {
		to := st.mostResidual(c, v)
		if to < 0 {
			for _, m := range slices.Backward(done) {
				st.remove(m.c, m.to)
				st.place(m.c, v)
			}
			return false
		}
		st.remove(c, v)
		st.place(c, to)
		done = append(done, move{c, to})
	}
	return true
}

// assignment returns, per consumer, the PPNs serving it.
func (st *state) assignment() [][]int {
	out := make([][]int, len(st.sizes))
	for n, cs := range st.serves {
		for _, c := range cs {
			out[c] = append(out[c], n)
		}
	}
	return out
}
