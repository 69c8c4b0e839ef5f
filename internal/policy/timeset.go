package policy

import (
	"cmp"
	"slices"
)

// maxEnum bounds the exhaustive part of the band search: when V(u) has
// dimension ≤ maxEnum, all 2^dim 0/1 combinations of its reduced basis are
// tried.
const maxEnum = 8

// bandSearch looks for band-shaped leaks that runs of time atoms miss.
// For each producer candidate u (a single atom, a rule's producer set, one
// producer of a per-producer group) it computes exactly
// V(u) = {t : u ⊗ t derivable} and tries the 0/1 vectors among the rows of
// its reduced row echelon form, in two column orders (by first round, and
// by round of the day then first round), and all 0/1 combinations of those
// rows when dim V(u) ≤ maxEnum. True if a leak was recorded.
func (sr *search) bandSearch() bool {
	B := len(sr.s.times)
	orders := [][]int{between(0, B)}
	if sr.p.RoundsPerDay > 0 {
		byDay := between(0, B)
		slices.SortStableFunc(byDay, func(x, y int) int {
			tx, ty := sr.s.times[x].first, sr.s.times[y].first
			return cmp.Or(cmp.Compare(tx%sr.p.RoundsPerDay, ty%sr.p.RoundsPerDay), cmp.Compare(tx, ty))
		})
		orders = append(orders, byDay)
	}
	col := newEchelon(sr.ech.ncols, true)
	try := func(atoms []int, size int) bool {
		col.reset()
		for b := 0; b < B; b++ {
			col.add(sr.reducedColumn(atoms, b))
		}
		for _, t := range zeroOneVectors(col.deps, orders, B) {
			sr.rep.Stats.Candidates++
			if limit := sr.sizeLimit(sr.extent(t)); size <= limit && sr.atomLeak(slices.Clone(atoms), t) {
				return true
			}
		}
		return false
	}
	for a, pa := range sr.s.prods {
		if try([]int{a}, len(pa.members)) {
			return true
		}
	}
	for i, atoms := range sr.s.ruleAtoms {
		if len(atoms) > 1 && try(atoms, len(sr.p.Rules[sr.s.rules[i]].Producers)) {
			return true
		}
	}
	for _, g := range sr.groups {
		for _, t := range zeroOneVectors(g.ech.rows, orders, B) {
			sr.rep.Stats.Candidates++
			if sr.sizeLimit(sr.extent(t)) >= 1 && sr.ppLeak(g, t) {
				return true
			}
		}
	}
	return false
}

// extent is last − first + 1 over the rounds of the time atoms t.
func (sr *search) extent(t []int) int {
	lo, hi := sr.s.times[t[0]].first, sr.s.times[t[0]].last
	for _, b := range t[1:] {
		lo, hi = min(lo, sr.s.times[b].first), max(hi, sr.s.times[b].last)
	}
	return hi - lo + 1
}

// reducedColumn returns red(u ⊗ e_b) = Σ_{a∈u} red(e_{a,b}), the reduction
// of a cell modulo the span: e_c for a non-pivot cell, minus the rest of
// its pivot row otherwise.
func (sr *search) reducedColumn(atoms []int, b int) sparse {
	B := len(sr.s.times)
	acc := map[int32]elt{}
	for _, a := range atoms {
		c := int32(a*B + b)
		r := sr.ech.pivotRow[c]
		if r < 0 {
			acc[c] = acc[c].Add(one)
			continue
		}
		row := sr.ech.rows[r]
		for k, cc := range row.idx {
			if cc != c {
				acc[cc] = acc[cc].Sub(row.val[k])
			}
		}
	}
	var v sparse
	for c, x := range acc {
		if !x.IsZero() {
			v.idx = append(v.idx, c)
		}
	}
	slices.Sort(v.idx)
	for _, c := range v.idx {
		v.val = append(v.val, acc[c])
	}
	return v
}

// zeroOneVectors returns 0/1 vectors (as sorted time-atom lists) of the
// span of basis (vectors over B time atoms), found as described at
// bandSearch; duplicates removed.
func zeroOneVectors(basis []sparse, orders [][]int, B int) [][]int {
	if len(basis) == 0 {
		return nil
	}
	seen := map[string]bool{}
	var out [][]int
	emit := func(v []elt, pos []int) {
		var t []int
		for p, x := range v {
			if x.IsZero() {
				continue
			}
			if x != one {
				return
			}
			t = append(t, pos[p])
		}
		if len(t) == 0 {
			return
		}
		slices.Sort(t)
		kb := make([]byte, 0, 2*len(t))
		for _, x := range t {
			kb = append(kb, byte(x), byte(x>>8))
		}
		key := string(kb)
		if !seen[key] {
			seen[key] = true
			out = append(out, t)
		}
	}
	for _, pos := range orders {
		inv := make([]int32, B)
		for p, b := range pos {
			inv[b] = int32(p)
		}
		e := newEchelon(B, false)
		for _, v := range basis {
			w := sparse{idx: make([]int32, len(v.idx)), val: slices.Clone(v.val)}
			for k, b := range v.idx {
				w.idx[k] = inv[b]
			}
			sortSparse(&w)
			e.add(w)
		}
		e.finish()
		dense := make([][]elt, len(e.rows))
		for i, r := range e.rows {
			dense[i] = make([]elt, B)
			for k, c := range r.idx {
				dense[i][c] = r.val[k]
			}
			emit(dense[i], pos)
		}
		if len(dense) > maxEnum {
			continue
		}
		// Gray code over the nonempty subsets of rows.
		sum := make([]elt, B)
		for g := 1; g < 1<<len(dense); g++ {
			i := bitsTrailing(g)
			add := (g^(g>>1))>>i&1 == 1
			for c, x := range dense[i] {
				if add {
					sum[c] = sum[c].Add(x)
				} else {
					sum[c] = sum[c].Sub(x)
				}
			}
			emit(sum, pos)
		}
	}
	return out
}

func bitsTrailing(g int) int {
	i := 0
	for g&1 == 0 {
		g >>= 1
		i++
	}
	return i
}

// sortSparse sorts a sparse vector's entries by index.
func sortSparse(v *sparse) {
	perm := make([]int, len(v.idx))
	for i := range perm {
		perm[i] = i
	}
	slices.SortFunc(perm, func(a, b int) int { return cmp.Compare(v.idx[a], v.idx[b]) })
	idx, val := make([]int32, len(perm)), make([]elt, len(perm))
	for k, p := range perm {
		idx[k], val[k] = v.idx[p], v.val[p]
	}
	v.idx, v.val = idx, val
}
