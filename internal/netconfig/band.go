package netconfig

import "fmt"

// resolveBand checks a rule's band and fills the in-band row table: row[d]
// is the position of round-of-day d among the day's in-band rounds, or −1.
func (c *Config) resolveBand(rr *ResolvedRule, b *Band) error {
	rr.Rows = rr.K
	if b == nil {
		return nil
	}
	perDay := c.Rounds.PerDay
	switch {
	case perDay == 0:
		return fmt.Errorf("netconfig: rule %q has a band but rounds.per_day is not set; set it (e.g. 96 for 15-minute rounds)", rr.ID)
	case perDay > 1<<20:
		return fmt.Errorf("netconfig: rounds.per_day %d; use at most 2^20", perDay)
	case len(b.Rounds) == 0:
		return fmt.Errorf("netconfig: rule %q band has no rounds; give round-of-day ranges such as [[72, 88]], or drop the band", rr.ID)
	case rr.K%perDay != 0:
		return fmt.Errorf("netconfig: rule %q has a band and a window of %d rounds, not a whole number of days of %d rounds; use a window of whole days (e.g. %d)", rr.ID, rr.K, perDay, perDay)
	}
	if b.Name != "" && !idPattern.MatchString(b.Name) {
		return fmt.Errorf("netconfig: rule %q band name %q; names are 1–64 characters of A–Z a–z 0–9 _ -", rr.ID, b.Name)
	}
	in := make([]bool, perDay)
	for _, r := range b.Rounds {
		if r[0] >= r[1] || r[1] > perDay {
			return fmt.Errorf("netconfig: rule %q band range [%d, %d) is not within [0, %d) with from < to; split a range across midnight in two, e.g. [[88, 96], [0, 24]]", rr.ID, r[0], r[1], perDay)
		}
		for d := r[0]; d < r[1]; d++ {
			in[d] = true
		}
	}
	rr.Band = b
	rr.PerDay = perDay
	rr.dayRow = make([]int32, perDay)
	var n int32
	for d, ok := range in {
		rr.dayRow[d] = -1
		if ok {
			rr.dayRow[d] = n
			n++
		}
	}
	rr.dayRounds = make([]uint32, 0, n)
	for d, ok := range in {
		if ok {
			rr.dayRounds = append(rr.dayRounds, uint32(d))
		}
	}
	rr.Rows = rr.K / perDay * uint64(n)
	return nil
}

// InBand reports whether round τ counts for the rule: always without a band.
func (r *ResolvedRule) InBand(round uint64) bool {
	return r.Band == nil || r.dayRow[round%r.PerDay] >= 0
}

// Row returns the row of the round at offset off (0 ≤ off < K) of a window,
// counting only in-band rounds, and false for an out-of-band round. The
// window's slot of (meter position p, row j) is j·n + p.
func (r *ResolvedRule) Row(off uint64) (uint64, bool) {
	if r.Band == nil {
		return off, true
	}
	d := r.dayRow[off%r.PerDay]
	if d < 0 {
		return 0, false
	}
	return off/r.PerDay*uint64(len(r.dayRounds)) + uint64(d), true
}

// RoundOf returns the round of row j (0 ≤ j < Rows) of the window starting
// at start: the inverse of Row.
func (r *ResolvedRule) RoundOf(start, j uint64) uint64 {
	if r.Band == nil {
		return start + j
	}
	per := uint64(len(r.dayRounds))
	return start + j/per*r.PerDay + uint64(r.dayRounds[j%per])
}
