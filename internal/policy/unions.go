package policy

import "slices"

// buildPartners records, for every prefix boundary β of the time atoms,
// which producer atoms a have a partner b ≠ a with P_a(β) + P_b(β) = 0.
// Without bands, a pair {a, b} is derivable over the run [lo, hi) iff
// a + b ∈ Y_lo ∩ Y_hi (see doc.go, boundary coordinates), that is iff the
// prefix fingerprints cancel at lo and at hi; so an atom without a partner
// at lo or at hi cannot be in a pair for that run.
func (sr *search) buildPartners() {
	A, B := len(sr.s.prods), len(sr.s.times)
	words := (A + 63) / 64
	sr.partners = make([]uint64, (B+1)*words)
	count := map[fpv]int{}
	for beta := 0; beta <= B; beta++ {
		clear(count)
		for a := 0; a < A; a++ {
			count[sr.prefix[a*(B+1)+beta]]++
		}
		for a := 0; a < A; a++ {
			p := sr.prefix[a*(B+1)+beta]
			n := count[p.neg()]
			if p.neg() == p {
				n-- // p = 0: a itself does not count
			}
			if n > 0 {
				sr.partners[beta*words+a/64] |= 1 << (a % 64)
			}
		}
	}
}

// pairable reports whether atom a may be in a pair over the run [lo, hi):
// always with bands; without them, only if it has partners at both ends.
func (sr *search) pairable(a, lo, hi int) bool {
	if sr.partners == nil {
		return true
	}
	words := (len(sr.s.prods) + 63) / 64
	bit := uint64(1) << (a % 64)
	return sr.partners[lo*words+a/64]&bit != 0 && sr.partners[hi*words+a/64]&bit != 0
}

// maxTripleAtoms is the largest number of candidate atoms for which unions
// of three or more atoms are searched; beyond it only pairs are.
const maxTripleAtoms = 128

// unions searches unions of 2..MaxUnion producer atoms (2 only, when more
// than maxTripleAtoms atoms qualify for the run), none derivable on its own, of total
// size ≤ limit, whose fingerprints sum to zero; the last atom is found by
// hashing.
func (sr *search) unions(d []fpv, lo, hi, limit int) bool {
	cand := sr.cand[:0]
	if sr.head == nil {
		sr.head = map[fpv]int32{}
	}
	clear(sr.head)
	for a := range d {
		if !d[a].zero() && len(sr.s.prods[a].members) < limit {
			cand = append(cand, a)
		}
	}
	depth := sr.opts.MaxUnion
	if depth > 2 && len(cand) > maxTripleAtoms {
		// Unions of k atoms cost O(len(cand)^(k−1)) per run; keep the
		// search near-linear on fragmented producer partitions, and say so.
		depth = 2
	}
	if st := &sr.rep.Stats; depth < st.UnionDepth {
		st.UnionDepth = depth
	}
	if depth == 2 {
		// Pairs only: drop atoms that cannot cancel at both ends.
		kept := cand[:0]
		for _, a := range cand {
			if sr.pairable(a, lo, hi) {
				kept = append(kept, a)
			}
		}
		cand = kept
	}
	sr.cand = cand
	if len(cand) < 2 {
		return false
	}
	// head[fp] is 1 + the last position with that fingerprint; next chains
	// earlier positions, so equal fingerprints cost no allocation.
	sr.next = slices.Grow(sr.next[:0], len(cand))[:len(cand)]
	for pos, a := range cand {
		sr.next[pos] = sr.head[d[a]]
		sr.head[d[a]] = int32(pos + 1)
	}
	chosen := make([]int, 0, depth)
	var dfs func(next int, sum fpv, size int) bool
	dfs = func(next int, sum fpv, size int) bool {
		if len(chosen) >= 1 {
			for p := sr.head[sum.neg()]; p != 0; p = sr.next[p-1] {
				pos := int(p - 1)
				a := cand[pos]
				sr.rep.Stats.Candidates++
				if pos >= next && size+len(sr.s.prods[a].members) <= limit {
					if sr.atomLeak(append(slices.Clone(chosen), a), between(lo, hi)) {
						return true
					}
				}
			}
		}
		if len(chosen)+1 >= depth {
			return false
		}
		for pos := next; pos < len(cand); pos++ {
			a := cand[pos]
			n := size + len(sr.s.prods[a].members)
			if n >= limit {
				continue
			}
			chosen = append(chosen, a)
			found := dfs(pos+1, sum.add(d[a]), n)
			chosen = chosen[:len(chosen)-1]
			if found {
				return true
			}
		}
		return false
	}
	return dfs(0, fpv{}, 0)
}
