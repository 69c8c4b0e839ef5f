package registry

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ppnet/ppnet/internal/netconfig"
	"github.com/ppnet/ppnet/internal/policy"
	"github.com/ppnet/ppnet/internal/seal"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// fixedNow is a clock for deterministic enrolment times.
func fixedNow() time.Time { return t0.Add(time.Hour) }

// keyGen returns base64 X25519 public keys from a seeded stream.
func keyGen(t testing.TB, seed uint64) func() string {
	rnd := rand.NewChaCha8([32]byte{byte(seed)})
	return func() string {
		t.Helper()
		k, err := seal.GenerateKey(rnd)
		if err != nil {
			t.Fatal(err)
		}
		return seal.EncodeKey(k.PublicKey().Bytes())
	}
}

// fixture opens a registry with ten meters on two feeders, five PPNs of
// capacity 40, a grid consumer (sums, hourly, cohort 5) and a billing
// consumer (per-producer, daily).
func fixture(t testing.TB) (*Registry, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "registry.db")
	r, err := Open(path, &Options{Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	key := keyGen(t, 1)
	for i := 1; i <= 10; i++ {
		feeder := "F12"
		if i > 5 {
			feeder = "F13"
		}
		must(t, r.AddProducer(Producer{ID: fmt.Sprintf("h%d", i), Labels: map[string]string{"feeder": feeder}, Max: 5000, PublicKey: key()}))
	}
	for i := 1; i <= 5; i++ {
		must(t, r.AddPPN(PPN{ID: fmt.Sprintf("ppn%d", i), X: uint64(i), Capacity: 40, Operator: "op", PublicKey: key()}))
	}
	must(t, r.AddConsumer(Consumer{ID: "grid", Grant: policy.FileGrant{Kinds: []string{"sum"}, MinWindow: 4, MinCohort: 5}, PublicKey: key()}))
	must(t, r.AddConsumer(Consumer{ID: "billing", Grant: policy.FileGrant{Kinds: []string{"per-producer"}, MinWindow: 96, MinCohort: 1}, PublicKey: key()}))
	return r, path
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func feederRule(id, feeder string) Rule {
	return Rule{ID: id, Consumer: "grid", Producers: policy.FileSelection{Selector: "feeder=" + feeder}, Window: 4, Kind: "sum"}
}

func TestPersistsAcrossReopen(t *testing.T) {
	r, path := fixture(t)
	_, err := r.RequestRule(feederRule("f12", "F12"), nil)
	must(t, err)
	must(t, r.RetirePPN("ppn5"))
	e, err := r.PlanEpoch(context.Background(), PlanOptions{AutoFirst: true, CurrentRound: 10, Clock: Clock{Start: t0, Round: 15 * time.Minute}})
	must(t, err)
	snap := func(r *Registry) []any {
		ps, err1 := r.Producers()
		ns, err2 := r.PPNs()
		cs, err3 := r.Consumers()
		rs, err4 := r.Rules()
		es, err5 := r.Epochs()
		must(t, errors.Join(err1, err2, err3, err4, err5))
		return []any{ps, ns, cs, rs, es}
	}
	before := snap(r)
	must(t, r.Close())
	r2, err := Open(path, nil)
	must(t, err)
	defer r2.Close()
	after := snap(r2)
	if !reflect.DeepEqual(before, after) {
		t.Fatalf("state changed across reopen:\nbefore %+v\nafter  %+v", before, after)
	}
	if len(after[0].([]Producer)) != 10 || len(after[1].([]PPN)) != 5 || len(after[3].([]Rule)) != 1 {
		t.Fatalf("reopened registry holds %d producers, %d PPNs, %d rules; want 10, 5, 1", len(after[0].([]Producer)), len(after[1].([]PPN)), len(after[3].([]Rule)))
	}
	if es := after[4].([]Epoch); len(es) != 1 || es[0].FirstRound != e.FirstRound {
		t.Fatalf("reopened epochs %+v; want epoch 1 at round %d", es, e.FirstRound)
	}
	if after[1].([]PPN)[4].Retired == nil {
		t.Fatal("ppn5's retirement was lost on reopen")
	}
}

func TestSecondOpenIsRefused(t *testing.T) {
	_, path := fixture(t)
	_, err := Open(path, &Options{LockTimeout: 50 * time.Millisecond})
	if err == nil || !containsAll(err.Error(), "held by another process", "--db") {
		t.Fatalf("second open: %v; want a lock error naming --db", err)
	}
}

func containsAll(s string, subs ...string) bool {
	for _, x := range subs {
		if !strings.Contains(s, x) {
			return false
		}
	}
	return true
}

func TestEnrolmentRefusals(t *testing.T) {
	r, _ := fixture(t)
	key := keyGen(t, 2)
	must(t, r.RetirePPN("ppn5"))
	grant := policy.FileGrant{Kinds: []string{"sum"}, MinWindow: 1, MinCohort: 1}
	tests := []struct {
		name string
		err  error
		is   error
		want string
	}{
		{"duplicate producer", r.AddProducer(Producer{ID: "h1", Max: 1, PublicKey: key()}), ErrExists, `producer "h1" exists`},
		{"bad producer id", r.AddProducer(Producer{ID: "h 1", Max: 1, PublicKey: key()}), ErrInvalid, "ids are 1–64 characters"},
		{"zero max", r.AddProducer(Producer{ID: "h11", PublicKey: key()}), ErrInvalid, "max reading 0"},
		{"bad label", r.AddProducer(Producer{ID: "h11", Max: 1, Labels: map[string]string{"a=b": "c"}, PublicKey: key()}), ErrInvalid, "label"},
		{"bad key", r.AddProducer(Producer{ID: "h11", Max: 1, PublicKey: "not base64!"}), ErrInvalid, `producer "h11" public key`},
		{"x of retired ppn", r.AddPPN(PPN{ID: "ppn6", X: 5, Capacity: 1, PublicKey: key()}), ErrExists, `x = 5 belongs to ppn "ppn5"`},
		{"x zero", r.AddPPN(PPN{ID: "ppn6", X: 0, Capacity: 1, PublicKey: key()}), ErrInvalid, "x = 0"},
		{"capacity zero", r.AddPPN(PPN{ID: "ppn6", X: 6, PublicKey: key()}), ErrInvalid, "capacity 0"},
		{"retire twice", r.RetirePPN("ppn5"), ErrInvalid, "retired at"},
		{"retire unknown", r.RetirePPN("ppn9"), ErrNotFound, `no ppn "ppn9"`},
		{"consumer kind", r.AddConsumer(Consumer{ID: "x", Grant: policy.FileGrant{Kinds: []string{"avg"}, MinWindow: 1, MinCohort: 1}, PublicKey: key()}), ErrInvalid, `kind "avg"`},
		{"consumer window", r.AddConsumer(Consumer{ID: "x", Grant: policy.FileGrant{Kinds: []string{"sum"}, MinCohort: 1}, PublicKey: key()}), ErrInvalid, "min window 0"},
		{"duplicate consumer", r.AddConsumer(Consumer{ID: "grid", Grant: grant, PublicKey: key()}), ErrExists, `consumer "grid" exists`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if !errors.Is(tc.err, tc.is) || !containsAll(tc.err.Error(), tc.want, "registry: ") {
				t.Fatalf("error %v; want %v containing %q", tc.err, tc.is, tc.want)
			}
		})
	}
	ps, err := r.Producers()
	must(t, err)
	if len(ps) != 10 {
		t.Fatalf("%d producers after refused enrolments; want 10", len(ps))
	}
}

func TestRuleRefusals(t *testing.T) {
	r, _ := fixture(t)
	_, err := r.RequestRule(feederRule("f12", "F12"), nil)
	must(t, err)
	minusH1 := feederRule("f12-h1", "F12")
	minusH1.Producers.Exclude = []string{"h1"}
	tiny := Rule{ID: "pair", Consumer: "grid", Producers: policy.FileSelection{IDs: []string{"h1", "h2"}}, Window: 4, Kind: "sum"}
	short := feederRule("f13-fast", "F13")
	short.Window = 1
	perProducer := Rule{ID: "pp", Consumer: "grid", Producers: policy.FileSelection{Selector: "feeder=F13"}, Window: 96, Kind: "per-producer"}
	nobody := feederRule("f99", "F99")
	tests := []struct {
		name    string
		rule    Rule
		leak    bool   // want a leak rather than a refusal
		reason  string // substring of the refusal reason
		errWant string // a non-policy error instead
	}{
		{"differencing", minusH1, true, "", ""},
		{"cohort", tiny, false, "minimum cohort 5", ""},
		{"window", short, false, "minimum window 4", ""},
		{"kind", perProducer, false, "not granted kind per-producer", ""},
		{"empty selection", nobody, false, "selects no producers", ""},
		{"unknown consumer", Rule{ID: "u", Consumer: "nobody", Producers: policy.FileSelection{Selector: "feeder=F12"}, Window: 4, Kind: "sum"}, false, "", `consumer "nobody", which is not enrolled`},
		{"duplicate id", feederRule("f12", "F13"), false, "", `rule "f12" exists`},
		{"bad kind", Rule{ID: "k", Consumer: "grid", Producers: policy.FileSelection{Selector: "feeder=F13"}, Window: 4, Kind: "avg"}, false, "", "avg"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rep, err := r.RequestRule(tc.rule, nil)
			if tc.errWant != "" {
				if err == nil || errors.Is(err, ErrRefused) || !containsAll(err.Error(), tc.errWant) {
					t.Fatalf("error %v; want a plain error containing %q", err, tc.errWant)
				}
				return
			}
			var refused *RefusedError
			if !errors.As(err, &refused) || rep == nil || rep.Accepted || refused.Report != rep {
				t.Fatalf("request: report %+v, error %v; want a refusal with its report", rep, err)
			}
			if tc.leak {
				if len(rep.Leaks) == 0 || !slices.Equal(rep.Leaks[0].Producers, []string{"h1"}) {
					t.Fatalf("leaks %+v; want house h1 derived", rep.Leaks)
				}
				return
			}
			found := false
			for _, f := range rep.Refusals {
				found = found || (f.Rule == tc.rule.ID && containsAll(f.Reason, tc.reason))
			}
			if !found {
				t.Fatalf("refusals %+v; want rule %q refused for %q", rep.Refusals, tc.rule.ID, tc.reason)
			}
		})
	}
	plus := feederRule("f12-h6", "F12")
	plus.Producers.IDs = []string{"h6"}
	if _, err := r.RequestRule(plus, nil); !errors.Is(err, ErrRefused) {
		t.Fatalf("F12 plus h6 beside F12: %v; want refused", err)
	}
	rs, err := r.Rules()
	must(t, err)
	if len(rs) != 1 || rs[0].ID != "f12" {
		t.Fatalf("rules after refusals: %+v; want only f12", rs)
	}
	// Revoked rules leave the checked set and keep their ids taken.
	must(t, r.RevokeRule("f12"))
	if err := r.RevokeRule("f12"); !errors.Is(err, ErrInvalid) {
		t.Fatalf("second revoke: %v; want ErrInvalid", err)
	}
	if _, err := r.RequestRule(feederRule("f12", "F12"), nil); !errors.Is(err, ErrExists) {
		t.Fatalf("reusing a revoked id: %v; want ErrExists", err)
	}
	// F12 plus h6 gives h6 by subtraction while f12 is active, not after.
	plusH6 := feederRule("f12-h6", "F12")
	plusH6.Producers.IDs = []string{"h6"}
	if _, err := r.RequestRule(plusH6, nil); err != nil {
		t.Fatalf("F12 plus h6 after revoking F12: %v; want accepted", err)
	}
}

// admitAll admits the hourly feeder sums and daily per-meter billing.
func admitAll(t *testing.T, r *Registry) {
	t.Helper()
	for _, rule := range []Rule{feederRule("f12", "F12"), feederRule("f13", "F13"),
		{ID: "bill", Consumer: "billing", Producers: policy.FileSelection{Selector: "feeder=F12"}, Window: 96, Kind: "per-producer"}} {
		_, err := r.RequestRule(rule, nil)
		must(t, err)
	}
}

func TestPlanFirstRound(t *testing.T) {
	r, _ := fixture(t)
	admitAll(t, r)
	clock := Clock{Start: t0, Round: 15 * time.Minute, Grace: time.Minute}
	tests := []struct {
		name    string
		first   uint64
		current int64
		want    string
	}{
		{"past", 96, 200, "first round 96 is not in the future (current round 200); use 288 or later"},
		{"now", 200, 200, "not in the future"},
		{"cuts a window", 250, 200, "would cut a window (windows of this and the previous epoch tile by 96 rounds); use a multiple of 96 such as 288"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := r.PlanEpoch(context.Background(), PlanOptions{FirstRound: tc.first, CurrentRound: tc.current, Clock: clock})
			if !errors.Is(err, ErrInvalid) || !containsAll(err.Error(), tc.want) {
				t.Fatalf("plan: %v; want %q", err, tc.want)
			}
		})
	}
	_, err := r.PlanEpoch(context.Background(), PlanOptions{AutoFirst: true, CurrentRound: 200})
	if err == nil || !containsAll(err.Error(), "first epoch needs the round clock") {
		t.Fatalf("plan without a clock: %v", err)
	}
	e, err := r.PlanEpoch(context.Background(), PlanOptions{AutoFirst: true, CurrentRound: 200, Clock: clock})
	must(t, err)
	if e.FirstRound != 288 || e.Number != 1 {
		t.Fatalf("auto first round: epoch %d at %d; want epoch 1 at 288", e.Number, e.FirstRound)
	}
}

// TestPlanRendersValidNetwork plans, renders and loads the file with
// netconfig.Load, then checks the assignment against the rules.
func TestPlanRendersValidNetwork(t *testing.T) {
	for _, solver := range Solvers {
		t.Run(solver, func(t *testing.T) {
			r, _ := fixture(t)
			admitAll(t, r)
			clock := Clock{Start: t0, Round: 15 * time.Minute, Grace: time.Minute}
			e, err := r.PlanEpoch(context.Background(), PlanOptions{FirstRound: 96, CurrentRound: 5, Clock: clock, Threshold: 2, W: 3, Solver: solver})
			must(t, err)
			b, err := r.RenderFile(e.Number, nil)
			must(t, err)
			path := filepath.Join(t.TempDir(), "network.yaml")
			must(t, writeFile(path, b))
			n, err := netconfig.Load(path)
			if err != nil {
				t.Fatalf("netconfig rejects the rendered epoch: %v\n%s", err, b)
			}
			checkNetwork(t, e, n)
			if !n.Config.Rounds.Start.Equal(t0.Add(96*15*time.Minute)) || n.Config.Rounds.Count != 0 {
				t.Fatalf("rendered clock start %v count %d; want round 96's start and unbounded", n.Config.Rounds.Start, n.Config.Rounds.Count)
			}
		})
	}
}

// checkNetwork checks a rendered network against its epoch: every rule
// has w distinct PPNs of the epoch, each meter serves exactly the union of
// its rules' PPNs, and no PPN carries more than its capacity.
func checkNetwork(t *testing.T, e *Epoch, n *netconfig.Network) {
	t.Helper()
	if len(n.Rules) != len(e.Rules) || n.Config.Threshold != e.Threshold || n.Config.Epoch != e.Number {
		t.Fatalf("network has %d rules, t = %d, epoch %d; epoch has %d, %d, %d", len(n.Rules), n.Config.Threshold, n.Config.Epoch, len(e.Rules), e.Threshold, e.Number)
	}
	load := make([]int64, len(n.X))
	want := make([]uint64, len(n.Meters))
	for _, rr := range n.Rules {
		if len(rr.PPNs) != e.W {
			t.Fatalf("rule %s has %d PPNs; want w = %d", rr.ID, len(rr.PPNs), e.W)
		}
		for _, p := range rr.PPNs {
			load[p] += int64(len(rr.Meters))
			for _, m := range rr.Meters {
				want[m] |= 1 << p
			}
		}
	}
	for i, id := range n.Config.PPNs {
		if load[i] > e.PPNs[i].Capacity || load[i] != e.Load[id.ID] {
			t.Fatalf("PPN %s load %d (epoch says %d), capacity %d", id.ID, load[i], e.Load[id.ID], e.PPNs[i].Capacity)
		}
	}
	for m, id := range n.Meters {
		var got []string
		for _, p := range n.PPNsOf(uint32(m)) {
			got = append(got, n.Config.PPNs[p].ID)
		}
		if n.MeterPPNs[m] != want[m] || !slices.Equal(got, e.Assignment[id]) {
			t.Fatalf("meter %s serves %v; epoch assignment %v", id, got, e.Assignment[id])
		}
	}
}

func TestNextEpochDropsRetiredAndEndsPrevious(t *testing.T) {
	r, _ := fixture(t)
	admitAll(t, r)
	ctx := context.Background()
	clock := Clock{Start: t0, Round: 15 * time.Minute}
	e1, err := r.PlanEpoch(ctx, PlanOptions{FirstRound: 96, CurrentRound: 0, Clock: clock})
	must(t, err)
	_, err = r.RenderFile(1, nil)
	must(t, err)
	must(t, r.RetirePPN(e1.PPNs[0].ID))
	_, err = r.PlanEpoch(ctx, PlanOptions{FirstRound: 96, CurrentRound: 10})
	if err == nil || !containsAll(err.Error(), "not after epoch 1's first round 96; use 192") {
		t.Fatalf("epoch 2 at epoch 1's round: %v", err)
	}
	e2, err := r.PlanEpoch(ctx, PlanOptions{FirstRound: 192, CurrentRound: 100})
	must(t, err)
	if e2.Number != 2 || slices.ContainsFunc(e2.PPNs, func(n PPN) bool { return n.ID == e1.PPNs[0].ID }) {
		t.Fatalf("epoch %d uses PPNs %v; want epoch 2 without retired %s", e2.Number, e2.PPNs, e1.PPNs[0].ID)
	}
	// Replanning an unpublished epoch replaces it.
	e2b, err := r.PlanEpoch(ctx, PlanOptions{FirstRound: 288, CurrentRound: 100})
	must(t, err)
	if e2b.Number != 2 {
		t.Fatalf("replanned epoch is %d; want 2 replaced", e2b.Number)
	}
	old, next, err := r.Epoch(1)
	must(t, err)
	c, err := old.Render(next, nil)
	must(t, err)
	if c.Rounds.Count != 192 {
		t.Fatalf("epoch 1 renders %d rounds; want 288 − 96 = 192", c.Rounds.Count)
	}
	_, err = r.PlanEpoch(ctx, PlanOptions{AutoFirst: true, CurrentRound: 100, Clock: Clock{Start: t0, Round: time.Minute}})
	if err == nil || !containsAll(err.Error(), "the clock is fixed") {
		t.Fatalf("changing the clock: %v", err)
	}
}

func TestPlanRefusals(t *testing.T) {
	r, _ := fixture(t)
	ctx := context.Background()
	clock := Clock{Start: t0, Round: 15 * time.Minute}
	if _, err := r.PlanEpoch(ctx, PlanOptions{AutoFirst: true, Clock: clock}); err == nil || !containsAll(err.Error(), "no active rules") {
		t.Fatalf("plan without rules: %v", err)
	}
	admitAll(t, r)
	if _, err := r.PlanEpoch(ctx, PlanOptions{AutoFirst: true, Clock: clock, Threshold: 3, W: 6}); err == nil || !containsAll(err.Error(), "5 PPNs in service, fewer than w = 6") {
		t.Fatalf("plan with w > PPNs: %v", err)
	}
	if _, err := r.PlanEpoch(ctx, PlanOptions{AutoFirst: true, Clock: clock, Solver: "cplex"}); err == nil || !containsAll(err.Error(), `solver "cplex"`) {
		t.Fatalf("unknown solver: %v", err)
	}
	band := Rule{ID: "peak", Consumer: "billing", Producers: policy.FileSelection{Selector: "feeder=F12"}, Window: 288, Kind: "per-producer", Band: [][2]int{{72, 88}}}
	_, err := r.RequestRule(band, &CheckOptions{Horizon: 288})
	must(t, err)
	if _, err := r.PlanEpoch(ctx, PlanOptions{AutoFirst: true, Clock: clock, Check: &CheckOptions{RoundsPerDay: 192}}); err == nil || !containsAll(err.Error(), `rule "peak" has a time-of-use band and a window of 288 rounds, not whole days of 192`) {
		t.Fatalf("plan with a band rule over 1.5 days: %v", err)
	}
}

// TestPlanBand: a rule with a time-of-use band is planned and rendered into
// the network file with its band and rounds per day, and the epoch starts
// on a day boundary so round-of-day means the same in the file as in the
// policy check.
func TestPlanBand(t *testing.T) {
	r, _ := fixture(t)
	ctx := context.Background()
	admitAll(t, r)
	band := Rule{ID: "peak", Consumer: "billing", Producers: policy.FileSelection{Selector: "feeder=F12"}, Window: 192, Kind: "per-producer", Band: [][2]int{{88, 96}, {0, 24}}}
	_, err := r.RequestRule(band, &CheckOptions{Horizon: 192})
	must(t, err)
	e, err := r.PlanEpoch(ctx, PlanOptions{AutoFirst: true, CurrentRound: 100, Clock: Clock{Start: t0, Round: 15 * time.Minute}})
	must(t, err)
	if e.RoundsPerDay != 96 || e.FirstRound%96 != 0 {
		t.Fatalf("epoch: rounds per day %d, first round %d; want 96 and a whole day", e.RoundsPerDay, e.FirstRound)
	}
	c, err := e.Render(nil, nil)
	must(t, err)
	n, err := c.Resolve()
	must(t, err)
	for _, rr := range n.Rules {
		if rr.ID != "peak" {
			if rr.Band != nil {
				t.Errorf("rule %s rendered with a band", rr.ID)
			}
			continue
		}
		if c.Rounds.PerDay != 96 || rr.Band == nil || !slices.Equal(rr.Band.Rounds, [][2]uint64{{88, 96}, {0, 24}}) || rr.Rows != 2*32 {
			t.Fatalf("rendered peak rule: per_day %d, band %+v, %d rows; want 96, [[88 96] [0 24]], 64", c.Rounds.PerDay, rr.Band, rr.Rows)
		}
		return
	}
	t.Fatal("rule peak not rendered")
}

func writeFile(path string, b []byte) error { return os.WriteFile(path, b, 0o600) }

// TestHorizonCoversLongWindows: a rule whose window exceeds the requested
// horizon is still checked (the horizon grows to the rules' period), so a
// differencing pair of monthly rules is refused under the default horizon,
// and windows whose period is beyond the check are refused by name.
func TestHorizonCoversLongWindows(t *testing.T) {
	r, _ := fixture(t)
	must(t, r.AddConsumer(Consumer{ID: "stats", Grant: policy.FileGrant{Kinds: []string{"sum"}, MinWindow: 96, MinCohort: 5}, PublicKey: keyGen(t, 3)()}))
	month := func(id string, ids ...string) Rule {
		return Rule{ID: id, Consumer: "stats", Producers: policy.FileSelection{Selector: "feeder=F12", IDs: ids}, Window: 2880, Kind: "sum"}
	}
	_, err := r.RequestRule(month("m12"), nil)
	must(t, err)
	rep, err := r.RequestRule(month("m12-h6", "h6"), &CheckOptions{Horizon: 96})
	if !errors.Is(err, ErrRefused) || len(rep.Leaks) == 0 || !slices.Equal(rep.Leaks[0].Producers, []string{"h6"}) {
		t.Fatalf("monthly F12 and F12+h6: %v, leaks %+v; want h6's month derived", err, rep)
	}
	_, err = r.RequestRule(Rule{ID: "long", Consumer: "stats", Producers: policy.FileSelection{Selector: "feeder=F13"}, Window: 5000, Kind: "sum"}, nil)
	if !errors.Is(err, ErrInvalid) || !containsAll(err.Error(), `rules "m12" (window 2880), "long" (window 5000) repeat only every 360000 rounds`, "divide one another") {
		t.Fatalf("a window beyond the check: %v", err)
	}
}

func TestOpenRefusesBadFiles(t *testing.T) {
	dir := t.TempDir()
	garbage := filepath.Join(dir, "garbage.db")
	must(t, os.WriteFile(garbage, bytes.Repeat([]byte("not a bbolt file "), 512), 0o600))
	for _, tc := range []struct{ path, want string }{
		{garbage, "registry: open " + garbage},
		{filepath.Join(dir, "missing", "r.db"), "give a writable path with --db"},
	} {
		if r, err := Open(tc.path, nil); err == nil || !strings.Contains(err.Error(), tc.want) {
			if r != nil {
				r.Close()
			}
			t.Errorf("Open(%s) = %v; want an error containing %q", tc.path, err, tc.want)
		}
	}
}

// TestPlanRechecksPolicy: a meter enrolled after two rules were admitted
// changes what a selector resolves to; the plan re-runs the check and
// refuses, naming the new meter.
func TestPlanRechecksPolicy(t *testing.T) {
	r, _ := fixture(t)
	_, err := r.RequestRule(feederRule("f12", "F12"), nil)
	must(t, err)
	_, err = r.RequestRule(Rule{ID: "f12-ids", Consumer: "grid", Producers: policy.FileSelection{IDs: []string{"h1", "h2", "h3", "h4", "h5"}}, Window: 4, Kind: "sum"}, nil)
	must(t, err)
	must(t, r.AddProducer(Producer{ID: "h11", Labels: map[string]string{"feeder": "F12"}, Max: 5000, PublicKey: keyGen(t, 4)()}))
	_, err = r.PlanEpoch(context.Background(), PlanOptions{AutoFirst: true, Clock: Clock{Start: t0, Round: time.Minute}})
	var refused *RefusedError
	if !errors.As(err, &refused) || len(refused.Report.Leaks) == 0 || !slices.Equal(refused.Report.Leaks[0].Producers, []string{"h11"}) {
		t.Fatalf("plan after enrolling h11 on F12: %v; want a refusal deriving h11", err)
	}
	if es, _ := r.Epochs(); len(es) != 0 {
		t.Fatalf("a refused plan stored %d epochs", len(es))
	}
}
