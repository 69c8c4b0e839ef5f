package producer

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/ppnet/ppnet/internal/fddm/bulletin"
	"github.com/ppnet/ppnet/internal/fddm/mask"
	"github.com/ppnet/ppnet/internal/fddm/model"
	"github.com/ppnet/ppnet/internal/natsx"
	"github.com/ppnet/ppnet/internal/netconfig"
)

// waitUntil polls cond every 10 ms until it holds or 30 s pass.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		<-tick.C
	}
}

// TestMaskingAfterPeriodClose runs a real producer over embedded JetStream
// on two days of 15-minute household readings (two meters), publishes a
// global model, and checks that nothing is masked until the billing
// period's close appears on the bulletin board; after it, the period's
// readings the policy selects are masked (suppressed: no value; coarsened:
// a multiple of the step), every other reading is exact, the history
// served at /history flags exactly the masked ones, and no original of a
// masked reading is left in the bytes of the history file.
func TestMaskingAfterPeriodClose(t *testing.T) {
	for _, tc := range []struct {
		name string
		pol  mask.Policy
	}{
		{"suppress-threshold", mask.Policy{Strategy: mask.Suppress, Threshold: 0.6, MaxShare: 0.5}},
		{"coarsen-rate", mask.Policy{Strategy: mask.Coarsen, TargetRate: 0.3, MaxShare: 0.5, CoarsenWh: 100}},
	} {
		t.Run(tc.name, func(t *testing.T) { testMasking(t, tc.pol) })
	}
}

func testMasking(t *testing.T, pol mask.Policy) {
	const perDay, days = 96, 2
	start := time.Now().Add(-(days + 1) * 24 * time.Hour).Truncate(24 * time.Hour)
	c, keys, err := netconfig.Generate(netconfig.Spec{PPNs: 3, Threshold: 2, W: 3, Meters: 2, Producers: 1, Start: start,
		Round: 15 * time.Minute, Grace: time.Minute, Rounds: perDay * days,
		Rules: []netconfig.RuleSpec{{ID: "daily", Consumer: "utility", Kind: netconfig.KindPerProducer, Window: perDay, Fraction: 1}}}, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	n, err := c.Resolve()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	srv, err := natsx.StartServer(natsx.ServerOptions{Dir: filepath.Join(dir, "nats")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Shutdown(); srv.WaitForShutdown() })
	nc, err := nats.Connect(srv.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	kv, err := bulletin.OpenBucket(ctx, js, "", 1)
	if err != nil {
		t.Fatal(err)
	}
	board, err := bulletin.WatchModels(ctx, kv)
	if err != nil {
		t.Fatal(err)
	}
	defer board.Close()

	src, err := NewHouseholdSource(nil, 3)
	if err != nil {
		t.Fatal(err)
	}
	dataDir := filepath.Join(dir, "producer")
	p, err := New(Config{ID: c.Producers[0].ID, NATS: srv.ClientURL(), DataDir: dataDir, From: 0, Net: n, Key: keys.Producers[0],
		Source: src, Masking: &Masking{Board: board, Policy: pol}})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Start(ctx); err != nil {
		t.Fatal(err)
	}
	stopped := false
	defer func() {
		if !stopped {
			p.Shutdown(context.Background())
		}
	}()
	select {
	case <-p.Done():
	case <-ctx.Done():
		t.Fatal("producer did not deliver its rounds")
	}

	// The exact history, before any close.
	exact := map[[2]uint64]int64{}
	for _, m := range n.ProducerMeters[0] {
		resp, err := p.history(m, 0, perDay*days)
		if err != nil {
			t.Fatal(err)
		}
		if len(resp.Readings) != perDay*days {
			t.Fatalf("meter %d: %d readings stored, want %d", m, len(resp.Readings), perDay*days)
		}
		for _, r := range resp.Readings {
			if r.Masked || r.Wh == nil {
				t.Fatalf("meter %d round %d masked before any period closed", m, r.Round)
			}
			exact[[2]uint64{uint64(m), r.Round}] = *r.Wh
		}
	}

	// A global model that scores readings far above the household's base
	// load as revealing. Once the producer's board has it, still nothing
	// is masked: no period has closed.
	g := bulletin.Global{Round: 0, Contributors: 1, Samples: 1}
	g.Model.W = [model.Dim]float64{-3, 0, 0, 0, 0, 4, 2, 0}
	if err := bulletin.PublishModel(ctx, kv, g); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the model on the board", func() bool { _, ok := board.Get(0); return ok })
	if p.MaskingRuns() != 0 {
		t.Fatal("masked without a period close")
	}
	assertHistory(t, p, n, exact, 0, nil)

	// Close day 0.
	pc := bulletin.PeriodClose{Period: "day0", FirstRound: 0, LastRound: perDay - 1, Bills: 2, Closed: time.Now()}
	if err := bulletin.PublishClose(ctx, kv, pc); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the masking run", func() bool { return p.MaskingRuns() == 1 })
	masked := assertHistory(t, p, n, exact, perDay, &pol)
	if len(masked) == 0 || len(masked) > int(pol.MaxShare*perDay)*2 {
		t.Fatalf("%d readings masked of %d in the period; want some, at most the max share", len(masked), 2*perDay)
	}
	t.Logf("%s: %d of %d readings of the closed period masked", pol.Strategy, len(masked), 2*perDay)

	if err := p.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	stopped = true
	file, err := os.ReadFile(filepath.Join(dataDir, "producer-"+c.Producers[0].ID+".db"))
	if err != nil {
		t.Fatal(err)
	}
	kept := 0
	for k, v := range exact {
		rec := append(readingKey(uint32(k[0]), k[1]), encodeReading(v, MaskNone)...)
		in := bytes.Contains(file, rec)
		if pol.Strategy == mask.Coarsen && v%int64(pol.CoarsenWh) == 0 {
			continue // coarsening leaves a multiple of the step as it was
		}
		if masked[k] && in {
			t.Errorf("meter %d round %d: original %d Wh still in the history file", k[0], k[1], v)
		}
		if !masked[k] && in {
			kept++
		}
	}
	if kept == 0 {
		t.Errorf("only %d of %d unmasked readings found in the file as key‖value; the absence check is vacuous", kept, len(exact)-len(masked))
	}
}

// assertHistory fetches every meter's history over HTTP and checks it
// against exact: rounds below closedTo masked by pol where flagged, all
// others exact. It returns the masked (meter, round) pairs.
func assertHistory(t *testing.T, p *Producer, n *netconfig.Network, exact map[[2]uint64]int64, closedTo uint64, pol *mask.Policy) map[[2]uint64]bool {
	t.Helper()
	masked := map[[2]uint64]bool{}
	for _, m := range n.ProducerMeters[0] {
		resp, err := http.Get(fmt.Sprintf("http://%s/history?meter=%s", p.HTTPAddr(), n.Meters[m]))
		if err != nil {
			t.Fatal(err)
		}
		var h HistoryResponse
		err = json.NewDecoder(resp.Body).Decode(&h)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("GET /history: status %d, %v", resp.StatusCode, err)
		}
		if len(h.Readings) != len(exact)/len(n.ProducerMeters[0]) {
			t.Fatalf("meter %s: %d readings served", n.Meters[m], len(h.Readings))
		}
		for _, r := range h.Readings {
			k := [2]uint64{uint64(m), r.Round}
			orig := exact[k]
			if !r.Masked {
				if r.Wh == nil || *r.Wh != orig {
					t.Fatalf("meter %s round %d: unmasked reading %v, want exact %d", n.Meters[m], r.Round, r.Wh, orig)
				}
				continue
			}
			masked[k] = true
			if r.Round >= closedTo || pol == nil {
				t.Fatalf("meter %s round %d masked outside the closed period", n.Meters[m], r.Round)
			}
			switch pol.Strategy {
			case mask.Suppress:
				if r.Wh != nil || r.Mask != "suppress" {
					t.Fatalf("round %d: suppressed reading served as %v (%s)", r.Round, r.Wh, r.Mask)
				}
			case mask.Coarsen:
				if r.Wh == nil || *r.Wh%int64(pol.CoarsenWh) != 0 || r.Mask != "coarsen" {
					t.Fatalf("round %d: coarsened reading %v (%s), want a multiple of %d", r.Round, r.Wh, r.Mask, pol.CoarsenWh)
				}
			}
		}
	}
	return masked
}

// TestMaskingConfigDefaults: the file form takes the documented defaults,
// an explicit threshold of 0 is kept, and a bad policy is refused.
func TestMaskingConfigDefaults(t *testing.T) {
	m, err := (&MaskingConfig{}).Masking()
	if err != nil {
		t.Fatal(err)
	}
	if p := m.Policy; p.Strategy != mask.Suppress || p.Threshold != 0.6 || p.MaxShare != 0.5 || p.CoarsenWh != 100 {
		t.Errorf("defaults %+v; want suppress, 0.6, 0.5, 100 Wh", p)
	}
	zero := 0.0
	if m, err = (&MaskingConfig{Threshold: &zero, Strategy: "coarsen"}).Masking(); err != nil || m.Policy.Threshold != 0 || m.Policy.Strategy != mask.Coarsen {
		t.Errorf("explicit threshold 0, coarsen: %+v, %v", m, err)
	}
	if _, err := (&MaskingConfig{MaxShare: 1.5}).Masking(); err == nil || !strings.Contains(err.Error(), "max share 1.5") {
		t.Errorf("max share 1.5: err %v, want a refusal naming it", err)
	}
}
