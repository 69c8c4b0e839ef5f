package billingd

import (
	"context"
	"crypto/rand"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ppnet/ppnet/internal/billing/bill"
	"github.com/ppnet/ppnet/internal/billing/notify"
	"github.com/ppnet/ppnet/internal/billing/tariff"
	"github.com/ppnet/ppnet/internal/natsx"
	"github.com/ppnet/ppnet/internal/netconfig"
	"github.com/ppnet/ppnet/internal/ppn"
	"github.com/ppnet/ppnet/internal/producer"
)

// offlineSource wraps the household model: a meter that is offline in a
// round reads above max_reading, which the producer leaves out of the
// round (so the PPNs never get a share for it). It records every reading
// it hands out in range — the meters' own truth.
type offlineSource struct {
	inner   producer.Source
	offline map[uint64]func(round uint64) bool // meter index → offline in round
	bad     int64
	mu      sync.Mutex
	sent    map[[2]uint64]int64 // (meter index, round) → in-range reading (the producer may read a round twice)
}

// own is the sum of a meter's in-range readings.
func (s *offlineSource) own(meter uint64) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	var sum int64
	for k, v := range s.sent {
		if k[0] == meter {
			sum += v
		}
	}
	return sum
}

func (s *offlineSource) Read(round uint64, ids []uint64, dst []int64) error {
	if err := s.inner.Read(round, ids, dst); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, id := range ids {
		if off := s.offline[id]; off != nil && off(round) {
			dst[i] = s.bad
			continue
		}
		s.sent[[2]uint64{id, round}] = dst[i]
	}
	return nil
}

// TestBillingMonthOverNATS runs a real network — embedded nats-server with
// JetStream, 3 PPNs (t = 2, w = 3), one concentrator of 20 meters — and the
// billing daemon as its per-producer consumer, over a 24-round "month" of
// three 8-round windows. Every fully covered bill must equal the tariff
// applied to the sum of its meter's own readings; a meter offline for 4 of
// 24 rounds gets an estimated bill (measured exact, estimate at its own
// average); a meter offline for 12 rounds gets a held bill, never zero.
func TestBillingMonthOverNATS(t *testing.T) {
	const meters, rounds, window = 20, 24, 8
	dir := t.TempDir()
	srv, err := natsx.StartServer(natsx.ServerOptions{Dir: filepath.Join(dir, "nats")})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { srv.Shutdown(); srv.WaitForShutdown() }()
	spec := netconfig.Spec{PPNs: 3, Threshold: 2, W: 3, Meters: meters, Producers: 1, Round: 60 * time.Millisecond,
		Grace: time.Second, Rounds: rounds, Start: time.Now().Add(1500 * time.Millisecond),
		Rules: []netconfig.RuleSpec{{ID: "billing-month", Consumer: "utility", Kind: netconfig.KindPerProducer, Window: window, Fraction: 1}}}
	cfg, keys, err := netconfig.Generate(spec, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	n, err := cfg.Resolve()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	url := srv.ClientURL()

	bcfg := Config{DataDir: filepath.Join(dir, "billing"), SinkDir: filepath.Join(dir, "sink"), Synthetic: meters,
		Periods: []Period{{Name: "2026-03", FirstRound: 0, LastRound: rounds - 1}}, Poll: 50 * time.Millisecond,
		Consumer: consumerConfig(url, n, keys.Consumers[0], filepath.Join(dir, "consumer"))}
	d, err := New(bcfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Start(ctx); err != nil {
		t.Fatal(err)
	}
	running := d
	defer func() { running.Shutdown(ctx) }()
	for i := range cfg.PPNs {
		p, err := ppn.New(ppn.Config{ID: cfg.PPNs[i].ID, NATS: url, DataDir: filepath.Join(dir, cfg.PPNs[i].ID), Net: n, Key: keys.PPNs[i]})
		if err != nil {
			t.Fatal(err)
		}
		if err := p.Start(ctx); err != nil {
			t.Fatal(err)
		}
		defer p.Shutdown(ctx)
	}
	hh, err := producer.NewHouseholdSource(nil, 7)
	if err != nil {
		t.Fatal(err)
	}
	// The grace (1 s) is generous so that a loaded machine does not make
	// bundles late, which would change coverage and so the expected bills.
	// Meter index 3 offline in rounds 10–13 (20 of 24 covered, 83%);
	// meter index 5 offline in rounds 0–11 (50%).
	src := &offlineSource{inner: hh, bad: int64(n.Config.MaxReading) + 1, sent: map[[2]uint64]int64{}, offline: map[uint64]func(uint64) bool{
		3: func(r uint64) bool { return r >= 10 && r < 14 },
		5: func(r uint64) bool { return r < 12 },
	}}
	pr, err := producer.New(producer.Config{ID: cfg.Producers[0].ID, NATS: url, DataDir: filepath.Join(dir, "producer"), From: 0,
		Net: n, Key: keys.Producers[0], Source: src})
	if err != nil {
		t.Fatal(err)
	}
	if err := pr.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer pr.Shutdown(ctx)

	select {
	case <-d.Done():
	case <-time.After(60 * time.Second):
		t.Fatalf("billing month not done after 60 s; periods: %+v", d.Periods())
	}
	svc := d.Service()
	sched, err := svc.Schedule("kerc-lt2a-fy2025-26")
	if err != nil {
		t.Fatal(err)
	}
	sinkFiles, err := os.ReadDir(filepath.Join(dir, "sink"))
	if err != nil {
		t.Fatal(err)
	}
	sink := map[string]bool{}
	for _, f := range sinkFiles {
		sink[f.Name()] = true
	}
	for mi := range uint64(meters) {
		c, err := svc.Customers().ByMeter(n.Meters[mi])
		if err != nil {
			t.Fatal(err)
		}
		b, err := svc.Bills().Latest(c.ID, "2026-03")
		if err != nil {
			t.Fatalf("meter %s: %v", n.Meters[mi], err)
		}
		own := src.own(mi)
		if len(b.Sources) != 1 || b.Sources[0].RuleID != "billing-month" || b.Sources[0].FirstRound != 0 || b.Sources[0].LastRound != rounds-1 || len(b.Sources[0].Digest) != 64 {
			t.Errorf("meter %s: bill does not trace to rule billing-month, rounds 0–%d with a digest: %+v", n.Meters[mi], rounds-1, b.Sources)
		}
		switch mi {
		case 3:
			est := roundDiv(own*4, 20)
			want, _ := sched.Compute(tariff.Usage{Wh: own + est, SanctionedLoadW: c.SanctionedLoadW})
			if b.Status != bill.StatusIssued || !b.Estimated || b.MeasuredWh != own || b.EstimatedWh != est || b.TotalPaise != want.TotalPaise ||
				b.Sources[0].RoundsMissing != 4 || b.Sources[0].RoundsCovered != 20 {
				t.Errorf("meter offline 4 rounds: status %s estimated %v measured %d (own %d) estimated %d (want %d) total %d (want %d) coverage %d/%d",
					b.Status, b.Estimated, b.MeasuredWh, own, b.EstimatedWh, est, b.TotalPaise, want.TotalPaise, b.Sources[0].RoundsCovered, b.Sources[0].RoundsMissing)
			}
		case 5:
			if b.Status != bill.StatusHeld || b.TotalPaise != 0 || !strings.Contains(b.HoldReason, "12 of 24") {
				t.Errorf("meter offline 12 rounds: status %s total %d reason %q; want held, no amount, reason naming 12 of 24 rounds", b.Status, b.TotalPaise, b.HoldReason)
			}
			if sink[strings.ReplaceAll(b.ID(), "/", "_")+"_sms.sms.json"] {
				t.Errorf("held bill %s was notified", b.ID())
			}
			continue
		default:
			want, err := sched.Compute(tariff.Usage{Wh: own, SanctionedLoadW: c.SanctionedLoadW})
			if err != nil {
				t.Fatal(err)
			}
			if b.Status != bill.StatusIssued || b.Estimated || b.BilledWh != own || b.TotalPaise != want.TotalPaise || b.TotalPaise <= 0 {
				t.Errorf("meter %s: status %s billed %d Wh, total %d paise; want issued for its own %d Wh = %d paise",
					n.Meters[mi], b.Status, b.BilledWh, b.TotalPaise, own, want.TotalPaise)
			}
		}
		key := strings.ReplaceAll(b.ID(), "/", "_")
		if !sink[key+"_sms.sms.json"] || !sink[key+"_email.eml"] {
			t.Errorf("bill %s: SMS or e-mail missing from the demo sink", b.ID())
		}
	}
	var ps []PeriodStatus
	getJSON(t, "http://"+d.HTTPAddr()+"/api/billing/periods", &ps)
	if len(ps) != 1 || ps[0].State != "issued" || ps[0].Report == nil || len(ps[0].Report.Held) != 1 || len(ps[0].Report.Estimated) != 1 {
		t.Errorf("period status %+v; want issued with one held and one estimated bill", ps)
	}

	// Restarted on the same state, the daemon re-reads the stored results
	// and issues nothing new, and sends nothing again.
	if err := d.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if running, err = New(bcfg); err != nil {
		t.Fatal(err)
	}
	if err := running.Start(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case <-running.Done():
	case <-time.After(30 * time.Second):
		t.Fatalf("restarted daemon not done; periods: %+v", running.Periods())
	}
	rep := running.Periods()[0].Report
	if rep == nil || len(rep.Unchanged) != meters || len(rep.Issued)+len(rep.Estimated)+len(rep.Held) != 0 {
		t.Errorf("after restart: %+v; want all %d bills unchanged", rep, meters)
	}
	again, _ := os.ReadDir(filepath.Join(dir, "sink"))
	if len(again) != len(sinkFiles) {
		t.Errorf("after restart the sink holds %d files, before %d", len(again), len(sinkFiles))
	}
	es, err := running.Service().Outbox().List()
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range es {
		if e.State != notify.StateSent || e.Attempts != 1 {
			t.Errorf("outbox %s: state %s after %d attempts; want sent once", e.Key, e.State, e.Attempts)
		}
	}
}

func roundDiv(a, b int64) int64 {
	q, r := new(big.Int).QuoRem(big.NewInt(a), big.NewInt(b), new(big.Int))
	if 2*r.Int64() >= b {
		return q.Int64() + 1
	}
	return q.Int64()
}
