package bill

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ppnet/ppnet/internal/billing/customer"
	"github.com/ppnet/ppnet/internal/billing/tariff"
	bolt "go.etcd.io/bbolt"
)

var now = time.Date(2026, 4, 2, 9, 0, 0, 0, time.UTC)

func cust() customer.Masked {
	c := customer.Synthesize(1, 1, tariff.DefaultID, "m-")[0]
	c.SanctionedLoadW = 2000
	return customer.Mask(&c)
}

func schedule(t *testing.T, id string) *tariff.Schedule {
	t.Helper()
	s, err := tariff.Load(id)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func totals(band string, wh int64, covered, missing int) Totals {
	return Totals{RuleID: "bill-" + band, Band: band, FirstRound: 100, LastRound: 100 + 2975, Digest: "d-" + band,
		Meters: []MeterTotal{{MeterID: "m-0000", Wh: wh, RoundsCovered: covered, RoundsMissing: missing}, {MeterID: "m-9", Wh: 5}}}
}

func priced(t *testing.T, s *tariff.Schedule, u tariff.Usage) int64 {
	t.Helper()
	c, err := s.Compute(u)
	if err != nil {
		t.Fatal(err)
	}
	return c.TotalPaise
}

func TestComposePolicy(t *testing.T) {
	flat, tod := schedule(t, tariff.DefaultID), schedule(t, "example-tod-lt2a")
	tests := []struct {
		name       string
		s          *tariff.Schedule
		src        []Totals
		status     string
		measured   int64
		estimated  int64
		bandWh     map[string]int64
		holdReason string
	}{
		{name: "complete", s: flat, src: []Totals{totals("", 250_000, 2976, 0)}, status: StatusIssued, measured: 250_000},
		// 2700 of 3000 rounds at 100 Wh average: 300 missing rounds estimated at 30000 Wh.
		{name: "estimated", s: flat, src: []Totals{{RuleID: "r", FirstRound: 1, LastRound: 3000, Digest: "x",
			Meters: []MeterTotal{{MeterID: "m-0000", Wh: 270_000, RoundsCovered: 2700, RoundsMissing: 300}}}},
			status: StatusIssued, measured: 270_000, estimated: 30_000},
		{name: "below minimum", s: flat, src: []Totals{totals("", 100_000, 1488, 1488)}, status: StatusHeld, holdReason: "below the 75.00% minimum"},
		{name: "nothing covered", s: flat, src: []Totals{totals("", 0, 0, 2976)}, status: StatusHeld, holdReason: "no rounds covered"},
		{name: "no data", s: flat, src: nil, status: StatusHeld, holdReason: "no total for meter m-0000"},
		{name: "tou complete", s: tod, src: []Totals{totals("", 300_000, 2976, 0), totals("off-peak", 100_000, 992, 0), totals("normal", 120_000, 1488, 0), totals("peak", 80_000, 496, 0)},
			status: StatusIssued, measured: 300_000, bandWh: map[string]int64{"off-peak": 100_000, "normal": 120_000, "peak": 80_000}},
		{name: "tou band disagrees with total", s: tod, src: []Totals{totals("", 300_001, 2976, 0), totals("off-peak", 100_000, 992, 0), totals("normal", 120_000, 1488, 0), totals("peak", 80_000, 496, 0)},
			status: StatusHeld, holdReason: "disagree"},
		{name: "tou band missing", s: tod, src: []Totals{totals("off-peak", 100_000, 992, 0), totals("normal", 120_000, 1488, 0)}, status: StatusHeld, holdReason: "needs 3 band totals"},
		// Peak band 10% short: estimated from its own covered rounds (450 of 496 → 80000·46/450 = 8177.8 → 8178).
		{name: "tou band estimated", s: tod, src: []Totals{totals("off-peak", 100_000, 992, 0), totals("normal", 120_000, 1488, 0), totals("peak", 80_000, 450, 46)},
			status: StatusIssued, measured: 300_000, estimated: 8178, bandWh: map[string]int64{"off-peak": 100_000, "normal": 120_000, "peak": 88_178}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, err := Compose(cust(), tc.s, "2026-03", tc.src, Policy{}, now)
			if err != nil {
				t.Fatal(err)
			}
			if b.Status != tc.status || !strings.Contains(b.HoldReason, tc.holdReason) {
				t.Fatalf("status %q (%q), want %q (%q)", b.Status, b.HoldReason, tc.status, tc.holdReason)
			}
			if b.Status == StatusHeld {
				if b.TotalPaise != 0 || b.DueDate != "" || len(b.Charges.Lines) != 0 {
					t.Fatalf("held bill carries an amount: %+v", b)
				}
				return
			}
			if b.MeasuredWh != tc.measured || b.EstimatedWh != tc.estimated || b.Estimated != (tc.estimated != 0) {
				t.Fatalf("measured %d estimated %d (%v), want %d and %d", b.MeasuredWh, b.EstimatedWh, b.Estimated, tc.measured, tc.estimated)
			}
			want := priced(t, tc.s, tariff.Usage{Wh: tc.measured + tc.estimated, BandWh: tc.bandWh, SanctionedLoadW: 2000})
			if b.TotalPaise != want || b.TotalPaise == 0 {
				t.Fatalf("total %d, want %d", b.TotalPaise, want)
			}
			if b.DueDate != "2026-04-17" {
				t.Fatalf("due date %s, want 15 days after 2026-04-02", b.DueDate)
			}
			if len(b.Sources) != len(tc.src) || b.Sources[0].Digest == "" || b.Sources[0].RuleID == "" {
				t.Fatalf("sources not traced: %+v", b.Sources)
			}
		})
	}
}

func TestComposeBadInput(t *testing.T) {
	flat := schedule(t, tariff.DefaultID)
	tests := []struct {
		name   string
		period string
		src    Totals
	}{
		{"period", "2026-13", totals("", 1, 1, 0)},
		{"no digest", "2026-03", Totals{RuleID: "r", LastRound: 5}},
		{"coverage exceeds window", "2026-03", Totals{RuleID: "r", Digest: "d", FirstRound: 1, LastRound: 10, Meters: []MeterTotal{{MeterID: "m-0000", Wh: 1, RoundsCovered: 10, RoundsMissing: 1}}}},
		{"negative", "2026-03", Totals{RuleID: "r", Digest: "d", FirstRound: 1, LastRound: 10, Meters: []MeterTotal{{MeterID: "m-0000", Wh: -1, RoundsCovered: 10}}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := Compose(cust(), flat, tc.period, []Totals{tc.src}, Policy{}, now); !errors.Is(err, ErrInput) || !strings.Contains(err.Error(), "fix:") {
				t.Fatalf("err = %v, want ErrInput with a fix", err)
			}
		})
	}
}

func openStore(t *testing.T) *Store {
	t.Helper()
	db, err := bolt.Open(filepath.Join(t.TempDir(), "b.db"), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	s, err := OpenStore(db)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestStoreImmutableAndPayments(t *testing.T) {
	s := openStore(t)
	b, err := Compose(cust(), schedule(t, tariff.DefaultID), "2026-03", []Totals{totals("", 250_000, 2976, 0)}, Policy{}, now)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Insert(b); err != nil {
		t.Fatal(err)
	}
	changed := b
	changed.TotalPaise = 1
	if err := s.Insert(changed); !errors.Is(err, ErrExists) {
		t.Fatalf("overwrite: %v", err)
	}
	skip := b
	skip.Revision = 3
	if err := s.Insert(skip); err == nil {
		t.Fatal("revision 3 after 1 accepted")
	}
	got, err := s.Get(b.ID())
	if err != nil || got.TotalPaise != b.TotalPaise {
		t.Fatalf("Get: %+v %v", got, err)
	}
	if err := s.MarkPaid(b.ID(), b.TotalPaise-100, now, "x"); !errors.Is(err, ErrNotPayable) {
		t.Fatalf("short payment: %v", err)
	}
	rev2 := b
	rev2.Revision, rev2.Supersedes, rev2.Correction = 2, 1, "meter reading corrected"
	if err := s.Insert(rev2); err != nil {
		t.Fatal(err)
	}
	if err := s.MarkPaid(b.ID(), b.TotalPaise, now, "x"); !errors.Is(err, ErrNotPayable) {
		t.Fatalf("paying a superseded revision: %v", err)
	}
	if err := s.MarkPaid(rev2.ID(), rev2.TotalPaise, now, "pay-1"); err != nil {
		t.Fatal(err)
	}
	if err := s.MarkPaid(rev2.ID(), rev2.TotalPaise, now, "pay-2"); !errors.Is(err, ErrPaid) {
		t.Fatalf("second payment: %v", err)
	}
	p, ok, err := s.Payment(rev2.ID())
	if err != nil || !ok || p.Reference != "pay-1" {
		t.Fatalf("payment %+v %v %v", p, ok, err)
	}
	latest, err := s.Latest(b.CustomerID, "2026-03")
	if err != nil || latest.Revision != 2 {
		t.Fatalf("Latest: %+v %v", latest, err)
	}
	all, err := s.List(b.CustomerID)
	if err != nil || len(all) != 2 {
		t.Fatalf("List: %d %v", len(all), err)
	}
	held, _ := Compose(cust(), schedule(t, tariff.DefaultID), "2026-04", nil, Policy{}, now)
	if err := s.Insert(held); err != nil {
		t.Fatal(err)
	}
	if err := s.MarkPaid(held.ID(), 0, now, "x"); !errors.Is(err, ErrNotPayable) {
		t.Fatalf("paying a held bill: %v", err)
	}
	for _, id := range []string{"x", "a/2026-03/r0", "a/2026-3/r1", "a/2026-03/r1x"} {
		if _, err := s.Get(id); !errors.Is(err, ErrNotFound) {
			t.Errorf("Get(%q): %v", id, err)
		}
	}
}

// TestNeverBilledAsZero checks the policy on every coverage split of a
// small window: a bill is held or bills at least the measured energy, and
// estimates only when coverage reaches the minimum.
func TestNeverBilledAsZero(t *testing.T) {
	flat := schedule(t, tariff.DefaultID)
	const window = 40
	for covered := 0; covered <= window; covered++ {
		for _, wh := range []int64{0, 1, 999, 123_456} {
			src := Totals{RuleID: "r", Digest: "d", FirstRound: 1, LastRound: window,
				Meters: []MeterTotal{{MeterID: "m-0000", Wh: wh, RoundsCovered: covered, RoundsMissing: window - covered}}}
			b, err := Compose(cust(), flat, "2026-03", []Totals{src}, Policy{}, now)
			if err != nil {
				t.Fatal(err)
			}
			enough := covered*10000 >= 7500*window
			switch {
			case !enough && b.Status != StatusHeld:
				t.Fatalf("%d/%d covered: status %s, want held", covered, window, b.Status)
			case enough && b.Status != StatusIssued:
				t.Fatalf("%d/%d covered: status %s (%s), want issued", covered, window, b.Status, b.HoldReason)
			case enough && (b.BilledWh < wh || b.Estimated != (b.EstimatedWh > 0) || (covered < window && wh > 0 && b.EstimatedWh == 0 && wh*int64(window-covered) >= int64(covered))):
				t.Fatalf("%d/%d covered, %d Wh: billed %d, estimated %d", covered, window, wh, b.BilledWh, b.EstimatedWh)
			}
		}
	}
}
