package billingd

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/ppnet/ppnet/internal/billing"
	"github.com/ppnet/ppnet/internal/fddm/bulletin"
)

// PeriodCloser is told when a period's bills are final, so that meters may
// mask the period's rounds in their stored history (docs/fddm.md).
type PeriodCloser interface {
	ClosePeriod(ctx context.Context, pc bulletin.PeriodClose) error
}

// KVCloser publishes period closes to the FDDM bulletin bucket, where
// producers watch for them (key period.<name>).
type KVCloser struct{ KV jetstream.KeyValue }

// ClosePeriod implements PeriodCloser.
func (k KVCloser) ClosePeriod(ctx context.Context, pc bulletin.PeriodClose) error {
	return bulletin.PublishClose(ctx, k.KV, pc)
}

// closeRecord is the close of period p as issued in rep: the rounds it
// covers, how many bills, and a digest of the sorted bill list.
func closeRecord(p Period, rep billing.Report, now time.Time) bulletin.PeriodClose {
	var bills []string
	for _, l := range [][]string{rep.Issued, rep.Estimated, rep.Held, rep.Unchanged} {
		bills = append(bills, l...)
	}
	slices.Sort(bills)
	sum := sha256.Sum256([]byte(strings.Join(bills, "\n")))
	return bulletin.PeriodClose{Period: p.Name, FirstRound: p.FirstRound, LastRound: p.LastRound, Bills: len(bills),
		Digest: hex.EncodeToString(sum[:]), Closed: now.UTC()}
}

// publishClose tells the configured PeriodCloser that period p is final.
// A period with conflicting bills is not final: it waits for a correction.
func (d *Daemon) publishClose(p Period, rep billing.Report) {
	if d.cfg.PeriodCloser == nil {
		return
	}
	if len(rep.Conflicts) > 0 {
		d.log.Warn("period not closed for masking: bills conflict", "period", p.Name, "conflicts", len(rep.Conflicts))
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := d.cfg.PeriodCloser.ClosePeriod(ctx, closeRecord(p, rep, d.cfg.Now())); err != nil {
		d.log.Error("period close not published; it is published again when the daemon restarts and re-issues the period", "period", p.Name, "err", err)
		return
	}
	d.log.Info("period closed for masking", "period", p.Name)
}

// bindCloser sets the PeriodCloser from CloseBucket, on the consumer's
// connection.
func (d *Daemon) bindCloser(ctx context.Context) error {
	if d.cfg.CloseBucket == "" || d.cfg.PeriodCloser != nil {
		return nil
	}
	if d.cons == nil {
		return errors.New("billingd: close_bucket needs the daemon's own consumer (an embedder with Config.Source sets PeriodCloser)")
	}
	bctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	kv, err := bulletin.Bind(bctx, d.cons.JetStream(), d.cfg.CloseBucket, d.cons.Declares())
	if err != nil {
		return fmt.Errorf("billingd: close_bucket: %w", err)
	}
	d.cfg.PeriodCloser = KVCloser{KV: kv}
	d.log.Info("period closes are published for masking", "bucket", d.cfg.CloseBucket)
	return nil
}
