package billingd

import (
	"context"
	"crypto/rand"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ppnet/ppnet/internal/billing/bill"
	"github.com/ppnet/ppnet/internal/billing/tariff"
	"github.com/ppnet/ppnet/internal/consumer"
	"github.com/ppnet/ppnet/internal/natsx"
	"github.com/ppnet/ppnet/internal/netconfig"
	"github.com/ppnet/ppnet/internal/ppn"
	"github.com/ppnet/ppnet/internal/producer"
)

// touBands are the example time-of-day schedule's bands in hourly rounds
// (24 rounds a day): off-peak 22:00–06:00, normal 06:00–18:00, peak
// 18:00–22:00.
var touBands = []netconfig.Band{
	{Name: "off-peak", Rounds: [][2]uint64{{22, 24}, {0, 6}}},
	{Name: "normal", Rounds: [][2]uint64{{6, 18}}},
	{Name: "peak", Rounds: [][2]uint64{{18, 22}}},
}

// TestTimeOfUseBillsOverNATS runs a real network — embedded nats-server
// with JetStream, 3 PPNs (t = 2, w = 3), a concentrator of 12 meters — over
// a two-"day" month of hourly rounds, with one per-producer rule per band
// of the example time-of-day schedule beside the all-rounds rule, and
// customers on that schedule. Every bill must equal the tariff applied to
// the meter's own readings in each band. A meter offline for one peak
// round is missing in the peak band only (7 of 8 peak rounds), and its
// peak total is estimated from its own peak average.
func TestTimeOfUseBillsOverNATS(t *testing.T) {
	const meters, rounds, day = 12, 48, 24
	dir := t.TempDir()
	srv, err := natsx.StartServer(natsx.ServerOptions{Dir: filepath.Join(dir, "nats")})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { srv.Shutdown(); srv.WaitForShutdown() }()
	rules := []netconfig.RuleSpec{{ID: "billing-day", Consumer: "utility", Kind: netconfig.KindPerProducer, Window: day, Fraction: 1}}
	for i := range touBands {
		rules = append(rules, netconfig.RuleSpec{ID: "billing-" + touBands[i].Name, Consumer: "utility", Kind: netconfig.KindPerProducer,
			Window: day, Fraction: 1, Band: &touBands[i]})
	}
	spec := netconfig.Spec{PPNs: 3, Threshold: 2, W: 3, Meters: meters, Producers: 1, Round: 60 * time.Millisecond,
		Grace: time.Second, Rounds: rounds, PerDay: day, Start: time.Now().Add(1500 * time.Millisecond), Rules: rules}
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
	d, err := New(Config{DataDir: filepath.Join(dir, "billing"), SinkDir: filepath.Join(dir, "sink"), Synthetic: meters,
		Tariff: "example-tod-lt2a", Periods: []Period{{Name: "2026-03", FirstRound: 0, LastRound: rounds - 1}}, Poll: 50 * time.Millisecond,
		Consumer: consumerConfig(url, n, keys.Consumers[0], filepath.Join(dir, "consumer"))})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer d.Shutdown(ctx)
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
	hh, err := producer.NewHouseholdSource(nil, 11)
	if err != nil {
		t.Fatal(err)
	}
	// Meter index 2 is offline in round 19 (a peak round of day 0).
	src := &offlineSource{inner: hh, bad: int64(n.Config.MaxReading) + 1, sent: map[[2]uint64]int64{}, offline: map[uint64]func(uint64) bool{
		2: func(r uint64) bool { return r == 19 },
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
	sched, err := svc.Schedule("example-tod-lt2a")
	if err != nil {
		t.Fatal(err)
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
		// The meter's own readings per band, from what it sent.
		bandWh := map[string]int64{}
		var all int64
		for _, band := range touBands {
			bandWh[band.Name] = src.ownIn(mi, func(r uint64) bool { return inRounds(band.Rounds, r%day) })
			all += bandWh[band.Name]
		}
		if all != src.own(mi) {
			t.Fatalf("meter %s: bands sum to %d Wh, all rounds %d: the test's bands do not partition the day", n.Meters[mi], all, src.own(mi))
		}
		missing := map[string]int{}
		for _, s := range b.Sources {
			missing[s.Band] = s.RoundsMissing
			if s.RoundsCovered+s.RoundsMissing != 2*roundsIn(s.Band) {
				t.Errorf("meter %s band %q: %d covered + %d missing rounds; want the band's %d", n.Meters[mi], s.Band, s.RoundsCovered, s.RoundsMissing, 2*roundsIn(s.Band))
			}
		}
		if len(b.Sources) != 4 {
			t.Fatalf("meter %s: bill traces to %d sources, want the all-rounds rule and 3 bands: %+v", n.Meters[mi], len(b.Sources), b.Sources)
		}
		var est int64
		if mi == 2 {
			if missing["peak"] != 1 || missing["normal"] != 0 || missing["off-peak"] != 0 || missing[""] != 1 {
				t.Fatalf("meter offline in peak round 19: missing rounds by band %v; want 1 in peak (and all rounds), 0 elsewhere", missing)
			}
			est = roundDiv(bandWh["peak"], 7)
			bandWh["peak"] += est
		} else if missing["peak"]+missing["normal"]+missing["off-peak"] != 0 {
			t.Fatalf("meter %s: missing rounds by band %v; want none", n.Meters[mi], missing)
		}
		want, err := sched.Compute(tariff.Usage{Wh: all + est, BandWh: bandWh, SanctionedLoadW: c.SanctionedLoadW})
		if err != nil {
			t.Fatal(err)
		}
		if b.Status != bill.StatusIssued || b.MeasuredWh != all || b.EstimatedWh != est || b.TotalPaise != want.TotalPaise || b.TotalPaise <= 0 ||
			!slices.Equal(b.Charges.Lines, want.Lines) {
			t.Errorf("meter %s: status %s (%s) measured %d Wh (own %d) estimated %d (want %d), total %d paise (want %d), lines %+v (want %+v)",
				n.Meters[mi], b.Status, b.HoldReason, b.MeasuredWh, all, b.EstimatedWh, est, b.TotalPaise, want.TotalPaise, b.Charges.Lines, want.Lines)
		}
	}
}

// ownIn is the sum of a meter's in-range readings in the rounds in says.
func (s *offlineSource) ownIn(meter uint64, in func(round uint64) bool) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	var sum int64
	for k, v := range s.sent {
		if k[0] == meter && in(k[1]) {
			sum += v
		}
	}
	return sum
}

func inRounds(ranges [][2]uint64, d uint64) bool {
	for _, r := range ranges {
		if d >= r[0] && d < r[1] {
			return true
		}
	}
	return false
}

// roundsIn is the number of rounds of a test band per day ("" all 24).
func roundsIn(name string) int {
	for _, b := range touBands {
		if b.Name == name {
			k := 0
			for _, r := range b.Rounds {
				k += int(r[1] - r[0])
			}
			return k
		}
	}
	return 24
}

type noResults struct{}

func (noResults) Results() ([]consumer.Result, error) { return nil, nil }

// TestRuleBands: billed bands default to the network file's band names, a
// banded rule without a name and a band billed from an all-rounds rule are
// refused with the fix.
func TestRuleBands(t *testing.T) {
	cfg, _, err := netconfig.Generate(netconfig.Spec{PPNs: 3, Threshold: 2, W: 3, Meters: 4, Producers: 1, Start: time.Now(), Round: time.Second,
		Grace: time.Second, Rounds: 24, PerDay: 24, Rules: []netconfig.RuleSpec{
			{ID: "day", Consumer: "utility", Kind: netconfig.KindPerProducer, Window: 24, Fraction: 1},
			{ID: "peak", Consumer: "utility", Kind: netconfig.KindPerProducer, Window: 24, Fraction: 1, Band: &touBands[2]},
			{ID: "unnamed", Consumer: "utility", Kind: netconfig.KindPerProducer, Window: 24, Fraction: 1, Band: &netconfig.Band{Rounds: [][2]uint64{{0, 6}}}},
		}}, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	n, err := cfg.Resolve()
	if err != nil {
		t.Fatal(err)
	}
	period := []Period{{Name: "2026-03", FirstRound: 0, LastRound: 23}}
	tests := []struct {
		name  string
		rules []RuleBand
		want  []RuleBand // nil: refused
		err   string
	}{
		{"names from the file", []RuleBand{{Rule: "day"}, {Rule: "peak"}}, []RuleBand{{Rule: "day"}, {Rule: "peak", Band: "peak"}}, ""},
		{"name given", []RuleBand{{Rule: "unnamed", Band: "off-peak"}}, []RuleBand{{Rule: "unnamed", Band: "off-peak"}}, ""},
		{"unnamed band", []RuleBand{{Rule: "unnamed"}}, nil, `rule "unnamed" has a time-of-use band without a name`},
		{"band from all rounds", []RuleBand{{Rule: "day", Band: "peak"}}, nil, `rule "day" covers every round but is billed as band "peak"`},
		{"default refuses the unnamed band", nil, nil, `rule "unnamed" has a time-of-use band without a name`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d, err := New(Config{DataDir: t.TempDir(), Source: noResults{}, Net: n, Rules: tc.rules, Periods: period})
			if tc.want == nil {
				if err == nil || !strings.Contains(err.Error(), tc.err) || !strings.Contains(err.Error(), "fix:") {
					t.Fatalf("error %v, want one naming %q with a fix", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(d.cfg.Rules, tc.want) {
				t.Fatalf("rules %+v, want %+v", d.cfg.Rules, tc.want)
			}
		})
	}
}
