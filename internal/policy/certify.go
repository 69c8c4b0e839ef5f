package policy

import (
	"math/big"
	"slices"

	"github.com/ppnet/ppnet/sharing"
)

// certifyAtoms expresses the atom-level target as a combination of the
// coalition's releases and checks the combination exactly over Q.
func (sr *search) certifyAtoms(tgt sparse) ([]Term, bool) {
	_, combo := sr.ech.reduce(tgt)
	coefs, ok := rationals(combo)
	acc := map[int32]*big.Rat{}
	var terms []Term
	for k, ri := range combo.idx {
		rel := sr.rels[ri]
		terms = append(terms, sr.term(rel, coefs[k], combo.val[k], ok))
		if ok {
			accumulate(acc, sr.s.cells(rel), coefs[k])
		}
	}
	return terms, ok && equalsTarget(acc, tgt)
}

// certifyPP expresses producer pr's total over the time vector tv as a
// combination of its per-producer values and checks it exactly.
func (sr *search) certifyPP(g *ppGroup, pr int, tv sparse) ([]Term, bool) {
	_, combo := g.ech.reduce(tv)
	coefs, ok := rationals(combo)
	acc := map[int32]*big.Rat{}
	var terms []Term
	for k, ri := range combo.idx {
		rel := g.rows[ri]
		t := sr.term(rel, coefs[k], combo.val[k], ok)
		t.PerProducer, t.PerProducerCount = []string{sr.p.Producers[pr].ID}, 1
		terms = append(terms, t)
		if ok {
			accumulate(acc, timeVec(sr.s.windows[rel.rule][rel.window]), coefs[k])
		}
	}
	return terms, ok && equalsTarget(acc, tv)
}

// certifyRank proves that the rank of the vectors over Q equals their rank
// mod q (it is never smaller): each vector found dependent mod q is shown,
// exactly over Q, to be the rational combination of the others that
// rational reconstruction of its mod-q dependency gives. It fails only if
// some dependency has a coefficient beyond the reconstruction bound.
func certifyRank(deps []sparse, vec func(i int) sparse) bool {
	for _, d := range deps {
		coefs, ok := rationals(d)
		if !ok {
			return false
		}
		acc := map[int32]*big.Rat{}
		for k, i := range d.idx {
			accumulate(acc, vec(int(i)), coefs[k])
		}
		if !equalsTarget(acc, sparse{}) {
			return false
		}
	}
	return true
}

func (sr *search) term(rel release, c *big.Rat, modq elt, exact bool) Term {
	r := sr.p.Rules[sr.s.rules[rel.rule]]
	var rounds []int
	for _, b := range sr.s.windows[rel.rule][rel.window] {
		rounds = append(rounds, sr.s.times[b].rounds...)
	}
	slices.Sort(rounds)
	t := Term{Rule: r.ID, Window: rel.window, Rounds: spans(rounds)}
	if exact {
		t.Coefficient = c.RatString()
	} else {
		t.Coefficient = modq.String() + " (mod q)"
	}
	if rel.atom >= 0 {
		m := sr.s.prods[rel.atom].members
		t.PerProducer, t.PerProducerCount = sr.ids(m), len(m)
	}
	return t
}

func accumulate(acc map[int32]*big.Rat, v sparse, c *big.Rat) {
	for _, i := range v.idx { // 0/1 vectors
		if acc[i] == nil {
			acc[i] = new(big.Rat)
		}
		acc[i].Add(acc[i], c)
	}
}

// equalsTarget reports whether acc equals the 0/1 vector tgt exactly.
func equalsTarget(acc map[int32]*big.Rat, tgt sparse) bool {
	ones := big.NewRat(1, 1)
	in := make(map[int32]bool, len(tgt.idx))
	for _, i := range tgt.idx {
		in[i] = true
		if acc[i] == nil || acc[i].Cmp(ones) != 0 {
			return false
		}
	}
	for i, v := range acc {
		if !in[i] && v.Sign() != 0 {
			return false
		}
	}
	return true
}

// rationals reconstructs each coefficient c mod q as the fraction n/d with
// |n|, d ≤ √(q/2), which is unique when it exists (Wang's rational
// reconstruction); ok is false if some coefficient has none.
func rationals(v sparse) ([]*big.Rat, bool) {
	q := new(big.Int).SetUint64(sharing.Q)
	bound := new(big.Int).Sqrt(new(big.Int).Rsh(q, 1))
	out := make([]*big.Rat, len(v.val))
	for k, c := range v.val {
		r0, r1 := new(big.Int).Set(q), new(big.Int).SetUint64(c.Uint64())
		t0, t1 := new(big.Int), big.NewInt(1)
		quo, tmp := new(big.Int), new(big.Int)
		for r1.Cmp(bound) > 0 {
			quo.Quo(r0, r1)
			r0, r1 = r1, tmp.Sub(r0, tmp.Mul(quo, r1))
			tmp = new(big.Int)
			t0, t1 = t1, new(big.Int).Sub(t0, new(big.Int).Mul(quo, t1))
		}
		if t1.Sign() == 0 || new(big.Int).Abs(t1).Cmp(bound) > 0 {
			return nil, false
		}
		out[k] = new(big.Rat).SetFrac(r1, t1)
	}
	return out, true
}
