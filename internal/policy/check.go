package policy

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"slices"
)

// Options tunes [Check]. The zero value (or nil) means the defaults.
type Options struct {
	// MaxUnion is the largest number of producer atoms in a union the
	// search tries (default 3; single atoms and per-producer singletons
	// are always decided exactly). See doc.go for what it bounds.
	MaxUnion int
	// MaxLeaks stops the search after this many leaks (default 5).
	MaxLeaks int
	// Seed seeds the random linear fingerprints that screen candidates
	// before exact verification (default 1). The report does not depend on
	// it: a derivable candidate always passes the screen, and a
	// non-derivable one that passes (probability q^−2) fails the exact
	// check.
	Seed uint64
}

func (o *Options) withDefaults() Options {
	var r Options
	if o != nil {
		r = *o
	}
	if r.MaxUnion <= 0 {
		r.MaxUnion = 3
	}
	if r.MaxLeaks <= 0 {
		r.MaxLeaks = 5
	}
	if r.Seed == 0 {
		r.Seed = 1
	}
	return r
}

// Check decides a resolved rule set: every rule against its consumer's
// grant and the field bound, then the leak check over every coalition of
// consumers (see the package documentation for the exact semantics). It
// returns an error only for a malformed Policy (indices out of range),
// never for a refusal.
func Check(p *Policy, opts *Options) (*Report, error) {
	o := opts.withDefaults()
	if err := validate(p); err != nil {
		return nil, err
	}
	rep := &Report{Stats: Stats{Seed: o.Seed, Exact: true, UnionDepth: o.MaxUnion, Horizon: p.Horizon}}
	rep.Stats.Period, _ = p.Period() // 0 beyond MaxHorizon
	var live []int
	for i := range p.Rules {
		r := &p.Rules[i]
		for _, why := range checkRule(p, r) {
			rep.Refusals = append(rep.Refusals, Refusal{Rule: r.ID, Consumer: p.Consumers[r.Consumer].ID, Reason: why})
		}
		if len(r.Producers) > 0 {
			live = append(live, i)
		}
	}
	var seed [32]byte
	binary.LittleEndian.PutUint64(seed[:], o.Seed)
	rng := rand.NewChaCha8(seed)
	// A coalition member without rules adds nothing to the span, so each
	// coalition N is searched as R(N), its members with rules: a group that
	// derives τ is a leak if no member of it is entitled, and R(N(τ)) ⊆ N(τ)
	// derives every τ that N(τ) does.
	done := map[string]bool{}
	for _, all := range coalitions(p) {
		var rules, members []int
		for _, i := range live {
			c := p.Rules[i].Consumer
			if slices.Contains(all, c) {
				rules = append(rules, i)
				if !slices.Contains(members, c) {
					members = append(members, c)
				}
			}
		}
		slices.Sort(members)
		key := fmt.Sprint(members)
		if len(rules) == 0 || done[key] {
			continue
		}
		done[key] = true
		rep.Stats.Coalitions++
		sr := &search{p: p, members: members, opts: o, rng: rng, rep: rep}
		sr.run(rules)
		if len(rep.Leaks) >= o.MaxLeaks {
			break
		}
	}
	if !rep.Stats.Exact {
		// Fail closed: an uncertified rank could hide a leak.
		rep.Refusals = append(rep.Refusals, Refusal{Rule: "*", Consumer: "*",
			Reason: "could not certify that arithmetic mod q misses no leak (a dependency among releases has a coefficient beyond rational reconstruction); refused to be safe — simplify overlapping rules or report the rule set"})
	}
	rep.Accepted = len(rep.Refusals) == 0 && len(rep.Leaks) == 0
	return rep, nil
}

func validate(p *Policy) error {
	if p.Horizon < 1 || p.Horizon > MaxHorizon {
		return fmt.Errorf("policy: horizon %d outside [1, %d]", p.Horizon, MaxHorizon)
	}
	for _, c := range p.Consumers {
		if c.Grant.MinWindow < 1 || c.Grant.MinCohort < 1 {
			return fmt.Errorf("policy: consumer %q: min_window and min_cohort must be at least 1", c.ID)
		}
	}
	for _, r := range p.Rules {
		if r.Consumer < 0 || r.Consumer >= len(p.Consumers) {
			return fmt.Errorf("policy: rule %q: consumer index %d out of range", r.ID, r.Consumer)
		}
		if r.Window < 1 {
			return fmt.Errorf("policy: rule %q: window %d must be at least 1", r.ID, r.Window)
		}
		if r.Kind != Sum && r.Kind != PerProducer {
			return fmt.Errorf("policy: rule %q: invalid kind %d", r.ID, int(r.Kind))
		}
		for _, b := range r.Band {
			if p.RoundsPerDay < 1 || b.From < 0 || b.From >= b.To || b.To > p.RoundsPerDay {
				return fmt.Errorf("policy: rule %q: band [%d, %d) invalid for %d rounds per day", r.ID, b.From, b.To, p.RoundsPerDay)
			}
		}
		for k, i := range r.Producers {
			if i < 0 || i >= len(p.Producers) || (k > 0 && r.Producers[k-1] >= i) {
				return fmt.Errorf("policy: rule %q: producer indices must be in range, increasing, without duplicates", r.ID)
			}
		}
	}
	return nil
}

// forbidden reports whether consumer c is not entitled to the total of
// size producers over a time set of the given extent.
func forbidden(g Grant, size, extent int) bool {
	return extent < g.MinWindow || (size < g.MinCohort && !g.PerProducer)
}

// coalitions returns every distinct set N(τ) = {c : τ forbidden for c} as
// τ = (|S|, extent) ranges over all values: N(τ) only changes where |S|
// crosses some K_c or the extent crosses some W_c, so representatives
// {1} ∪ {K_c} × {1} ∪ {W_c} give them all. Smaller coalitions come first.
func coalitions(p *Policy) [][]int {
	sizes, exts := []int{1}, []int{1}
	for _, c := range p.Consumers {
		sizes = append(sizes, c.Grant.MinCohort)
		exts = append(exts, c.Grant.MinWindow)
	}
	slices.Sort(sizes)
	slices.Sort(exts)
	sizes, exts = slices.Compact(sizes), slices.Compact(exts)
	seen := map[string]bool{}
	var out [][]int
	for _, s := range sizes {
		for _, e := range exts {
			var n []int
			key := make([]byte, 0, 16)
			for i, c := range p.Consumers {
				if forbidden(c.Grant, s, e) {
					n = append(n, i)
					key = binary.AppendUvarint(key, uint64(i))
				}
			}
			if len(n) == 0 || seen[string(key)] {
				continue
			}
			seen[string(key)] = true
			out = append(out, n)
		}
	}
	slices.SortStableFunc(out, func(a, b []int) int { return len(a) - len(b) })
	return out
}
