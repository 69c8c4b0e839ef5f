package policy

import (
	"encoding/binary"
	"slices"
)

// released reports the window index of round t in rule r within horizon h,
// or −1 if the rule releases nothing covering t (t outside the band, or in
// a window that does not end within the horizon).
func released(r *Rule, t, h, perDay int) int {
	j := t / r.Window
	if (j+1)*r.Window > h {
		return -1
	}
	if len(r.Band) > 0 {
		d := t % perDay
		in := false
		for _, b := range r.Band {
			if d >= b.From && d < b.To {
				in = true
				break
			}
		}
		if !in {
			return -1
		}
	}
	return j
}

// timeAtom is a set of rounds no window of the coalition tells apart.
type timeAtom struct {
	rounds      []int
	first, last int
}

// prodAtom is a set of producers no rule of the coalition tells apart.
type prodAtom struct {
	members []int // producer indices, increasing
	rules   []int // indices into structure.rules
}

// structure is a coalition's releases over its atoms.
type structure struct {
	rules     []int // indices into Policy.Rules
	times     []timeAtom
	prods     []prodAtom
	ruleAtoms [][]int // per coalition rule: its producer atoms
	// windows[i][j] lists the time atoms of window j of coalition rule i,
	// nil if the window releases nothing in the horizon.
	windows [][][]int
}

// build partitions rounds and producers into atoms for the given rules.
// Time atoms are numbered by first round.
func build(p *Policy, rules []int) *structure {
	s := &structure{rules: rules}
	sig := make([]byte, 0, 4*len(rules))
	timeID := map[string]int{}
	roundAtom := make([]int, p.Horizon)
	for t := 0; t < p.Horizon; t++ {
		sig = sig[:0]
		covered := false
		for _, ri := range rules {
			j := released(&p.Rules[ri], t, p.Horizon, p.RoundsPerDay)
			covered = covered || j >= 0
			sig = binary.AppendVarint(sig, int64(j))
		}
		if !covered {
			roundAtom[t] = -1
			continue
		}
		id, ok := timeID[string(sig)]
		if !ok {
			id = len(s.times)
			timeID[string(sig)] = id
			s.times = append(s.times, timeAtom{first: t})
		}
		s.times[id].rounds = append(s.times[id].rounds, t)
		s.times[id].last = t
		roundAtom[t] = id
	}
	s.windows = make([][][]int, len(rules))
	for i, ri := range rules {
		r := &p.Rules[ri]
		s.windows[i] = make([][]int, p.Horizon/r.Window)
		for b, ta := range s.times {
			if j := released(r, ta.first, p.Horizon, p.RoundsPerDay); j >= 0 {
				s.windows[i][j] = append(s.windows[i][j], b)
			}
		}
	}
	// Producer signatures: the coalition rules containing each producer.
	member := make([][]int32, len(p.Producers))
	for i, ri := range rules {
		for _, pr := range p.Rules[ri].Producers {
			member[pr] = append(member[pr], int32(i))
		}
	}
	prodID := map[string]int{}
	for pr, m := range member {
		if len(m) == 0 {
			continue
		}
		sig = sig[:0]
		for _, i := range m {
			sig = binary.AppendUvarint(sig, uint64(i))
		}
		id, ok := prodID[string(sig)]
		if !ok {
			id = len(s.prods)
			prodID[string(sig)] = id
			rs := make([]int, len(m))
			for k, i := range m {
				rs[k] = int(i)
			}
			s.prods = append(s.prods, prodAtom{rules: rs})
		}
		s.prods[id].members = append(s.prods[id].members, pr)
	}
	s.ruleAtoms = make([][]int, len(rules))
	for a, pa := range s.prods {
		for _, i := range pa.rules {
			s.ruleAtoms[i] = append(s.ruleAtoms[i], a)
		}
	}
	return s
}

// release is one released value at atom level: a sum rule's window, or
// the per-producer values of one producer atom in one window (whose sum is
// what the atom-level space sees; see doc.go).
type release struct {
	rule   int // coalition rule index
	window int
	atom   int // producer atom for per-producer releases, −1 for sums
}

// releases lists the coalition's releases in a fixed order.
func (s *structure) releases(p *Policy) []release {
	var out []release
	for i, ri := range s.rules {
		for j, w := range s.windows[i] {
			if w == nil {
				continue
			}
			if p.Rules[ri].Kind == Sum {
				out = append(out, release{rule: i, window: j, atom: -1})
				continue
			}
			for _, a := range s.ruleAtoms[i] {
				out = append(out, release{rule: i, window: j, atom: a})
			}
		}
	}
	return out
}

// cells returns a release as a 0/1 vector over cells a·B + b.
func (s *structure) cells(r release) sparse {
	B := len(s.times)
	atoms := s.ruleAtoms[r.rule]
	if r.atom >= 0 {
		atoms = []int{r.atom}
	}
	var v sparse
	for _, a := range atoms {
		for _, b := range s.windows[r.rule][r.window] {
			v.idx = append(v.idx, int32(a*B+b))
		}
	}
	slices.Sort(v.idx)
	v.val = make([]elt, len(v.idx))
	for k := range v.val {
		v.val[k] = one
	}
	return v
}

// target returns 1_S ⊗ 1_T for S a set of producer atoms and T a set of
// time atoms, as a vector over cells.
func (s *structure) target(atoms, tset []int) sparse {
	B := len(s.times)
	var v sparse
	for _, a := range atoms {
		for _, b := range tset {
			v.idx = append(v.idx, int32(a*B+b))
		}
	}
	slices.Sort(v.idx)
	v.val = make([]elt, len(v.idx))
	for k := range v.val {
		v.val[k] = one
	}
	return v
}
