package policy

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

func TestPeriod(t *testing.T) {
	rule := func(id string, k int, band bool) FileRule {
		r := FileRule{ID: id, Window: k}
		if band {
			r.Band = [][2]int{{72, 88}}
		}
		return r
	}
	tests := []struct {
		name  string
		rpd   int
		rules []FileRule
		want  int
		err   []string // substrings of the PeriodError, nil when none
	}{
		{"windows 7 and 96", 96, []FileRule{rule("a", 7, false), rule("b", 96, false)}, 672, nil},
		{"divisors of the day", 96, []FileRule{rule("a", 4, false), rule("b", 8, false), rule("c", 96, false), rule("d", 1, false)}, 96, nil},
		{"band adds the day", 96, []FileRule{rule("a", 7, true)}, 672, nil},
		{"the day without a band does not count", 96, []FileRule{rule("a", 7, false)}, 7, nil},
		{"no rules", 96, nil, 1, nil},
		{"month and 5000", 96, []FileRule{rule("m", 2880, false), rule("x", 5000, false), rule("y", 1000, false)}, 0,
			[]string{`rules "y" (window 1000), "m" (window 2880), "x" (window 5000) repeat only every 360000 rounds`, "beyond the 8192"}},
		{"equal windows name one rule", 96, []FileRule{rule("a", 5000, false), rule("b", 5000, false), rule("c", 4000, false)}, 0,
			[]string{`rules "c" (window 4000), "a" (window 5000) repeat only every 20000 rounds`}},
		{"band pushes it over", 96, []FileRule{rule("w", 8191, true)}, 0,
			[]string{`"w" (window 8191) and the day of 96 rounds`, "every 786336 rounds"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := (&File{RoundsPerDay: tc.rpd, Rules: tc.rules}).Period()
			if tc.err == nil {
				if err != nil || got != tc.want {
					t.Fatalf("Period() = %d, %v; want %d", got, err, tc.want)
				}
				return
			}
			var pe *PeriodError
			if !errors.As(err, &pe) {
				t.Fatalf("Period() = %d, %v; want a *PeriodError", got, err)
			}
			for _, s := range tc.err {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q lacks %q", err, s)
				}
			}
		})
	}
}

// windows796 is the audit's case: ten meters on feeder F1, a consumer with
// minimum window 2 and cohort 5, rules with windows 7 and 96.
func windows796(horizon int) *File {
	f := &File{Horizon: horizon, RoundsPerDay: 96,
		Consumers: []FileConsumer{{ID: "grid", Grant: FileGrant{Kinds: []string{"sum"}, MinWindow: 2, MinCohort: 5}}},
		Rules: []FileRule{
			{ID: "seven", Consumer: "grid", Producers: FileSelection{Selector: "feeder=F1"}, Window: 7, Kind: "sum"},
			{ID: "day", Consumer: "grid", Producers: FileSelection{Selector: "feeder=F1"}, Window: 96, Kind: "sum"},
		}}
	for i := 0; i < 10; i++ {
		f.Producers = append(f.Producers, FileProducer{ID: fmt.Sprintf("m%d", i), Max: 5000, Labels: map[string]string{"feeder": "F1"}})
	}
	return f
}

// TestPeriodFindsLateBoundaries: windows 7 and 96 first come one round
// apart at rounds 287 and 288; twice the longest window (192) misses it,
// the period (672) finds a single round of the feeder.
func TestPeriodFindsLateBoundaries(t *testing.T) {
	check := func(h int) *Report {
		p, err := Resolve(windows796(h))
		if err != nil {
			t.Fatal(err)
		}
		rep, err := Check(p, nil)
		if err != nil {
			t.Fatal(err)
		}
		return rep
	}
	if rep := check(192); !rep.Accepted || rep.Stats.Period != 672 || rep.Stats.Horizon != 192 {
		t.Fatalf("horizon 192: accepted %v, period %d, horizon %d; want accepted (no boundaries meet before 287), 672, 192", rep.Accepted, rep.Stats.Period, rep.Stats.Horizon)
	}
	rep := check(672)
	if rep.Accepted || len(rep.Leaks) == 0 {
		t.Fatalf("horizon 672 accepted the 7/96 rule set: %+v", rep)
	}
	l := rep.Leaks[0]
	if l.Extent != 1 || !l.Verified || len(l.Rounds) != 1 || l.Rounds[0].To > 672 {
		t.Fatalf("leak %+v; want one verified round of F1", l)
	}
	// The rounds a 7- and a 96-round boundary are one apart: 96·b − 7·a = ±1.
	if from := l.Rounds[0].From; !(from%7 == 0 && (from+1)%96 == 0) && !(from%96 == 0 && (from+1)%7 == 0) {
		t.Errorf("leaked round [%d, %d) is not between a 7- and a 96-round boundary one round apart", from, from+1)
	}
}

// TestPeriodSuffices checks the period theorem (doc.go, "Horizon")
// against the brute-force reference, independently of Check: on random
// tiny rule sets a leak exists within horizon 2L (or 3L) iff one exists
// within horizon L. It also holds Check at horizon L to the reference at
// the longer horizon.
func TestPeriodSuffices(t *testing.T) {
	seed := *bruteSeed
	if seed == 0 {
		seed = 20261122
	}
	t.Logf("seed %d (rerun with -policy.seed=%d)", seed, seed)
	rng := rand.New(rand.NewPCG(seed, 2))
	leaky, total := 0, 0
	for total < 120 {
		p := randomPolicy(rng, rng.IntN(2) == 0)
		p.Producers = p.Producers[:min(len(p.Producers), 3)]
		for i := range p.Rules {
			r := &p.Rules[i]
			var keep []int
			for _, pr := range r.Producers {
				if pr < len(p.Producers) {
					keep = append(keep, pr)
				}
			}
			if len(keep) == 0 {
				keep = []int{0}
			}
			r.Producers = keep
		}
		L, err := p.Period()
		if err != nil {
			t.Fatal(err)
		}
		long := 2 * L
		if 3*L <= 12 {
			long = 3 * L
		}
		if long > 12 {
			continue // brute force over 2^H time sets
		}
		total++
		p.Horizon = L
		atL := refLeaks(t, p) > 0
		rep, err := Check(p, &Options{MaxUnion: len(p.Producers), MaxLeaks: 1})
		if err != nil {
			t.Fatal(err)
		}
		p.Horizon = long
		atLong := refLeaks(t, p) > 0
		if atL != atLong {
			t.Fatalf("instance %d: reference leak=%v at horizon L=%d but %v at %d\npolicy %+v", total, atL, L, atLong, long, p)
		}
		if got := len(rep.Leaks) > 0; got != atLong {
			t.Fatalf("instance %d: Check at horizon L=%d says leak=%v, the reference at %d says %v\npolicy %+v", total, L, got, long, atLong, p)
		}
		if atL {
			leaky++
		}
	}
	t.Logf("%d/%d instances leak; every decision at the period agrees with 2 or 3 periods", leaky, total)
}

// TestResolveDefaultsToPeriod: a file without a horizon is checked over
// its period, and one whose period is beyond the check is an error naming
// the rules.
func TestResolveDefaultsToPeriod(t *testing.T) {
	p, err := Resolve(windows796(0))
	if err != nil || p.Horizon != 672 {
		t.Fatalf("Resolve without a horizon: horizon %v, %v; want the period 672", p, err)
	}
	f := windows796(0)
	f.Rules[1].Window = 9000
	var pe *PeriodError
	if _, err := Resolve(f); !errors.As(err, &pe) || !strings.Contains(err.Error(), `"day" (window 9000)`) {
		t.Fatalf("Resolve with windows 7 and 9000 and no horizon: %v; want a *PeriodError naming day", err)
	}
}
