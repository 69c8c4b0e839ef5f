package policy

import (
	"fmt"
	"math/bits"

	"github.com/ppnet/ppnet/sharing"
)

// checkRule returns the reasons rule r is refused on its own: an empty
// producer set, a kind or window or cohort outside its consumer's grant, or
// an aggregate that could leave the field's signed range.
func checkRule(p *Policy, r *Rule) []string {
	c := &p.Consumers[r.Consumer]
	g := c.Grant
	var why []string
	if len(r.Producers) == 0 {
		why = append(why, "selects no producers; fix the selector or ids (or drop the rule)")
	}
	switch {
	case r.Kind == Sum && !g.Sum:
		why = append(why, fmt.Sprintf("consumer %q is not granted kind sum; grant it or drop the rule", c.ID))
	case r.Kind == PerProducer && !g.PerProducer:
		why = append(why, fmt.Sprintf("consumer %q is not granted kind per-producer; grant it or use kind sum", c.ID))
	}
	if r.Window < g.MinWindow {
		why = append(why, fmt.Sprintf("window %d rounds is shorter than consumer %q's minimum window %d; use a window of at least %d", r.Window, c.ID, g.MinWindow, g.MinWindow))
	}
	if r.Kind == Sum && len(r.Producers) > 0 && len(r.Producers) < g.MinCohort {
		why = append(why, fmt.Sprintf("sums %d producers, fewer than consumer %q's minimum cohort %d; widen the producer set", len(r.Producers), c.ID, g.MinCohort))
	}
	if msg := fieldBound(p, r); msg != "" {
		why = append(why, msg)
	}
	return why
}

// fieldBound checks that the largest possible aggregate of r, k·Σ_{p∈Π}
// max_p for a sum and k·max_p for a per-producer value, stays within
// (q−1)/2 (sharing.SumFits), so that it decodes exactly.
func fieldBound(p *Policy, r *Rule) string {
	var total, hi uint64
	for _, i := range r.Producers {
		m := p.Producers[i].Max
		if r.Kind == PerProducer {
			total = max(total, m)
			continue
		}
		var carry uint64
		total, carry = bits.Add64(total, m, 0)
		hi += carry
	}
	if hi == 0 && sharing.SumFits(uint64(r.Window), total) {
		return ""
	}
	what := "Σ max over its producers"
	if r.Kind == PerProducer {
		what = "the largest producer max"
	}
	return fmt.Sprintf("largest possible aggregate, window %d × %s, exceeds the field bound (q−1)/2 = %d; shorten the window, split the producer set, or declare smaller max readings (a coarser unit)",
		r.Window, what, sharing.MaxMagnitude)
}
