package consumer

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/ppnet/ppnet/internal/netconfig"
	"github.com/ppnet/ppnet/internal/seal"
	"github.com/ppnet/ppnet/internal/wire"
	"github.com/ppnet/ppnet/sharing"
)

// fixture is a consumer of a 4-PPN network (t = 2, w = 4) fed aggregated
// shares directly, without NATS.
type fixture struct {
	t    *testing.T
	net  *netconfig.Network
	keys *netconfig.Keys
	c    *Consumer
	out  *bytes.Buffer
	logs *bytes.Buffer
	seq  uint64
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	spec := netconfig.Spec{PPNs: 4, Threshold: 2, W: 4, Meters: 2,
		Start: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), Round: time.Minute, Rounds: 4,
		Rules: []netconfig.RuleSpec{
			{ID: "total", Consumer: "c", Kind: netconfig.KindSum, Window: 1, Fraction: 1},
			{ID: "bill", Consumer: "c", Kind: netconfig.KindPerProducer, Window: 2, Fraction: 1},
		}}
	cfg, keys, err := netconfig.Generate(spec, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	n, err := cfg.Resolve()
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, net: n, keys: keys, out: &bytes.Buffer{}, logs: &bytes.Buffer{}}
	dir := t.TempDir()
	f.c, err = New(Config{ID: "c", DataDir: dir, Net: n, Key: keys.Consumers[0], Out: f.out,
		Logger: slog.New(slog.NewTextHandler(f.logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	if f.c.db, err = openStore(filepath.Join(dir, "c.db")); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.c.db.Close() })
	return f
}

// shares splits the values of one window among the 4 PPNs.
func (f *fixture) shares(vals ...int64) [][]sharing.Element {
	sp, err := sharing.NewSplitter(f.net.X, 2, rand.Reader)
	if err != nil {
		f.t.Fatal(err)
	}
	out := make([][]sharing.Element, len(f.net.X))
	for _, v := range vals {
		e, _ := sharing.FromInt64(v)
		ys := make([]sharing.Element, len(f.net.X))
		if err := sp.Split(e, ys); err != nil {
			f.t.Fatal(err)
		}
		for j := range ys {
			out[j] = append(out[j], ys[j])
		}
	}
	return out
}

// aggregate seals PPN sealer's share as if from PPN claim.
func (f *fixture) aggregate(rule int, window uint64, claim, sealer int, vals []sharing.Element, missing []wire.Run) wire.Aggregate {
	r := f.net.Rules[rule]
	a := wire.Aggregate{Epoch: 1, Rule: uint16(rule), Window: window, PPN: uint16(claim), Consumer: 0, Slots: r.Slots, Missing: missing}
	ring := seal.NewKeyring(f.keys.PPNs[sealer], 1)
	ring.AddPeer(seal.PurposeAggregate, 0, f.net.ConsumerKeys[0])
	aead, _ := ring.AEAD(seal.PurposeAggregate, 0)
	header := a.AppendHeader(nil)
	nonce := seal.AggregateNonce(1, a.Rule, window)
	a.Sealed = aead.Seal(nil, nonce[:], wire.AppendElements(nil, vals), header)
	return a
}

func (f *fixture) feed(msg []byte) {
	f.t.Helper()
	f.seq++
	if err := f.c.ingest(msg, f.seq); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) rejected(reason string) float64 {
	return testutil.ToFloat64(f.c.m.rejected.WithLabelValues(reason))
}

func TestRejectsBadAggregates(t *testing.T) {
	f := newFixture(t)
	sh := f.shares(100)
	impostor := f.aggregate(0, 0, 0, 1, sh[1], nil) // PPN 1 posing as PPN 0
	moved := f.aggregate(0, 0, 0, 0, sh[0], nil)
	moved.Missing = []wire.Run{{Start: 0, Len: 1}} // coverage changed after sealing
	wrongSlots := f.aggregate(0, 0, 0, 0, sh[0], nil)
	wrongSlots.Slots = 3
	shifted := f.aggregate(0, 0, 0, 0, sh[0], nil)
	shifted.Window = 1 // replayed into another window
	genuine := f.aggregate(0, 0, 0, 0, sh[0], nil)
	good := genuine.Marshal()
	tests := []struct {
		name, reason string
		msg          []byte
	}{
		{"garbage", "magic", []byte("not an aggregate")},
		{"truncated", "truncated", good[:len(good)-3]},
		{"header only", "truncated", good[:20]},
		{"trailing bytes", "trailing", append(append([]byte(nil), good...), 0)},
		{"oversized", "oversized", make([]byte, wire.MaxMessage+1)},
		{"impostor PPN", "forged", impostor.Marshal()},
		{"coverage changed", "forged", moved.Marshal()},
		{"replayed window", "forged", shifted.Marshal()},
		{"wrong slots", "window", wrongSlots.Marshal()},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := f.rejected(tc.reason)
			f.feed(tc.msg)
			if got := f.rejected(tc.reason); got != before+1 {
				t.Fatalf("rejected{reason=%q} = %v, want %v", tc.reason, got, before+1)
			}
			if !strings.Contains(f.logs.String(), "reason="+tc.reason) {
				t.Fatalf("no log line naming %q", tc.reason)
			}
		})
	}
	if res, _ := f.c.Results(); len(res) != 0 {
		t.Fatalf("rejected shares produced results: %+v", res)
	}
}

func TestRecoversCorrectsAndReportsCoverage(t *testing.T) {
	f := newFixture(t)
	// per-producer rule, window 0 of 2 rounds, meter 1's round 1 missing
	// (slot 1·2 + 1 = 3): values 40 and 7.
	missing := []wire.Run{{Start: 3, Len: 1}}
	sh := f.shares(40, 7)
	for p := 0; p < 4; p++ {
		vals := sh[p]
		if p == 2 { // PPN 3 lies
			vals = []sharing.Element{vals[0].Add(sharing.NewElement(5)), vals[1]}
		}
		a := f.aggregate(1, 0, p, p, vals, missing)
		f.feed(a.Marshal())
		if p == 0 {
			f.feed(a.Marshal()) // an exact duplicate changes nothing
			other := f.aggregate(1, 0, 0, 0, f.shares(1, 1)[0], missing)
			before := f.rejected("conflicting")
			f.feed(other.Marshal())
			if f.rejected("conflicting") != before+1 {
				t.Fatal("a second, different share from the same PPN was not flagged")
			}
		}
	}
	res, err := f.c.Results()
	if err != nil || len(res) != 1 {
		t.Fatalf("results %+v, %v", res, err)
	}
	r := res[0]
	m1, m2 := f.net.Meters[0], f.net.Meters[1]
	if !r.Final || !r.Checked || r.Values[m1] != 40 || r.Values[m2] != 7 || !slices.Equal(r.Faulty, []string{"ppn3"}) {
		t.Fatalf("result %+v; want final, checked, {%s:40 %s:7}, faulty [ppn3]", r, m1, m2)
	}
	if r.Covered != 3 || len(r.Missing) != 1 || r.Missing[0][0] != m2 || fmt.Sprint(r.Missing[0][1]) != "1" {
		t.Fatalf("coverage %d missing %v; want 3 and [[%s 1]]", r.Covered, r.Missing, m2)
	}
	lines := strings.Split(strings.TrimSpace(f.out.String()), "\n")
	if len(lines) != 1 {
		t.Fatalf("%d JSON lines, want 1 final line:\n%s", len(lines), f.out.String())
	}
	var line Result
	if err := json.Unmarshal([]byte(lines[0]), &line); err != nil || line.Rule != "bill" || line.Values[m1] != 40 {
		t.Fatalf("JSON line %q: %v", lines[0], err)
	}
	if got := testutil.ToFloat64(f.c.m.faulty.WithLabelValues("ppn3")); got < 1 {
		t.Fatalf("faulty_ppn_total{ppn3} = %v", got)
	}
}

func TestSettleFinalizesWithTShares(t *testing.T) {
	f := newFixture(t)
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	f.c.now = func() time.Time { return now }
	sh := f.shares(123)
	for p := 0; p < 2; p++ { // t = 2 of w = 4
		a := f.aggregate(0, 2, p, p, sh[p], nil)
		f.feed(a.Marshal())
	}
	res, _ := f.c.Results()
	if len(res) != 1 || res[0].Final || *res[0].Value != 123 || res[0].Checked {
		t.Fatalf("before settling: %+v", res)
	}
	now = now.Add(f.c.cfg.Settle)
	if err := f.c.settle(); err != nil {
		t.Fatal(err)
	}
	res, _ = f.c.Results()
	if !res[0].Final || f.out.Len() == 0 {
		t.Fatalf("after settling: %+v, output %q", res, f.out.String())
	}
}

// TestMismatchedCoverage: PPNs that covered different (meter, round) sets
// hold shares of different sums. Only the largest agreeing group is
// combined; the others are named.
func TestMismatchedCoverage(t *testing.T) {
	f := newFixture(t)
	full := f.shares(30)     // both meters covered
	partial := f.shares(10)  // meter 2 missing at one PPN
	for p := 0; p < 3; p++ { // ppn1–3 agree
		a := f.aggregate(0, 1, p, p, full[p], nil)
		f.feed(a.Marshal())
	}
	odd := f.aggregate(0, 1, 3, 3, partial[3], []wire.Run{{Start: 1, Len: 1}})
	f.feed(odd.Marshal())
	res, err := f.c.Results()
	if err != nil || len(res) != 1 {
		t.Fatalf("results %+v, %v", res, err)
	}
	r := res[0]
	if !r.Final || *r.Value != 30 || !slices.Equal(r.Mismatched, []string{"ppn4"}) || len(r.PPNs) != 3 || r.Covered != 2 {
		t.Fatalf("result %+v; want 30 from ppn1–3 covering 2, ppn4 mismatched", r)
	}
}

// TestBatchIngest: one batch holding a window's four shares, an exact
// duplicate, a conflicting share, garbage and an already applied sequence
// commits once, stores the same result as feeding them one by one, and
// emits one final line.
func TestBatchIngest(t *testing.T) {
	f := newFixture(t)
	sh := f.shares(40, 7)
	var in []inMsg
	add := func(b []byte) {
		f.seq++
		in = append(in, inMsg{b, f.seq})
	}
	marshal := func(a wire.Aggregate) []byte { return a.Marshal() }
	first := marshal(f.aggregate(1, 0, 0, 0, sh[0], nil))
	add(first)
	add(first)
	add(marshal(f.aggregate(1, 0, 0, 0, f.shares(1, 1)[0], nil)))
	add([]byte("not an aggregate"))
	for p := 1; p < 4; p++ {
		add(marshal(f.aggregate(1, 0, p, p, sh[p], nil)))
	}
	in = append(in, inMsg{first, 2}) // behind the batch: skipped
	if err := f.c.ingestBatch(in); err != nil {
		t.Fatal(err)
	}
	if f.c.seq != f.seq {
		t.Errorf("position %d after the batch, want %d", f.c.seq, f.seq)
	}
	if got, err := loadSeq(f.c.db); err != nil || got != f.seq {
		t.Errorf("stored position %d (%v), want %d", got, err, f.seq)
	}
	if f.rejected("conflicting") != 1 || f.rejected("magic") != 1 {
		t.Errorf("rejected: conflicting %v, magic %v; want 1 each", f.rejected("conflicting"), f.rejected("magic"))
	}
	res, err := f.c.Results()
	if err != nil || len(res) != 1 {
		t.Fatalf("results %+v, %v", res, err)
	}
	m1, m2 := f.net.Meters[0], f.net.Meters[1]
	if r := res[0]; !r.Final || !r.Checked || r.Values[m1] != 40 || r.Values[m2] != 7 || len(r.Faulty) != 0 {
		t.Fatalf("result %+v; want final, checked, {%s:40 %s:7}, none faulty", r, m1, m2)
	}
	if n := strings.Count(f.out.String(), "\n"); n != 1 {
		t.Fatalf("%d JSON lines, want 1:\n%s", n, f.out.String())
	}
	// Feeding the same sequences again changes nothing.
	if err := f.c.ingestBatch(in); err != nil || f.rejected("conflicting") != 1 || strings.Count(f.out.String(), "\n") != 1 {
		t.Fatalf("replayed batch: err %v, conflicting %v, output %q", err, f.rejected("conflicting"), f.out.String())
	}
}
