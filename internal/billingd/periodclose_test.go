package billingd

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/ppnet/ppnet/internal/billing"
	"github.com/ppnet/ppnet/internal/fddm/bulletin"
)

type recordCloser struct{ got []bulletin.PeriodClose }

func (r *recordCloser) ClosePeriod(_ context.Context, pc bulletin.PeriodClose) error {
	r.got = append(r.got, pc)
	return nil
}

// TestPublishClose: an issued period is closed with its rounds, bill count
// and a digest independent of list order; a period with conflicting bills
// is not closed.
func TestPublishClose(t *testing.T) {
	rc := &recordCloser{}
	now := time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
	d := &Daemon{cfg: Config{PeriodCloser: rc, Now: func() time.Time { return now }}, log: slog.New(slog.DiscardHandler)}
	p := Period{Name: "2026-01", FirstRound: 0, LastRound: 2975}
	d.publishClose(p, billing.Report{Issued: []string{"b2", "b1"}, Estimated: []string{"b3"}})
	d.publishClose(p, billing.Report{Issued: []string{"b1", "b3"}, Held: []string{"b2"}})
	d.publishClose(p, billing.Report{Issued: []string{"b1"}, Conflicts: []string{"b9"}})
	if len(rc.got) != 2 {
		t.Fatalf("%d closes published, want 2 (none for the conflicting issue)", len(rc.got))
	}
	pc := rc.got[0]
	if pc.Period != "2026-01" || pc.FirstRound != 0 || pc.LastRound != 2975 || pc.Bills != 3 || !pc.Closed.Equal(now) {
		t.Errorf("close %+v", pc)
	}
	if pc.Digest != rc.got[1].Digest || len(pc.Digest) != 64 {
		t.Errorf("digests %q and %q of the same bills differ", pc.Digest, rc.got[1].Digest)
	}
}
