package registry

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"
)

// TestCheckPublishable: an epoch never published must start after the
// round in progress; once published it may be published again.
func TestCheckPublishable(t *testing.T) {
	r, _ := fixture(t)
	_, err := r.RequestRule(feederRule("f12", "F12"), nil)
	must(t, err)
	e, err := r.PlanEpoch(context.Background(), PlanOptions{AutoFirst: true, CurrentRound: 10, Clock: Clock{Start: t0, Round: 15 * time.Minute}})
	must(t, err)
	if e.FirstRound != 12 {
		t.Fatalf("first round %d; want 12", e.FirstRound)
	}
	must(t, r.CheckPublishable(1, 11))
	for _, now := range []int64{12, 13, 1000} {
		err := r.CheckPublishable(1, now)
		var late *LateError
		if !errors.As(err, &late) || !errors.Is(err, ErrInvalid) || late.Current != now || late.FirstRound != 12 ||
			!containsAll(err.Error(), fmt.Sprintf("epoch 1 starts at round 12 (2026-01-01T03:00:00Z) but round %d is in progress now", now), "plan again") {
			t.Fatalf("publishing epoch 1 (first round 12) at round %d: %v; want a *LateError", now, err)
		}
	}
	_, err = r.RenderFile(1, nil)
	must(t, err)
	must(t, r.CheckPublishable(1, 1000))
	if err := r.CheckPublishable(7, 0); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown epoch: %v", err)
	}
}
