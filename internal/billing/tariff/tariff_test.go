package tariff

import (
	"errors"
	"flag"
	"math/rand/v2"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"
)

var seed = flag.Uint64("tariff.seed", uint64(time.Now().UnixNano()), "seed for randomized tariff tests")

func mustLoad(t *testing.T, id string) *Schedule {
	t.Helper()
	s, err := Load(id)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func amounts(c Charges) map[string]int64 {
	m := map[string]int64{}
	for _, l := range c.Lines {
		m[l.Kind] += l.AmountPaise
	}
	return m
}

// TestKnownAnswers checks hand-computed bills (the arithmetic is in the
// comments) under both built-in schedules.
func TestKnownAnswers(t *testing.T) {
	tests := []struct {
		name     string
		schedule string
		usage    Usage
		want     map[string]int64
		total    int64
	}{
		{
			// fixed 2 kW·14500 = 29000; energy 250·580 = 145000; P&G 250·36 = 9000;
			// tax 9% of 174000 = 15660; 198660 rounds to 198700.
			name: "kerc 250 kWh 1.5 kW", schedule: DefaultID,
			usage: Usage{Wh: 250_000, SanctionedLoadW: 1500},
			want:  map[string]int64{KindFixed: 29000, KindEnergy: 145000, KindSurcharge: 9000, KindTax: 15660, KindRounding: 40},
			total: 198700,
		},
		{
			// energy 123.456·580 = 71604.48 → 71604; P&G 4444.416 → 4444;
			// tax 9% of 86104 = 7749.36 → 7749; 98297 rounds to 98300.
			name: "kerc fractional kWh", schedule: DefaultID,
			usage: Usage{Wh: 123_456, SanctionedLoadW: 1000},
			want:  map[string]int64{KindFixed: 14500, KindEnergy: 71604, KindSurcharge: 4444, KindTax: 7749, KindRounding: 3},
			total: 98300,
		},
		{
			// zero usage still pays the fixed charge and its tax: 14500 + 1305.
			name: "kerc zero usage", schedule: DefaultID,
			usage: Usage{Wh: 0, SanctionedLoadW: 1000},
			want:  map[string]int64{KindFixed: 14500, KindEnergy: 0, KindSurcharge: 0, KindTax: 1305, KindRounding: -5},
			total: 15800,
		},
		{
			// E = 300·580 = 174000; off-peak 174000·100/300·(−20%) = −11600;
			// peak 174000·80/300·(+20%) = 9280; P&G 10800;
			// tax 9% of 14500+174000−11600+9280 = 186180 → 16756; 213736 → 213700.
			name: "tod 300 kWh", schedule: "example-tod-lt2a",
			usage: Usage{Wh: 300_000, SanctionedLoadW: 1000, BandWh: map[string]int64{"off-peak": 100_000, "normal": 120_000, "peak": 80_000}},
			want:  map[string]int64{KindFixed: 14500, KindEnergy: 174000, KindToU: -11600 + 9280, KindSurcharge: 10800, KindTax: 16756, KindRounding: -36},
			total: 213700,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := mustLoad(t, tc.schedule).Compute(tc.usage)
			if err != nil {
				t.Fatal(err)
			}
			if got := amounts(c); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("line amounts = %v, want %v", got, tc.want)
			}
			if c.TotalPaise != tc.total {
				t.Errorf("total = %d paise, want %d", c.TotalPaise, tc.total)
			}
		})
	}
}

// TestProperties checks, on random usage, that the lines add up to the total,
// that rounding moves the total by at most half a rupee to a whole rupee, and
// that a larger usage never costs less.
func TestProperties(t *testing.T) {
	t.Logf("seed %d (rerun with -tariff.seed=%d)", *seed, *seed)
	rng := rand.New(rand.NewChaCha8([32]byte{byte(*seed), byte(*seed >> 8), byte(*seed >> 16), byte(*seed >> 24), byte(*seed >> 32), byte(*seed >> 40), byte(*seed >> 48), byte(*seed >> 56)}))
	for _, id := range Builtin() {
		s := mustLoad(t, id)
		prev := int64(-1)
		wh := int64(0)
		for range 500 {
			wh += rng.Int64N(5000)
			u := Usage{Wh: wh, SanctionedLoadW: 1 + rng.Int64N(20000)}
			if len(s.TimeOfUse) > 0 {
				a := rng.Int64N(wh + 1)
				b := rng.Int64N(wh - a + 1)
				u.BandWh = map[string]int64{"off-peak": a, "normal": b, "peak": wh - a - b}
			}
			c, err := s.Compute(u)
			if err != nil {
				t.Fatal(err)
			}
			var sum int64
			for _, l := range c.Lines {
				sum += l.AmountPaise
			}
			if sum != c.TotalPaise || c.TotalPaise%100 != 0 || abs(c.TotalPaise-c.BeforeRound) > 50 {
				t.Fatalf("%s %+v: lines sum %d, total %d, before rounding %d", id, u, sum, c.TotalPaise, c.BeforeRound)
			}
			if len(s.TimeOfUse) == 0 {
				u.SanctionedLoadW = 1000
				c, _ = s.Compute(u)
				if c.BeforeRound < prev {
					t.Fatalf("%s: %d Wh costs %d paise, less than a smaller usage (%d)", id, wh, c.BeforeRound, prev)
				}
				prev = c.BeforeRound
			}
		}
	}
}

func abs(v int64) int64 {
	if v < 0 {
		return -v
	}
	return v
}

func TestUsageErrors(t *testing.T) {
	flat, tod := mustLoad(t, DefaultID), mustLoad(t, "example-tod-lt2a")
	tests := []struct {
		name string
		s    *Schedule
		u    Usage
		want string
	}{
		{"negative", flat, Usage{Wh: -1, SanctionedLoadW: 1000}, "-1 Wh"},
		{"no load", flat, Usage{Wh: 1, SanctionedLoadW: 0}, "sanctioned load 0 W"},
		{"bands on flat", flat, Usage{Wh: 1, SanctionedLoadW: 1000, BandWh: map[string]int64{"peak": 1}}, "no time-of-use bands"},
		{"missing bands", tod, Usage{Wh: 10, SanctionedLoadW: 1000}, "sum to 0 Wh but the total is 10"},
		{"unknown band", tod, Usage{Wh: 10, SanctionedLoadW: 1000, BandWh: map[string]int64{"night": 10}}, `unknown band "night"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.s.Compute(tc.u)
			if !errors.Is(err, ErrUsage) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want ErrUsage containing %q", err, tc.want)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	good, err := os.ReadFile("schedules/" + DefaultID + ".yaml")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, from, to, want string
	}{
		{"unknown field", "rounding:", "roundin:", "field roundin not found"},
		{"bad date", "valid_to: 2026-03-31", "valid_to: 2024-03-31", "validity"},
		{"negative rate", "paise_per_kwh: 580", "paise_per_kwh: -580", "energy slab 1 rate -580"},
		{"tax over 100%", "rate_bp: 900", "rate_bp: 90000", "tax.rate_bp 90000"},
		{"bad base", "base: [fixed, energy]", "base: [fixed, energy, vat]", `tax.base "vat"`},
		{"tou base without bands", "base: [fixed, energy]", "base: [fixed, energy, tou]", "no time-of-use bands"},
		{"bad rounding", "rounding: nearest-rupee", "rounding: up", `rounding "up"`},
		{"no source", "source: \"KERC", "x_source: \"KERC", "field x_source not found"},
		{"closed last slab", "  - paise_per_kwh: 580", "  - up_to_kwh: 50\n    paise_per_kwh: 580", "last energy slab has up_to_kwh 50"},
		{"part kw", "part_kw: ceil", "part_kw: round", `part_kw "round"`},
		{"due days", "due_days: 15", "due_days: 0", "due_days 0"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			doc := strings.Replace(string(good), tc.from, tc.to, 1)
			if doc == string(good) {
				t.Fatalf("test edit %q not applied", tc.from)
			}
			_, err := Parse([]byte(doc))
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "fix:") {
				t.Fatalf("err = %v, want ErrInvalid with %q and a fix", err, tc.want)
			}
		})
	}
	if _, err := Parse(nil); !errors.Is(err, ErrInvalid) {
		t.Errorf("empty document: err = %v", err)
	}
	if _, err := Load("nope"); err == nil || !strings.Contains(err.Error(), DefaultID) {
		t.Errorf("unknown id: err = %v, want it to list %s", err, DefaultID)
	}
}

func TestDefaultScheduleRates(t *testing.T) {
	s := mustLoad(t, DefaultID)
	if s.FixedCharge.PaisePerKWMonth != 14500 || s.Energy[0].PaisePerKWh != 580 ||
		s.Surcharges[0].PaisePerKWh != 36 || s.Tax.RateBP != 900 || !strings.Contains(s.Source, "27 Mar 2025") {
		t.Fatalf("default schedule does not carry the KERC FY2025-26 LT-2(a) figures: %+v", s)
	}
}

func FuzzParse(f *testing.F) {
	for _, id := range Builtin() {
		data, err := builtin.ReadFile("schedules/" + id + ".yaml")
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("id: x\nversion: 1\n"))
	f.Add([]byte("energy_slabs: [{up_to_kwh: -1}]"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Parse(data)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error does not wrap ErrInvalid: %v", err)
			}
			return
		}
		out, err := s.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		s2, err := Parse(out)
		if err != nil {
			t.Fatalf("re-parse of a valid schedule failed: %v\n%s", err, out)
		}
		if !reflect.DeepEqual(s, s2) {
			t.Fatalf("round trip changed the schedule:\n%+v\n%+v", s, s2)
		}
		u := Usage{Wh: 1_000_000, SanctionedLoadW: 5000}
		if len(s.TimeOfUse) > 0 {
			u.BandWh = map[string]int64{s.TimeOfUse[0].Name: u.Wh}
		}
		if _, err := s.Compute(u); err != nil {
			t.Fatalf("valid schedule cannot price a plain month: %v", err)
		}
	})
}

func TestBuiltinIDsMatchFiles(t *testing.T) {
	for _, id := range Builtin() {
		if s := mustLoad(t, id); s.ID != id {
			t.Errorf("schedules/%s.yaml declares id %q; the file name must be the id", id, s.ID)
		}
	}
}

// TestCheckPeriod: a month is inside the validity only if both its first
// and its last day are; errors wrap ErrOutsideValidity and name the
// schedule and dates.
func TestCheckPeriod(t *testing.T) {
	s, err := Load(DefaultID)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"2025-04", "2025-12", "2026-02", "2026-03"} {
		if err := s.CheckPeriod(p); err != nil {
			t.Errorf("%s: %v", p, err)
		}
	}
	for _, p := range []string{"2025-03", "2026-04", "2030-01"} {
		err := s.CheckPeriod(p)
		if !errors.Is(err, ErrOutsideValidity) || !strings.Contains(err.Error(), "2025-04-01 to 2026-03-31") || !strings.Contains(err.Error(), DefaultID+"@v1") {
			t.Errorf("%s: %v", p, err)
		}
	}
	// A schedule valid from the middle of a month does not cover that month.
	mid := *s
	mid.ValidFrom = "2025-04-15"
	if err := mid.CheckPeriod("2025-04"); !errors.Is(err, ErrOutsideValidity) || !strings.Contains(err.Error(), "2025-04-01 to 2025-04-30") {
		t.Errorf("part month: %v", err)
	}
	if err := s.CheckPeriod("April"); err == nil || !strings.Contains(err.Error(), "YYYY-MM") {
		t.Errorf("bad period: %v", err)
	}
}
