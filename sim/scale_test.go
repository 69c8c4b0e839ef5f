package sim

import (
	"context"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ppnet/ppnet/sharing"
	"github.com/ppnet/ppnet/sim/household"
)

func TestScaleSmall(t *testing.T) {
	tests := []ScaleConfig{
		{Producers: 700, PPNs: 4, Threshold: 3, Rules: 3, Rounds: 8, Workers: 2},
		{Producers: 300, PPNs: 5, Threshold: 2, Rules: 1, Rounds: 4, Workers: 3},
		{Producers: 10, PPNs: 1, Threshold: 1, Rules: 10, Rounds: 2, Workers: 1},
		{Producers: 600, PPNs: 4, Rounds: 4, Workers: 2, ThreadCPU: ThreadCPUAvailable()},
	}
	for _, cfg := range tests {
		cfg.Seed = *seedFlag
		var calls int
		cfg.Progress = func(int) { calls++ }
		rep, err := Scale(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		c := rep.Config // defaults filled in: t = N−1, 4 rules
		wantSubsets := binom(c.PPNs, c.Threshold)
		if rep.Subsets != wantSubsets || rep.Aggregates != c.Rules*c.Rounds {
			t.Errorf("%+v: %d subsets × %d aggregates, want %d × %d", c, rep.Subsets, rep.Aggregates, wantSubsets, c.Rules*c.Rounds)
		}
		if got := rep.Stages[3].Items; got != int64(cfg.Producers*cfg.Rounds*cfg.PPNs) {
			t.Errorf("accumulated %d shares, want %d", got, cfg.Producers*cfg.Rounds*cfg.PPNs)
		}
		if rep.Stages[0].Busy <= 0 || rep.Stages[2].Busy <= 0 {
			t.Errorf("stage times %+v", rep.Stages)
		}
		if rep.EnergyWh == 0 || calls == 0 {
			t.Errorf("energy %d Wh, %d progress calls", rep.EnergyWh, calls)
		}
	}
}

func binom(n, k int) int {
	r := 1
	for i := range k {
		r = r * (n - i) / (i + 1)
	}
	return r
}

func TestForSubsets(t *testing.T) {
	var got [][]int
	forSubsets(4, 2, func(s []int) bool { got = append(got, slices.Clone(s)); return true })
	want := [][]int{{0, 1}, {0, 2}, {0, 3}, {1, 2}, {1, 3}, {2, 3}}
	if !slices.EqualFunc(got, want, slices.Equal) {
		t.Fatalf("got %v", got)
	}
}

func TestScaleRefuses(t *testing.T) {
	for _, cfg := range []ScaleConfig{
		{Producers: -1},
		{PPNs: 3, Threshold: 4},
		{Producers: 2, Rules: 3},
	} {
		if _, err := Scale(context.Background(), cfg); err == nil {
			t.Errorf("%+v accepted", cfg)
		}
	}
}

// TestScaleDetectsCorruption checks that the exactness check can fail: a
// PPN accumulator changed by one is reported.
func TestScaleDetectsCorruption(t *testing.T) {
	cfg := ScaleConfig{Producers: 50, PPNs: 3, Threshold: 2, Rules: 2, Rounds: 4, Workers: 1}
	if err := cfg.fill(); err != nil {
		t.Fatal(err)
	}
	pop, err := household.NewPopulation(nil, *seedFlag)
	if err != nil {
		t.Fatal(err)
	}
	xs := []sharing.Element{sharing.NewElement(1), sharing.NewElement(2), sharing.NewElement(3)}
	w, err := newScaleWorker(&cfg, pop, xs, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.batch(0, cfg.Producers); err != nil {
		t.Fatal(err)
	}
	if _, err := merge(&cfg, []*scaleWorker{w}, xs); err != nil {
		t.Fatalf("intact run: %v", err)
	}
	w.acc[len(w.acc)-1] = w.acc[len(w.acc)-1].Add(sharing.NewElement(1)) // PPN 3, rule 1, round 3
	if _, err := merge(&cfg, []*scaleWorker{w}, xs); err == nil || !strings.Contains(err.Error(), "rule 1 round 3") {
		t.Fatalf("corrupted accumulator: error %v", err)
	}
}

// TestScaleClocks checks which clock times the stages: with ThreadCPU
// every stage, recovery included, is thread CPU time and owes nothing to
// Now; without it every stage is measured by Now.
func TestScaleClocks(t *testing.T) {
	var ticks atomic.Int64
	hourly := func() time.Time { // an hour passes at every reading
		return time.Unix(0, 0).Add(time.Duration(ticks.Add(1)) * time.Hour)
	}
	cfg := ScaleConfig{Producers: 300, PPNs: 4, Rounds: 4, Workers: 2, Seed: *seedFlag, Now: hourly}
	if !ThreadCPUAvailable() {
		cfg.ThreadCPU = true
		if _, err := Scale(context.Background(), cfg); err == nil || !strings.Contains(err.Error(), "not available") {
			t.Fatalf("ThreadCPU on a platform without it: error %v", err)
		}
		return
	}
	for _, cpu := range []bool{true, false} {
		cfg.ThreadCPU = cpu
		rep, err := Scale(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range rep.Stages {
			if cpu && s.Busy >= time.Minute {
				t.Errorf("ThreadCPU: stage %s took %v: timed by Now, not by thread CPU time", s.Name, s.Busy)
			}
			if !cpu && (s.Busy < time.Hour || s.Busy%time.Hour != 0) {
				t.Errorf("without ThreadCPU: stage %s took %v, want whole hours of Now", s.Name, s.Busy)
			}
		}
	}
}
