package policy

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/ppnet/ppnet/sharing"
)

// nf is the number of random linear fingerprints per candidate; a nonzero
// reduced vector passes the screen with probability q^−nf ≈ 2^−122.
const nf = 2

type fpv [nf]elt

func (a fpv) sub(b fpv) fpv {
	for i := range a {
		a[i] = a[i].Sub(b[i])
	}
	return a
}

func (a fpv) add(b fpv) fpv {
	for i := range a {
		a[i] = a[i].Add(b[i])
	}
	return a
}

func (a fpv) neg() fpv {
	for i := range a {
		a[i] = a[i].Neg()
	}
	return a
}

func (a fpv) zero() bool { return a == fpv{} }

// ppGroup is the producer atoms covered by the same per-producer rules; a
// single producer of such an atom can be isolated over exactly the time
// sets in the span W of those rules' windows.
type ppGroup struct {
	rules  []int // coalition rule indices (per-producer)
	atoms  []int
	rows   []release // window rows of the span, atom unused
	ech    *echelon  // span W over time atoms
	prefix []fpv
}

// search is the leak search for one coalition.
type search struct {
	p       *Policy
	members []int
	opts    Options
	rng     *rand.ChaCha8
	rep     *Report

	s      *structure
	rels   []release
	ech    *echelon
	prefix []fpv // (B+1) per producer atom
	d      []fpv // per-run scratch: fingerprint of each atom over the run
	cand   []int
	head   map[fpv]int32
	next   []int32
	// partners[β·words + a/64] bit a%64: atom a has a pair partner at
	// prefix boundary β (no-band coalitions only; nil otherwise).
	partners []uint64
	groups   []*ppGroup
}

func (sr *search) randElt() elt { return sharing.NewElement(sr.rng.Uint64()) }

func (sr *search) run(rules []int) {
	bands, ok := sr.prepare(rules)
	if !ok || sr.scan() || !bands {
		return
	}
	sr.bandSearch()
}

// prepare builds the coalition's atoms, span, fingerprints, per-producer
// groups and (without bands) pair partners; it reports whether a rule has
// a band, and false if nothing is released.
func (sr *search) prepare(rules []int) (bands, ok bool) {
	sr.s = build(sr.p, rules)
	A, B := len(sr.s.prods), len(sr.s.times)
	st := &sr.rep.Stats
	st.MaxProducerAtoms = max(st.MaxProducerAtoms, A)
	st.MaxTimeAtoms = max(st.MaxTimeAtoms, B)
	if A == 0 || B == 0 {
		return false, false
	}
	sr.rels = sr.s.releases(sr.p)
	sr.ech = newEchelon(A*B, true)
	for _, r := range sr.rels {
		sr.ech.add(sr.s.cells(r))
	}
	sr.ech.finish()
	if !certifyRank(sr.ech.deps, func(i int) sparse { return sr.s.cells(sr.rels[i]) }) {
		st.Exact = false
	}
	st.Releases = max(st.Releases, len(sr.rels))
	st.Rank = max(st.Rank, sr.ech.rank())

	rho := make([]elt, A*B*nf)
	for i := range rho {
		rho[i] = sr.randElt()
	}
	fp := sr.ech.fingerprints(rho, nf)
	sr.prefix = make([]fpv, A*(B+1))
	for a := 0; a < A; a++ {
		for b := 0; b < B; b++ {
			var cell fpv
			copy(cell[:], fp[(a*B+b)*nf:])
			sr.prefix[a*(B+1)+b+1] = sr.prefix[a*(B+1)+b].add(cell)
		}
	}
	sr.buildGroups()
	for _, ri := range rules {
		bands = bands || len(sr.p.Rules[ri].Band) > 0
	}
	if !bands {
		sr.buildPartners()
	}
	return bands, true
}

// buildGroups computes, per set of per-producer rules, the span of their
// windows over the time atoms, with fingerprints as for the main span.
func (sr *search) buildGroups() {
	B := len(sr.s.times)
	byKey := map[string]*ppGroup{}
	for a, pa := range sr.s.prods {
		var pp []int
		for _, i := range pa.rules {
			if sr.p.Rules[sr.s.rules[i]].Kind == PerProducer {
				pp = append(pp, i)
			}
		}
		if len(pp) == 0 {
			continue
		}
		key := fmt.Sprint(pp)
		g := byKey[key]
		if g == nil {
			g = &ppGroup{rules: pp, ech: newEchelon(B, true)}
			for _, i := range pp {
				for j, w := range sr.s.windows[i] {
					if w != nil {
						g.rows = append(g.rows, release{rule: i, window: j, atom: -1})
						g.ech.add(timeVec(w))
					}
				}
			}
			g.ech.finish()
			if !certifyRank(g.ech.deps, func(i int) sparse {
				r := g.rows[i]
				return timeVec(sr.s.windows[r.rule][r.window])
			}) {
				sr.rep.Stats.Exact = false
			}
			rho := make([]elt, B*nf)
			for i := range rho {
				rho[i] = sr.randElt()
			}
			fp := g.ech.fingerprints(rho, nf)
			g.prefix = make([]fpv, B+1)
			for b := 0; b < B; b++ {
				var cell fpv
				copy(cell[:], fp[b*nf:])
				g.prefix[b+1] = g.prefix[b].add(cell)
			}
			byKey[key] = g
			sr.groups = append(sr.groups, g)
		}
		g.atoms = append(g.atoms, a)
	}
}

func timeVec(atoms []int) sparse {
	v := sparse{idx: make([]int32, len(atoms)), val: make([]elt, len(atoms))}
	for k, b := range atoms {
		v.idx[k] = int32(b)
		v.val[k] = one
	}
	slices.Sort(v.idx)
	return v
}

// sizeLimit is the largest |S| such that a total of |S| producers over a
// time set of this extent is forbidden for every coalition member, or 0.
func (sr *search) sizeLimit(extent int) int {
	limit := math.MaxInt
	for _, c := range sr.members {
		g := sr.p.Consumers[c].Grant
		if extent < g.MinWindow {
			continue
		}
		if g.PerProducer {
			return 0
		}
		limit = min(limit, g.MinCohort-1)
	}
	return limit
}

// scan tries every run of consecutive time atoms [lo, hi) (in order of
// first round) against the producer candidates, stopping at the first leak.
func (sr *search) scan() bool {
	B := len(sr.s.times)
	for lo := 0; lo < B; lo++ {
		last := -1
		for hi := lo + 1; hi <= B; hi++ {
			last = max(last, sr.s.times[hi-1].last)
			limit := sr.sizeLimit(last - sr.s.times[lo].first + 1)
			if limit == 0 {
				continue
			}
			if sr.tryRun(lo, hi, limit) {
				return true
			}
		}
	}
	return false
}

func (sr *search) diff(a, lo, hi int) fpv {
	B := len(sr.s.times)
	return sr.prefix[a*(B+1)+hi].sub(sr.prefix[a*(B+1)+lo])
}

func (sr *search) size(atoms []int) int {
	n := 0
	for _, a := range atoms {
		n += len(sr.s.prods[a].members)
	}
	return n
}

// tryRun tests the candidates for time set [lo, hi); true if a leak was
// recorded.
func (sr *search) tryRun(lo, hi, limit int) bool {
	st := &sr.rep.Stats
	A := len(sr.s.prods)
	d := slices.Grow(sr.d[:0], A)[:A]
	sr.d = d
	for a := range d {
		d[a] = sr.diff(a, lo, hi)
		st.Candidates++
		if d[a].zero() && len(sr.s.prods[a].members) <= limit && sr.atomLeak([]int{a}, between(lo, hi)) {
			return true
		}
	}
	for _, g := range sr.groups {
		st.Candidates++
		if g.prefix[hi].sub(g.prefix[lo]).zero() && sr.ppLeak(g, between(lo, hi)) {
			return true
		}
	}
	for i, atoms := range sr.s.ruleAtoms {
		n := len(sr.p.Rules[sr.s.rules[i]].Producers)
		if len(atoms) < 2 || n > limit {
			continue
		}
		var sum fpv
		for _, a := range atoms {
			sum = sum.add(d[a])
		}
		st.Candidates++
		if sum.zero() && sr.atomLeak(atoms, between(lo, hi)) {
			return true
		}
	}
	return sr.opts.MaxUnion >= 2 && sr.unions(d, lo, hi, limit)
}

// atomLeak verifies exactly that 1_S ⊗ 1_T, S the union of atoms and T the
// time atoms tset, is derivable, and records the leak.
func (sr *search) atomLeak(atoms, tset []int) bool {
	slices.Sort(atoms)
	tgt := sr.s.target(atoms, tset)
	if rem, _ := sr.ech.reduce(tgt); len(rem.idx) != 0 {
		return false // fingerprint collision: not derivable
	}
	var prods []int
	for _, a := range atoms {
		prods = append(prods, sr.s.prods[a].members...)
	}
	slices.Sort(prods)
	terms, ok := sr.certifyAtoms(tgt)
	sr.record(prods, tset, terms, ok)
	return true
}

// ppLeak verifies exactly that one producer of group g can be isolated
// over the time atoms tset from its own per-producer values, and records
// the leak.
func (sr *search) ppLeak(g *ppGroup, tset []int) bool {
	tv := timeVec(tset)
	if rem, _ := g.ech.reduce(tv); len(rem.idx) != 0 {
		return false
	}
	pr := sr.s.prods[g.atoms[0]].members[0]
	terms, ok := sr.certifyPP(g, pr, tv)
	sr.record([]int{pr}, tset, terms, ok)
	return true
}

// between lists the time atoms lo, lo+1, …, hi−1.
func between(lo, hi int) []int {
	out := make([]int, 0, hi-lo)
	for b := lo; b < hi; b++ {
		out = append(out, b)
	}
	return out
}

func (sr *search) roundsOf(tset []int) []int {
	var rs []int
	for _, b := range tset {
		rs = append(rs, sr.s.times[b].rounds...)
	}
	slices.Sort(rs)
	return rs
}

func (sr *search) record(prods, tset []int, terms []Term, verified bool) {
	rounds := sr.roundsOf(tset)
	ext := rounds[len(rounds)-1] - rounds[0] + 1
	l := Leak{ProducerCount: len(prods), Rounds: spans(rounds), Extent: ext, Combination: terms, Verified: verified}
	for _, c := range sr.members {
		cons := sr.p.Consumers[c]
		l.Consumers = append(l.Consumers, cons.ID)
		g := cons.Grant
		if ext < g.MinWindow {
			l.Why = append(l.Why, fmt.Sprintf("%s: the total covers a stretch of %s, shorter than its minimum window %d", cons.ID, plural(ext, "round"), g.MinWindow))
		} else {
			l.Why = append(l.Why, fmt.Sprintf("%s: the total covers %s, fewer than its minimum cohort %d, and it holds no per-producer grant", cons.ID, plural(len(prods), "producer"), g.MinCohort))
		}
	}
	l.Producers = sr.ids(prods)
	sr.rep.Leaks = append(sr.rep.Leaks, l)
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// ids lists up to 20 producer ids.
func (sr *search) ids(prods []int) []string {
	var out []string
	for _, i := range prods[:min(len(prods), 20)] {
		out = append(out, sr.p.Producers[i].ID)
	}
	return out
}

// String summarises a leak in one line, for logs and error messages.
func (l Leak) String() string {
	var parts []string
	for _, t := range l.Combination {
		parts = append(parts, fmt.Sprintf("%s·%s[w%d]", t.Coefficient, t.Rule, t.Window))
	}
	return fmt.Sprintf("consumers %v can derive the total of %s %v over rounds %v as %s",
		l.Consumers, plural(l.ProducerCount, "producer"), l.Producers, l.Rounds, strings.Join(parts, " + "))
}
