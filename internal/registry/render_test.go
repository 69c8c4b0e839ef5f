package registry

import (
	"context"
	"testing"
	"time"
)

// TestRenderGrants: the rendered network file carries each consumer's
// grant, which the consumer's release-time policy check needs.
func TestRenderGrants(t *testing.T) {
	r, _ := fixture(t)
	admitAll(t, r)
	e, err := r.PlanEpoch(context.Background(), PlanOptions{AutoFirst: true, CurrentRound: 100, Clock: Clock{Start: t0, Round: 15 * time.Minute}})
	must(t, err)
	c, err := e.Render(nil, nil)
	must(t, err)
	n, err := c.Resolve()
	must(t, err)
	got := map[string]string{}
	for _, cs := range n.Config.Consumers {
		if cs.Grant == nil {
			t.Fatalf("consumer %s rendered without grant", cs.ID)
		}
		got[cs.ID] = cs.Grant.Kinds[0]
		if cs.ID == "grid" && (cs.Grant.MinWindow != 4 || cs.Grant.MinCohort != 5) {
			t.Errorf("grid grant %+v, want min_window 4, min_cohort 5", cs.Grant)
		}
	}
	if got["grid"] != "sum" || got["billing"] != "per-producer" {
		t.Errorf("rendered kinds %v", got)
	}
}
