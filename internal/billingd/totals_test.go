package billingd

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	mrand "math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ppnet/ppnet/internal/billing/bill"
	"github.com/ppnet/ppnet/internal/consumer"
	"github.com/ppnet/ppnet/internal/netconfig"
	"github.com/ppnet/ppnet/internal/wire"
)

func testNet(t *testing.T, meters int, start time.Time, round time.Duration, rounds, window uint64) *netconfig.Network {
	t.Helper()
	cfg, _, err := netconfig.Generate(netconfig.Spec{PPNs: 3, Threshold: 2, W: 3, Meters: meters, Producers: 1, Start: start, Round: round,
		Grace: round, Rounds: rounds, Rules: []netconfig.RuleSpec{{ID: "bill", Consumer: "utility", Kind: netconfig.KindPerProducer, Window: window, Fraction: 1}}}, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	n, err := cfg.Resolve()
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func testSeed(t *testing.T) uint64 {
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("PPNET_TEST_SEED"); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("PPNET_TEST_SEED=%q: %v", s, err)
		}
		seed = v
	}
	t.Logf("seed %d (PPNET_TEST_SEED=%d replays)", seed, seed)
	return seed
}

// missingPairs lists a window's missing slots as the consumer reports them:
// (meter id, round) with slot = j·n + p, j the row of the round among the
// window's in-band rounds.
func missingPairs(n *netconfig.Network, r *netconfig.ResolvedRule, window uint64, runs []wire.Run) [][2]any {
	out := [][2]any{}
	nm := uint32(len(r.Meters))
	for _, run := range runs {
		for i := run.Start; i < run.Start+run.Len; i++ {
			out = append(out, [2]any{n.Meters[r.Meters[i%nm]], float64(r.RoundOf(window, uint64(i/nm)))})
		}
	}
	return out
}

// TestCoverageDigest: the digest recomputed from a result's missing pairs
// equals the digest of the runs the PPNs put in their aggregates, for random
// coverage (pairs given in shuffled order, as JSON numbers), for a rule over
// all rounds and one with a time-of-use band.
func TestCoverageDigest(t *testing.T) {
	n := testNet(t, 7, time.Now(), time.Second, 40, 8)
	cfg, _, err := netconfig.Generate(netconfig.Spec{PPNs: 3, Threshold: 2, W: 3, Meters: 7, Producers: 1, Start: time.Now(), Round: time.Second,
		Grace: time.Second, Rounds: 40, PerDay: 4, Rules: []netconfig.RuleSpec{{ID: "bill-band", Consumer: "utility", Kind: netconfig.KindPerProducer,
			Window: 8, Fraction: 1, Band: &netconfig.Band{Name: "peak", Rounds: [][2]uint64{{0, 1}, {2, 4}}}}}}, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	banded, err := cfg.Resolve()
	if err != nil {
		t.Fatal(err)
	}
	rng := mrand.New(mrand.NewPCG(testSeed(t), 1))
	for _, n := range []*netconfig.Network{n, banded} {
		coverageTrials(t, n, rng)
	}
	// A missing pair outside the band is refused: the PPNs never count one.
	r := &banded.Rules[0]
	if _, _, err := coverage(banded, r, consumer.Result{Rule: r.ID, WindowStart: 8, Missing: [][2]any{{banded.Meters[0], float64(9)}}}); err == nil || !strings.Contains(err.Error(), "outside the rule's meters, window or band") {
		t.Fatalf("out-of-band missing pair: %v", err)
	}
}

func coverageTrials(t *testing.T, n *netconfig.Network, rng *mrand.Rand) {
	t.Helper()
	r := &n.Rules[0]
	for trial := range 200 {
		var runs []wire.Run
		for s := uint32(0); s < r.Slots; s++ {
			if rng.IntN(4) != 0 {
				continue
			}
			if l := len(runs); l > 0 && runs[l-1].Start+runs[l-1].Len == s {
				runs[l-1].Len++
			} else {
				runs = append(runs, wire.Run{Start: s, Len: 1})
			}
		}
		window := uint64(rng.IntN(5)) * r.K
		pairs := missingPairs(n, r, window, runs)
		rng.Shuffle(len(pairs), func(i, j int) { pairs[i], pairs[j] = pairs[j], pairs[i] })
		_, got, err := coverage(n, r, consumer.Result{Rule: r.ID, WindowStart: window, Missing: pairs})
		if err != nil {
			t.Fatal(err)
		}
		if want := wire.CoverageDigest(n.Config.Epoch, uint16(r.Index), window, r.Slots, runs); got != want {
			t.Fatalf("trial %d: digest %x, want %x (runs %v)", trial, got, want, runs)
		}
	}
}

// TestPeriodTotals: windows sum per meter with coverage; a missing window
// is not ready; an unrecoverable window counts all its rounds missing; a
// period the windows do not tile is refused with the fix.
func TestPeriodTotals(t *testing.T) {
	n := testNet(t, 3, time.Now(), time.Second, 12, 4)
	m := n.Meters
	res := func(w uint64, vals []int64, missing [][2]any) consumer.Result {
		x := consumer.Result{Rule: "bill", WindowStart: w, WindowRounds: 4, Final: true, Missing: missing, Values: map[string]int64{}}
		for i, v := range vals {
			x.Values[m[i]] = v
		}
		return x
	}
	full := map[uint64]consumer.Result{
		0: res(0, []int64{10, 20, 30}, [][2]any{}),
		4: res(4, []int64{1, 2, 3}, [][2]any{{m[1], float64(5)}, {m[1], float64(6)}}),
		8: res(8, []int64{100, 200, 300}, [][2]any{}),
	}
	p := Period{Name: "2026-03", FirstRound: 0, LastRound: 11}
	tot, ready, err := periodTotals(n, RuleBand{Rule: "bill"}, p, full)
	if err != nil || !ready {
		t.Fatalf("ready %v err %v", ready, err)
	}
	mt := func(id string, wh int64, cov, miss int) bill.MeterTotal {
		return bill.MeterTotal{MeterID: id, Wh: wh, RoundsCovered: cov, RoundsMissing: miss}
	}
	want := []bill.MeterTotal{mt(m[0], 111, 12, 0), mt(m[1], 222, 10, 2), mt(m[2], 333, 12, 0)}
	if fmt.Sprint(tot.Meters) != fmt.Sprint(want) || tot.FirstRound != 0 || tot.LastRound != 11 || tot.RuleID != "bill" {
		t.Errorf("totals %+v, want meters %v over rounds 0–11", tot, want)
	}
	if _, err := hex.DecodeString(tot.Digest); err != nil || len(tot.Digest) != 64 {
		t.Errorf("digest %q is not hex SHA-256", tot.Digest)
	}

	partial := map[uint64]consumer.Result{0: full[0], 8: full[8]}
	if _, ready, err := periodTotals(n, RuleBand{Rule: "bill"}, p, partial); ready || err != nil {
		t.Errorf("window 4 missing: ready %v err %v; want not ready", ready, err)
	}
	notFinal := map[uint64]consumer.Result{0: full[0], 4: full[4], 8: full[8]}
	nf := notFinal[8]
	nf.Final = false
	notFinal[8] = nf
	if _, ready, _ := periodTotals(n, RuleBand{Rule: "bill"}, p, notFinal); ready {
		t.Error("a result that is not final made the period ready")
	}

	broken := map[uint64]consumer.Result{0: full[0], 4: {Rule: "bill", WindowStart: 4, Final: true, Error: "sharing: inconsistent", Missing: [][2]any{}}, 8: full[8]}
	tot, ready, err = periodTotals(n, RuleBand{Rule: "bill"}, p, broken)
	if err != nil || !ready || tot.Meters[0].Wh != 110 || tot.Meters[0].RoundsMissing != 4 || tot.Meters[0].RoundsCovered != 8 {
		t.Errorf("unrecoverable window: %+v ready %v err %v; want its 4 rounds missing, 110 Wh measured", tot.Meters, ready, err)
	}

	for _, bad := range []Period{{Name: "2026-03", FirstRound: 2, LastRound: 11}, {Name: "2026-03", FirstRound: 0, LastRound: 9}, {Name: "2026-03", FirstRound: 1, LastRound: 2}} {
		if _, _, err := periodTotals(n, RuleBand{Rule: "bill"}, bad, full); err == nil || !strings.Contains(err.Error(), "do not tile period") {
			t.Errorf("period %+v with 4-round windows: err %v; want a refusal naming the fix", bad, err)
		}
	}
	if _, _, err := periodTotals(n, RuleBand{Rule: "nope"}, p, full); err == nil || !strings.Contains(err.Error(), `"nope"`) {
		t.Errorf("unknown rule: %v", err)
	}
}

// TestCalendarPeriods: months are cut at midnight India time; a round that
// straddles midnight belongs to the month it starts in.
func TestCalendarPeriods(t *testing.T) {
	cases := []struct {
		start string
		round time.Duration
		count uint64
		want  string
	}{
		{"2026-03-31T23:00:00+05:30", 15 * time.Minute, 8, "[{2026-03 0 3} {2026-04 4 7}]"},
		{"2026-03-31T23:10:00+05:30", 15 * time.Minute, 8, "[{2026-03 0 3} {2026-04 4 7}]"},
		{"2026-02-01T00:00:00+05:30", 24 * time.Hour, 59, "[{2026-02 0 27} {2026-03 28 58}]"},
		{"2026-03-05T12:00:00+05:30", time.Hour, 4, "[{2026-03 0 3}]"},
	}
	for _, c := range cases {
		start, err := time.Parse(time.RFC3339, c.start)
		if err != nil {
			t.Fatal(err)
		}
		ps, err := CalendarPeriods(testNet(t, 1, start, c.round, c.count, 1))
		if err != nil {
			t.Fatal(err)
		}
		if got := fmt.Sprint(ps); got != c.want {
			t.Errorf("start %s, %v × %d: %s, want %s", c.start, c.round, c.count, got, c.want)
		}
	}
	if _, err := CalendarPeriods(testNet(t, 1, time.Now(), time.Second, 0, 1)); err == nil || !strings.Contains(err.Error(), "unbounded") {
		t.Errorf("unbounded epoch: %v", err)
	}
}

func TestParsePeriod(t *testing.T) {
	for _, c := range []struct {
		in, want string
	}{
		{"2026-03:0-2975", "{2026-03 0 2975}"},
		{"2026-03:5-5", "{2026-03 5 5}"},
		{"2026-03", "error"}, {"2026-03:9-3", "error"}, {"2026-03:a-3", "error"}, {"2026-03:3", "error"}, {"", "error"},
	} {
		p, err := ParsePeriod(c.in)
		got := fmt.Sprint(p)
		if err != nil {
			got = "error"
			if !strings.Contains(err.Error(), "fix:") {
				t.Errorf("%q: error without a fix: %v", c.in, err)
			}
		}
		if got != c.want {
			t.Errorf("ParsePeriod(%q) = %s, want %s", c.in, got, c.want)
		}
	}
}

func FuzzParsePeriod(f *testing.F) {
	for _, s := range []string{"2026-03:0-2975", "2026-11:0-95", ":-", "2026-03:18446744073709551615-1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParsePeriod(s)
		if err == nil && (p.LastRound < p.FirstRound || !strings.HasPrefix(s, p.Name+":")) {
			t.Fatalf("%q parsed to %+v", s, p)
		}
	})
}
