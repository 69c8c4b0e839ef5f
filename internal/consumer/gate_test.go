package consumer

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/ppnet/ppnet/internal/netconfig"
	"github.com/ppnet/ppnet/internal/seal"
	"github.com/ppnet/ppnet/internal/wire"
	"github.com/ppnet/ppnet/sharing"
)

// gateNet is a consumer "grid" granted sums over at least 3 meters and 1
// round, with rule "street" (the first 4 of 40 meters) and rule "feeder"
// (all 40), both per round, over 4 PPNs (t = 2).
type gateNet struct {
	t    *testing.T
	net  *netconfig.Network
	keys *netconfig.Keys
	c    *Consumer
	out  *bytes.Buffer
	logs *bytes.Buffer
	seq  uint64
}

func newGateNet(t *testing.T, grant *netconfig.Grant) *gateNet {
	t.Helper()
	spec := netconfig.Spec{PPNs: 4, Threshold: 2, W: 4, Meters: 40,
		Start: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), Round: time.Minute, Rounds: 8,
		Rules: []netconfig.RuleSpec{
			{ID: "street", Consumer: "grid", Kind: netconfig.KindSum, Window: 1, Fraction: 0.1},
			{ID: "feeder", Consumer: "grid", Kind: netconfig.KindSum, Window: 1, Fraction: 1},
		}}
	cfg, keys, err := netconfig.Generate(spec, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Consumers[0].Grant = grant
	n, err := cfg.Resolve()
	if err != nil {
		t.Fatal(err)
	}
	if len(n.Rules[0].Meters) != 4 || len(n.Rules[1].Meters) != 40 {
		t.Fatalf("rules cover %d and %d meters; want 4 and 40", len(n.Rules[0].Meters), len(n.Rules[1].Meters))
	}
	g := &gateNet{t: t, net: n, keys: keys, out: &bytes.Buffer{}, logs: &bytes.Buffer{}}
	dir := t.TempDir()
	g.c, err = New(Config{ID: "grid", DataDir: dir, Net: n, Key: keys.Consumers[0], Out: g.out,
		Logger: slog.New(slog.NewTextHandler(g.logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	if g.c.db, err = openStore(filepath.Join(dir, "grid.db")); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { g.c.db.Close() })
	return g
}

// send delivers the shares of all 4 PPNs for a sum window whose coverage
// misses the given runs of slots (slot i is meter position i of the rule).
func (g *gateNet) send(rule int, window uint64, value int64, missing []wire.Run) {
	g.t.Helper()
	sp, err := sharing.NewSplitter(g.net.X, 2, rand.Reader)
	if err != nil {
		g.t.Fatal(err)
	}
	e, _ := sharing.FromInt64(value)
	ys := make([]sharing.Element, len(g.net.X))
	if err := sp.Split(e, ys); err != nil {
		g.t.Fatal(err)
	}
	r := g.net.Rules[rule]
	for p := range g.net.X {
		a := wire.Aggregate{Epoch: 1, Rule: uint16(rule), Window: window, PPN: uint16(p), Consumer: 0, Slots: r.Slots, Missing: missing}
		ring := seal.NewKeyring(g.keys.PPNs[p], 1)
		ring.AddPeer(seal.PurposeAggregate, 0, g.net.ConsumerKeys[0])
		aead, _ := ring.AEAD(seal.PurposeAggregate, 0)
		header := a.AppendHeader(nil)
		nonce := seal.AggregateNonce(1, a.Rule, window)
		a.Sealed = aead.Seal(nil, nonce[:], wire.AppendElements(nil, []sharing.Element{ys[p]}), header)
		g.seq++
		if err := g.c.ingest(a.Marshal(), g.seq); err != nil {
			g.t.Fatal(err)
		}
	}
}

func (g *gateNet) result(rule string, window uint64) Result {
	g.t.Helper()
	res, err := g.c.Results()
	if err != nil {
		g.t.Fatal(err)
	}
	for _, r := range res {
		if r.Rule == rule && r.WindowStart == window {
			return r
		}
	}
	g.t.Fatalf("no result for rule %s window %d in %+v", rule, window, res)
	return Result{}
}

func TestReleaseTimePolicyCheck(t *testing.T) {
	g := newGateNet(t, &netconfig.Grant{Kinds: []string{netconfig.KindSum}, MinWindow: 1, MinCohort: 3})
	const street, feeder = 0, 1

	// Complete windows are released without a check.
	g.send(street, 0, 1000, nil)
	g.send(feeder, 0, 9000, nil)
	// A large cohort missing one meter: feeder without m00002 (39 meters),
	// street complete; no total of fewer than 3 meters falls out.
	g.send(street, 1, 1100, nil)
	g.send(feeder, 1, 8800, []wire.Run{{Start: 1, Len: 1}})
	// Street missing all but one of its 4 meters: a single meter's total.
	g.send(street, 2, 250, []wire.Run{{Start: 0, Len: 3}})

	if r := g.result("feeder", 1); r.Withheld != nil || r.Value == nil || *r.Value != 8800 || len(r.Missing) != 1 || !r.Final {
		t.Errorf("large cohort partial result: %+v, want released 8800 missing one meter", r)
	}
	r := g.result("street", 2)
	if r.Withheld == nil || r.Value != nil || r.Values != nil || !r.Final {
		t.Fatalf("single-meter result: %+v, want final, withheld, no value", r)
	}
	if !strings.Contains(r.Withheld.Reason, `rule "street"`) || !strings.Contains(r.Withheld.Reason, "m00001, m00002, m00003") ||
		len(r.Withheld.Refusals) == 0 || r.Withheld.Refusals[0].Rule != "street@1" || !strings.Contains(r.Withheld.Refusals[0].Reason, "minimum cohort 3") {
		t.Errorf("withheld explanation %+v", r.Withheld)
	}
	if got := r.Withheld.Lacking["street@1"]; len(got) != 3 {
		t.Errorf("lacking %v, want the 3 missing meters", got)
	}
	if got := testutil.ToFloat64(g.c.gate.withheld); got != 1 {
		t.Errorf("ppnet_consumer_withheld_total = %v, want 1", got)
	}
	if !strings.Contains(g.logs.String(), "result withheld by the release-time policy check") || !strings.Contains(g.logs.String(), "street@1") {
		t.Errorf("log does not explain the withholding:\n%s", g.logs)
	}
	// The JSON line carries the explanation and no value.
	var line Result
	for _, l := range strings.Split(strings.TrimSpace(g.out.String()), "\n") {
		var x Result
		if err := json.Unmarshal([]byte(l), &x); err != nil {
			t.Fatal(err)
		}
		if x.Rule == "street" && x.WindowStart == 2 {
			line = x
		}
	}
	if line.Withheld == nil || line.Value != nil {
		t.Errorf("JSON line %+v, want withheld without value", line)
	}
	checks := testutil.ToFloat64(g.c.gate.checks)
	if checks != 2 {
		t.Errorf("%v checks run, want 2 (only the two partial results)", checks)
	}

	// The same partial coverage again (a restarted PPN re-sending) is
	// decided from the cache.
	g.send(feeder, 1, 8800, []wire.Run{{Start: 1, Len: 1}})
	if got := testutil.ToFloat64(g.c.gate.checks); got != checks {
		t.Errorf("checks %v after a repeat, want %v", got, checks)
	}

	// Differencing across rules: feeder keeping only street's 4 meters
	// and m00005 (5 meters, enough on its own) next to a complete street
	// gives feeder' − street = m00005 alone.
	g.send(street, 3, 900, nil)
	g.send(feeder, 3, 1200, []wire.Run{{Start: 5, Len: 35}})
	r = g.result("feeder", 3)
	if r.Withheld == nil || len(r.Withheld.Leaks) == 0 {
		t.Fatalf("feeder keeping 5 meters: %+v, want withheld by a leak", r)
	}
	if l := r.Withheld.Leaks[0]; l.ProducerCount != 1 || l.Producers[0] != "m00005" || !strings.Contains(r.Withheld.Reason, "feeder@1") {
		t.Errorf("leak %v, want m00005 through feeder@1", l)
	}
	if got := testutil.ToFloat64(g.c.gate.withheld); got != 2 {
		t.Errorf("ppnet_consumer_withheld_total = %v, want 2", got)
	}
}

// TestReleaseTimeCheckOffWithoutGrant: a hand-written network file without
// grants cannot be checked; partial results are released and the consumer
// says so once.
func TestReleaseTimeCheckOffWithoutGrant(t *testing.T) {
	g := newGateNet(t, nil)
	g.send(0, 0, 250, []wire.Run{{Start: 0, Len: 3}})
	if r := g.result("street", 0); r.Withheld != nil || r.Value == nil {
		t.Errorf("result %+v, want released (no grant to check against)", r)
	}
	if !strings.Contains(g.logs.String(), "release-time policy check off") {
		t.Errorf("no warning that the check is off:\n%s", g.logs)
	}
}
