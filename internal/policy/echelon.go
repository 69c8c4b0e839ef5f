package policy

import (
	"container/heap"
	"slices"

	"github.com/ppnet/ppnet/sharing"
)

type elt = sharing.Element

var one = sharing.NewElement(1)

// sparse is a sparse vector over Z_q: strictly increasing indices.
type sparse struct {
	idx []int32
	val []elt
}

// echelon is the row space of a set of vectors over Z_q in reduced row
// echelon form, built incrementally. Rows may carry a combination vector
// (over the indices of the vectors added), which lets [echelon.reduce]
// say how a member of the span is made from the inputs.
type echelon struct {
	ncols  int
	rows   []sparse
	combos []sparse // nil unless tracking
	// deps lists, when tracking, one vanishing combination of the inputs
	// per input that did not enlarge the span (its own coefficient 1).
	deps     []sparse
	pivot    []int32 // pivot column of each row
	pivotRow []int32 // row of each pivot column, or −1
	track    bool
	nadded   int
	reduced  bool // rows fully reduced (after finish)

	dense   []elt // scratch, all zero between calls
	inUse   []bool
	touched []int32
	cdense  map[int32]elt // scratch for combinations
}

func newEchelon(ncols int, track bool) *echelon {
	e := &echelon{ncols: ncols, track: track, pivotRow: make([]int32, ncols),
		dense: make([]elt, ncols), inUse: make([]bool, ncols)}
	for i := range e.pivotRow {
		e.pivotRow[i] = -1
	}
	return e
}

// reset empties the echelon, keeping its scratch space.
func (e *echelon) reset() {
	for _, c := range e.pivot {
		e.pivotRow[c] = -1
	}
	e.rows, e.combos, e.pivot, e.deps = e.rows[:0], e.combos[:0], e.pivot[:0], e.deps[:0]
	e.nadded, e.reduced = 0, false
}

// rank is the dimension of the span.
func (e *echelon) rank() int { return len(e.rows) }

func (e *echelon) load(v sparse) {
	for k, c := range v.idx {
		e.dense[c] = e.dense[c].Add(v.val[k])
		if !e.inUse[c] {
			e.inUse[c] = true
			e.touched = append(e.touched, c)
		}
	}
}

// axpy subtracts m·row from the scratch vector, queuing new pivot hits.
func (e *echelon) subRow(m elt, row sparse, q *intHeap, queued map[int32]bool) {
	for k, c := range row.idx {
		e.dense[c] = e.dense[c].Sub(m.Mul(row.val[k]))
		if !e.inUse[c] {
			e.inUse[c] = true
			e.touched = append(e.touched, c)
		}
		if q != nil {
			if r := e.pivotRow[c]; r >= 0 && !queued[r] {
				queued[r] = true
				heap.Push(q, int(r))
			}
		}
	}
}

// unload returns the scratch vector as a sparse vector and clears it.
func (e *echelon) unload() sparse {
	slices.Sort(e.touched)
	var out sparse
	for _, c := range e.touched {
		if !e.dense[c].IsZero() {
			out.idx = append(out.idx, c)
			out.val = append(out.val, e.dense[c])
		}
		e.dense[c] = elt{}
		e.inUse[c] = false
	}
	e.touched = e.touched[:0]
	return out
}

func (e *echelon) comboAdd(m elt, c sparse) {
	for k, i := range c.idx {
		e.cdense[i] = e.cdense[i].Add(m.Mul(c.val[k]))
	}
}

func (e *echelon) comboUnload() sparse {
	keys := make([]int32, 0, len(e.cdense))
	for k, v := range e.cdense {
		if !v.IsZero() {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	out := sparse{idx: keys, val: make([]elt, len(keys))}
	for i, k := range keys {
		out.val[i] = e.cdense[k]
	}
	clear(e.cdense)
	return out
}

// add inserts v (the nadded-th input) and reports whether it enlarged the
// span. Rows keep the invariant that row i is zero at the pivots of rows
// before it; finish makes the form fully reduced.
func (e *echelon) add(v sparse) bool {
	id := e.nadded
	e.nadded++
	e.reduced = false
	e.load(v)
	if e.track {
		e.cdense = map[int32]elt{int32(id): one}
	}
	q := &intHeap{}
	queued := map[int32]bool{}
	for _, c := range v.idx {
		if r := e.pivotRow[c]; r >= 0 && !queued[r] {
			queued[r] = true
			heap.Push(q, int(r))
		}
	}
	for q.Len() > 0 {
		r := heap.Pop(q).(int)
		m := e.dense[e.pivot[r]]
		if m.IsZero() {
			continue
		}
		e.subRow(m, e.rows[r], q, queued)
		if e.track {
			e.comboAdd(m.Neg(), e.combos[r])
		}
	}
	w := e.unload()
	if len(w.idx) == 0 {
		if e.track {
			e.deps = append(e.deps, e.comboUnload())
		}
		return false
	}
	inv, _ := w.val[0].Inverse() // w.val[0] ≠ 0
	for k := range w.val {
		w.val[k] = w.val[k].Mul(inv)
	}
	e.pivotRow[w.idx[0]] = int32(len(e.rows))
	e.pivot = append(e.pivot, w.idx[0])
	e.rows = append(e.rows, w)
	if e.track {
		c := e.comboUnload()
		for k := range c.val {
			c.val[k] = c.val[k].Mul(inv)
		}
		e.combos = append(e.combos, c)
	}
	return true
}

// finish brings the rows to reduced row echelon form: every row is zero at
// every other row's pivot.
func (e *echelon) finish() {
	if e.reduced {
		return
	}
	for i := len(e.rows) - 1; i >= 0; i-- {
		row := e.rows[i]
		dirty := false
		for _, c := range row.idx {
			if r := e.pivotRow[c]; r >= 0 && int(r) != i {
				dirty = true
				break
			}
		}
		if !dirty {
			continue
		}
		e.load(row)
		if e.track {
			e.cdense = map[int32]elt{}
			e.comboAdd(one, e.combos[i])
		}
		for _, c := range row.idx {
			r := e.pivotRow[c]
			if r < 0 || int(r) == i {
				continue
			}
			m := e.dense[c]
			if m.IsZero() {
				continue
			}
			e.subRow(m, e.rows[r], nil, nil)
			if e.track {
				e.comboAdd(m.Neg(), e.combos[r])
			}
		}
		e.rows[i] = e.unload()
		if e.track {
			e.combos[i] = e.comboUnload()
		}
	}
	e.reduced = true
}

// reduce returns v minus its projection on the span along the pivots: the
// zero vector iff v lies in the span. With tracking, combo expresses
// v − rem as a combination of the inputs. Requires finish.
func (e *echelon) reduce(v sparse) (rem, combo sparse) {
	e.load(v)
	if e.track {
		e.cdense = map[int32]elt{}
	}
	for k, c := range v.idx {
		r := e.pivotRow[c]
		if r < 0 {
			continue
		}
		m := v.val[k]
		e.subRow(m, e.rows[r], nil, nil)
		if e.track {
			e.comboAdd(m, e.combos[r])
		}
	}
	rem = e.unload()
	if e.track {
		combo = e.comboUnload()
	}
	return rem, combo
}

// fingerprints returns, for each column c, ρ(red(e_c)) for nf random
// linear functionals ρ given by rho (ncols·nf values): a linear image of
// the reduction, so Σ_c x_c·fp(c) = 0 whenever x lies in the span, and
// otherwise only with probability q^−nf. Requires finish.
func (e *echelon) fingerprints(rho []elt, nf int) []elt {
	fp := make([]elt, e.ncols*nf)
	for c := 0; c < e.ncols; c++ {
		r := e.pivotRow[c]
		if r < 0 {
			copy(fp[c*nf:(c+1)*nf], rho[c*nf:(c+1)*nf])
			continue
		}
		row := e.rows[r]
		for k, cc := range row.idx {
			if int(cc) == c {
				continue
			}
			for f := 0; f < nf; f++ {
				fp[c*nf+f] = fp[c*nf+f].Sub(row.val[k].Mul(rho[int(cc)*nf+f]))
			}
		}
	}
	return fp
}

type intHeap []int

func (h intHeap) Len() int           { return len(h) }
func (h intHeap) Less(i, j int) bool { return h[i] < h[j] }
func (h intHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *intHeap) Push(x any)        { *h = append(*h, x.(int)) }
func (h *intHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}
