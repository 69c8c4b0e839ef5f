package billingd

import (
	"context"
	"crypto/rand"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ppnet/ppnet/internal/netconfig"
)

func TestSameHours(t *testing.T) {
	tests := []struct {
		name   string
		perDay uint64
		rounds [][2]uint64
		hours  string
		err    string // "" accepted
	}{
		{"peak, 15-minute rounds", 96, [][2]uint64{{72, 88}}, "18:00-22:00", ""},
		{"off-peak across midnight", 24, [][2]uint64{{22, 24}, {0, 6}}, "22:00-06:00", ""},
		{"24:00 is not a time", 24, [][2]uint64{{0, 6}, {22, 24}}, "22:00-24:00, 00:00-06:00", "not HH:MM-HH:MM"},
		{"comma-separated ranges", 24, [][2]uint64{{0, 6}, {20, 22}}, "20:00-22:00, 00:00-06:00", ""},
		{"shifted by an hour", 96, [][2]uint64{{68, 84}}, "18:00-22:00", "set the rule's band rounds to [[72, 88]]"},
		{"wrapping fix", 24, [][2]uint64{{23, 24}, {0, 6}}, "22:00-06:00", "[[0, 6], [22, 24]]"},
		{"hours off the round grid", 24, [][2]uint64{{18, 22}}, "18:30-22:00", "do not start on round boundaries"},
		{"minutes not whole", 7, [][2]uint64{{1, 2}}, "18:00-22:00", "does not cut a day into whole minutes"},
		{"garbage hours", 24, [][2]uint64{{18, 22}}, "evenings", "not HH:MM-HH:MM"},
		{"empty range", 24, [][2]uint64{{18, 22}}, "18:00-18:00", "not HH:MM-HH:MM"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := &netconfig.ResolvedRule{ID: "r", PerDay: tc.perDay, Band: &netconfig.Band{Rounds: tc.rounds}}
			err := sameHours(r, tc.hours)
			if tc.err == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Fatalf("error %v, want one containing %q", err, tc.err)
			}
		})
	}
}

// TestStartRefusesWrongBandHours: customers on the example time-of-day
// schedule and a "peak" rule an hour early — the daemon refuses to start.
func TestStartRefusesWrongBandHours(t *testing.T) {
	cfg, _, err := netconfig.Generate(netconfig.Spec{PPNs: 3, Threshold: 2, W: 3, Meters: 4, Producers: 1, Start: time.Now(), Round: time.Second,
		Grace: time.Second, Rounds: 24, PerDay: 24, Rules: []netconfig.RuleSpec{
			{ID: "peak", Consumer: "utility", Kind: netconfig.KindPerProducer, Window: 24, Fraction: 1,
				Band: &netconfig.Band{Name: "peak", Rounds: [][2]uint64{{17, 21}}}},
		}}, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	n, err := cfg.Resolve()
	if err != nil {
		t.Fatal(err)
	}
	d, err := New(Config{DataDir: t.TempDir(), Source: noResults{}, Net: n, Synthetic: 4, Tariff: "example-tod-lt2a",
		Periods: []Period{{Name: "2026-03", FirstRound: 0, LastRound: 23}}})
	if err != nil {
		t.Fatal(err)
	}
	err = d.Start(context.Background())
	if err == nil {
		d.Shutdown(context.Background())
	}
	if err == nil || !strings.Contains(err.Error(), `rule "peak" is billed as band "peak"`) || !strings.Contains(err.Error(), "[[18, 22]]") {
		t.Fatalf("start: %v; want a refusal naming the rule and the rounds [[18, 22]]", err)
	}
}

// FuzzParseHours: schedule hours never panic, and accepted ones name at
// least one minute of the day.
func FuzzParseHours(f *testing.F) {
	for _, s := range []string{"22:00-06:00", "06:00-18:00", "18:00-22:00", "20:00-22:00, 00:00-06:00", "18:00-18:00", "25:00-01:00", "-", ","} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		mask, err := parseHours(s)
		if err != nil {
			return
		}
		for _, in := range mask {
			if in {
				return
			}
		}
		t.Fatalf("hours %q accepted with no minute in them", s)
	})
}

// TestBandRounds: hours to rounds and back through sameHours.
func TestBandRounds(t *testing.T) {
	tests := []struct {
		hours  string
		perDay uint64
		want   [][2]uint64
		err    string
	}{
		{"18:00-22:00", 96, [][2]uint64{{72, 88}}, ""},
		{"22:00-06:00", 96, [][2]uint64{{0, 24}, {88, 96}}, ""},
		{"06:00-18:00", 24, [][2]uint64{{6, 18}}, ""},
		{"18:00-22:00", 8, nil, "do not start and end on round boundaries"},
		{"18:00-22:00", 7, nil, "whole minutes"},
		{"noon", 24, nil, "not HH:MM-HH:MM"},
	}
	for _, tc := range tests {
		got, err := BandRounds(tc.hours, tc.perDay)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s at %d a day: error %v, want %q", tc.hours, tc.perDay, err, tc.err)
			}
			continue
		}
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("%s at %d a day: %v, %v; want %v", tc.hours, tc.perDay, got, err, tc.want)
			continue
		}
		r := &netconfig.ResolvedRule{ID: "r", PerDay: tc.perDay, Band: &netconfig.Band{Rounds: got}}
		if err := sameHours(r, tc.hours); err != nil {
			t.Errorf("%s: rounds %v do not check back: %v", tc.hours, got, err)
		}
	}
}
