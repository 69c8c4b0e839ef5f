package netconfig

import (
	"crypto/rand"
	"strings"
	"testing"
	"time"
)

func testSpec() Spec {
	return Spec{PPNs: 5, Threshold: 3, W: 4, Meters: 10, Producers: 2,
		Start: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), Round: 15 * time.Minute, Grace: time.Minute, Rounds: 96,
		Rules: []RuleSpec{
			{ID: "feeder", Consumer: "dso", Kind: KindSum, Window: 1, Fraction: 0.5},
			{ID: "bill", Consumer: "utility", Kind: KindPerProducer, Window: 96, Fraction: 1},
		}}
}

func TestGenerateResolveRoundTrip(t *testing.T) {
	c, keys, err := Generate(testSpec(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if len(keys.PPNs) != 5 || len(keys.Consumers) != 2 || len(keys.Producers) != 2 {
		t.Fatalf("keys: %d PPNs, %d consumers, %d producers", len(keys.PPNs), len(keys.Consumers), len(keys.Producers))
	}
	y, err := c.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	c2, err := Parse(y)
	if err != nil {
		t.Fatalf("parse own output: %v\n%s", err, y)
	}
	n, err := c2.Resolve()
	if err != nil {
		t.Fatal(err)
	}
	if len(n.Meters) != 10 || len(n.ProducerMeters[0]) != 5 || n.MeterProducer[7] != 1 {
		t.Fatalf("meters %v, producer meters %v", n.Meters, n.ProducerMeters)
	}
	feeder, bill := n.Rules[0], n.Rules[1]
	if len(feeder.Meters) != 5 || feeder.Slots != 5 || feeder.Values != 1 {
		t.Errorf("feeder rule %+v", feeder)
	}
	if bill.Slots != 960 || bill.Values != 10 || len(bill.PPNs) != 4 {
		t.Errorf("bill rule %+v", bill)
	}
	// Meter 0 is in both rules: PPNs {0,1,2,3} ∪ {1,2,3,4}; meter 9 only in bill.
	if got := n.PPNsOf(0); len(got) != 5 {
		t.Errorf("meter 0 serves %v", got)
	}
	if got := n.PPNsOf(9); len(got) != 4 || got[0] != 1 {
		t.Errorf("meter 9 serves %v", got)
	}
	start := c.Rounds.Start
	if n.RoundAt(start.Add(-time.Second)) != -1 || n.RoundAt(start.Add(31*time.Minute)) != 2 {
		t.Error("RoundAt wrong")
	}
	if !n.Deadline(0).Equal(start.Add(16 * time.Minute)) {
		t.Errorf("deadline %v", n.Deadline(0))
	}
}

func TestResolveRejects(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*Config)
		want   string
	}{
		{"epoch 0", func(c *Config) { c.Epoch = 0 }, "epoch"},
		{"threshold", func(c *Config) { c.Threshold = 0 }, "threshold"},
		{"duration", func(c *Config) { c.Rounds.Duration = 0 }, "rounds.duration"},
		{"duplicate x", func(c *Config) { c.PPNs[1].X = c.PPNs[0].X }, "distinct"},
		{"zero x", func(c *Config) { c.PPNs[1].X = 0 }, "x = 0"},
		{"bad key", func(c *Config) { c.PPNs[0].PublicKey = "AAAA" }, "public_key"},
		{"duplicate id", func(c *Config) { c.Consumers[1].ID = c.Consumers[0].ID }, "appears twice"},
		{"bad id", func(c *Config) { c.Consumers[0].ID = "a.b" }, "ids are"},
		{"unknown consumer", func(c *Config) { c.Rules[0].Consumer = "nobody" }, "not configured"},
		{"kind", func(c *Config) { c.Rules[0].Kind = "avg" }, "kind"},
		{"window", func(c *Config) { c.Rules[0].WindowRounds = 0 }, "window_rounds"},
		{"window divides", func(c *Config) { c.Rules[1].WindowRounds = 7 }, "does not divide"},
		{"unknown meter", func(c *Config) { c.Rules[0].Meters = []string{"zz"} }, "no producer has"},
		{"few ppns", func(c *Config) { c.Rules[0].PPNs = c.Rules[0].PPNs[:2] }, "w ≥ threshold"},
		{"overflow", func(c *Config) { c.MaxReading = 1 << 59 }, "beyond (q−1)/2"},
		{"max age", func(c *Config) { c.Streams.MaxAge = c.Rounds.Duration }, "streams.max_age"},
		{"max bytes", func(c *Config) { c.Streams.MaxBytes = -1 }, "streams.max_bytes"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, _, err := Generate(testSpec(), rand.Reader)
			if err != nil {
				t.Fatal(err)
			}
			tc.mutate(c)
			_, err = c.Resolve()
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "netconfig: ") {
				t.Fatalf("error %v, want one mentioning %q", err, tc.want)
			}
		})
	}
}

func TestParseRejectsUnknownField(t *testing.T) {
	if _, err := Parse([]byte("epoch: 1\nthreshhold: 3\n")); err == nil || !strings.Contains(err.Error(), "threshhold") {
		t.Fatalf("typo accepted: %v", err)
	}
}

func FuzzParseResolve(f *testing.F) {
	c, _, err := Generate(testSpec(), rand.Reader)
	if err != nil {
		f.Fatal(err)
	}
	y, _ := c.Marshal()
	f.Add(y)
	if c, _, err = Generate(bandSpec(), rand.Reader); err != nil {
		f.Fatal(err)
	}
	y, _ = c.Marshal()
	f.Add(y)
	f.Add([]byte("epoch: 1\nthreshold: 2\nppns: [{id: a, x: 1}]\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := Parse(b)
		if err != nil {
			return
		}
		_, _ = c.Resolve() // must not panic
	})
}

func bandSpec() Spec {
	s := testSpec()
	s.Rounds, s.PerDay = 192, 96
	s.Rules = append(s.Rules,
		RuleSpec{ID: "peak", Consumer: "utility", Kind: KindPerProducer, Window: 96, Fraction: 1, Band: &Band{Name: "peak", Rounds: [][2]uint64{{72, 88}}}},
		RuleSpec{ID: "offpeak", Consumer: "utility", Kind: KindSum, Window: 192, Fraction: 1, Band: &Band{Name: "off-peak", Rounds: [][2]uint64{{88, 96}, {0, 24}}}})
	return s
}

func TestBandRows(t *testing.T) {
	c, _, err := Generate(bandSpec(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	y, err := c.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	c2, err := Parse(y)
	if err != nil {
		t.Fatalf("parse own output: %v\n%s", err, y)
	}
	n, err := c2.Resolve()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		rule        int
		rows, slots uint64
	}{
		{1, 96, 960},             // no band: every round
		{2, 16, 160},             // 18:00–22:00 of one day
		{3, 2 * 32, 2 * 32 * 10}, // 22:00–06:00 over two days
	}
	for _, tc := range tests {
		r := &n.Rules[tc.rule]
		if r.Rows != tc.rows || uint64(r.Slots) != tc.slots {
			t.Fatalf("rule %s: %d rows, %d slots; want %d, %d", r.ID, r.Rows, r.Slots, tc.rows, tc.slots)
		}
		// Row and RoundOf are inverse, rows are dense and increasing, and
		// exactly the in-band rounds have one.
		next := uint64(0)
		for off := uint64(0); off < r.K; off++ {
			j, ok := r.Row(off)
			if ok != r.InBand(off) || ok != inRanges(r.Band, off%96) {
				t.Fatalf("rule %s offset %d: in band %v, InBand %v", r.ID, off, ok, r.InBand(off))
			}
			if !ok {
				continue
			}
			if j != next || r.RoundOf(r.K, j) != r.K+off {
				t.Fatalf("rule %s offset %d: row %d (want %d), back to round %d", r.ID, off, j, next, r.RoundOf(r.K, j))
			}
			next++
		}
		if next != r.Rows {
			t.Fatalf("rule %s: %d in-band rounds per window, Rows %d", r.ID, next, r.Rows)
		}
	}
}

func inRanges(b *Band, d uint64) bool {
	if b == nil {
		return true
	}
	for _, r := range b.Rounds {
		if d >= r[0] && d < r[1] {
			return true
		}
	}
	return false
}

func TestBandRejects(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*Config)
		want   string
	}{
		{"no per_day", func(c *Config) { c.Rounds.PerDay = 0 }, "rounds.per_day is not set"},
		{"empty", func(c *Config) { c.Rules[2].Band.Rounds = nil }, "band has no rounds"},
		{"reversed", func(c *Config) { c.Rules[2].Band.Rounds = [][2]uint64{{88, 72}} }, "from < to"},
		{"beyond day", func(c *Config) { c.Rules[2].Band.Rounds = [][2]uint64{{88, 100}} }, "split a range across midnight"},
		{"part day window", func(c *Config) { c.Rules[2].WindowRounds = 48 }, "whole number of days"},
		{"bad name", func(c *Config) { c.Rules[2].Band.Name = "peak hours" }, "band name"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, _, err := Generate(bandSpec(), rand.Reader)
			if err != nil {
				t.Fatal(err)
			}
			tc.mutate(c)
			_, err = c.Resolve()
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "netconfig: ") {
				t.Fatalf("error %v, want one mentioning %q", err, tc.want)
			}
		})
	}
}

// TestStreamRetention checks that streams.max_age and streams.max_bytes
// are read from YAML and that leaving them out gives the defaults.
func TestStreamRetention(t *testing.T) {
	c, _, err := Generate(testSpec(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	c.Streams.MaxAge, c.Streams.MaxBytes = 0, 0
	y, err := c.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		yaml    string
		age     time.Duration
		maxByte int64
	}{
		{"defaults", "", DefaultStreamMaxAge, 0},
		{"set", "    max_age: 72h\n    max_bytes: 1000000000\n", 72 * time.Hour, 1_000_000_000},
		{"forever", "    max_age: -1s\n", -time.Second, 0},
	}
	const unset = "    max_age: 0s\n    max_bytes: 0\n"
	if !strings.Contains(string(y), unset) {
		t.Fatalf("generated configuration lacks %q:\n%s", unset, y)
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			doc := strings.Replace(string(y), unset, tc.yaml, 1)
			c, err := Parse([]byte(doc))
			if err != nil {
				t.Fatal(err)
			}
			n, err := c.Resolve()
			if err != nil {
				t.Fatal(err)
			}
			if s := n.Config.Streams; s.MaxAge != tc.age || s.MaxBytes != tc.maxByte {
				t.Errorf("max_age %v, max_bytes %d; want %v, %d", s.MaxAge, s.MaxBytes, tc.age, tc.maxByte)
			}
		})
	}
}
