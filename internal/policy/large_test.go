package policy

import (
	"fmt"
	"syscall"
	"testing"
	"time"
)

// cpuTime is the process's user + system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// largeFile builds a utility-scale rule set: n producers on feeders of 100
// meters, 20 feeders to a district, 5 districts to a region; a billing
// consumer with daily per-producer values, a grid operator with hourly
// feeder sums, a planner with two-hourly district sums and a researcher
// with region sums over short windows — 100 rules in all. With bands,
// billing also gets each meter's daily evening-band total. n must be a
// multiple of 10,000.
func largeFile(n int, bands bool) *File {
	return largeFileOpts(n, bands, false)
}

// largeFileOpts is largeFile; fragmented replaces seven research rules by
// per-round totals of each phase (3) and tariff group (4) over the whole
// population, which cut every feeder into 12 producer atoms (~1,000 atoms).
func largeFileOpts(n int, bands, fragmented bool) *File {
	f := &File{Horizon: 96, RoundsPerDay: 96}
	for i := 0; i < n; i++ {
		feeder := i / 100
		f.Producers = append(f.Producers, FileProducer{
			ID:  fmt.Sprintf("m%06d", i),
			Max: 20000,
			Labels: map[string]string{
				"feeder":   fmt.Sprintf("F%d", feeder),
				"district": fmt.Sprintf("D%d", feeder/20),
				"region":   fmt.Sprintf("R%d", feeder/100),
				"phase":    string(rune('A' + i%3)),
				"tariff":   fmt.Sprintf("T%d", i/3%4),
			},
		})
	}
	f.Consumers = []FileConsumer{
		{ID: "billing", Grant: FileGrant{Kinds: []string{"per-producer", "sum"}, MinWindow: 96, MinCohort: 1}},
		{ID: "grid", Grant: FileGrant{Kinds: []string{"sum"}, MinWindow: 4, MinCohort: 50}},
		{ID: "planner", Grant: FileGrant{Kinds: []string{"sum"}, MinWindow: 8, MinCohort: 500}},
		{ID: "research", Grant: FileGrant{Kinds: []string{"sum"}, MinWindow: 1, MinCohort: 5000}},
	}
	add := func(id, consumer, sel string, window int, kind string) {
		f.Rules = append(f.Rules, FileRule{ID: id, Consumer: consumer, Producers: FileSelection{Selector: sel}, Window: window, Kind: kind})
	}
	regions := n / 10000
	for r := 0; r < regions; r++ {
		add(fmt.Sprintf("bill-R%d", r), "billing", fmt.Sprintf("region=R%d", r), 96, "per-producer")
	}
	if bands {
		// Time-of-use billing: each meter's evening (18:00–22:00) total per
		// day, so billing's minimum window is the band's 16 rounds.
		f.Consumers[0].Grant.MinWindow = 16
		for r := 0; r < regions; r++ {
			f.Rules = append(f.Rules, FileRule{ID: fmt.Sprintf("bill-eve-R%d", r), Consumer: "billing", Window: 96, Kind: "per-producer",
				Producers: FileSelection{Selector: fmt.Sprintf("region=R%d", r)}, Band: [][2]int{{72, 88}}})
		}
	}
	feeders := 60 - (len(f.Rules) - regions) // 50 with the band rules
	for fd := 0; fd < feeders; fd++ {
		add(fmt.Sprintf("grid-F%d", fd), "grid", fmt.Sprintf("feeder=F%d", fd), 4, "sum")
	}
	for d := 0; d < min(20, n/2000); d++ {
		add(fmt.Sprintf("plan-D%d", d), "planner", fmt.Sprintf("district=D%d", d), 8, "sum")
	}
	if fragmented {
		for _, sel := range []string{"phase=A", "phase=B", "phase=C", "tariff=T0", "tariff=T1", "tariff=T2", "tariff=T3"} {
			add("research-"+sel, "research", sel, 1, "sum")
		}
	}
	for i := 0; len(f.Rules) < 100; i++ {
		r, w := i%regions, 1+i/regions
		add(fmt.Sprintf("research-R%d-w%d", r, w), "research", fmt.Sprintf("region=R%d", r), w, "sum")
	}
	return f
}

// TestLargeRuleSet checks a 20,000-producer, 100-rule set: accepted as
// generated, refused once one feeder rule is echoed minus one meter.
func TestLargeRuleSet(t *testing.T) {
	f := largeFile(20000, false)
	p, err := Resolve(f)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := Check(p, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Accepted || !rep.Stats.Exact {
		t.Fatalf("legitimate large rule set refused or not certified exact: %+v", rep)
	}
	t.Logf("stats %+v", rep.Stats)
	f.Rules = append(f.Rules, FileRule{ID: "grid-F7-minus", Consumer: "grid", Window: 4, Kind: "sum",
		Producers: FileSelection{Selector: "feeder=F7", Exclude: []string{"m000742"}}})
	if p, err = Resolve(f); err != nil {
		t.Fatal(err)
	}
	if rep, err = Check(p, nil); err != nil {
		t.Fatal(err)
	}
	if rep.Accepted || len(rep.Leaks) == 0 || rep.Leaks[0].ProducerCount != 1 || rep.Leaks[0].Producers[0] != "m000742" {
		t.Fatalf("want the single-meter leak of m000742, got %+v", rep)
	}
}

// BenchmarkCheck measures the decision on 100-rule sets of growing size
// with a 96-round horizon. "resolve" (selector resolution, a linear scan
// of the registry per rule) is the baseline to compare "check" with.
func BenchmarkCheck(b *testing.B) {
	for _, tc := range []struct {
		n                 int
		bands, fragmented bool
	}{{10000, false, false}, {100000, false, false}, {100000, true, false}, {100000, false, true}} {
		n := tc.n
		f := largeFileOpts(n, tc.bands, tc.fragmented)
		p, err := Resolve(f)
		if err != nil {
			b.Fatal(err)
		}
		name := fmt.Sprintf("n=%d", n)
		if tc.bands {
			name += "/bands"
		}
		if tc.fragmented {
			name += "/fragmented"
		}
		b.Run("resolve/"+name, func(b *testing.B) {
			for b.Loop() {
				if _, err := Resolve(f); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("check/"+name, func(b *testing.B) {
			var rep *Report
			cpu0 := cpuTime()
			for b.Loop() {
				if rep, err = Check(p, nil); err != nil {
					b.Fatal(err)
				}
			}
			// CPU time does not depend on what else runs on the machine.
			b.ReportMetric((cpuTime()-cpu0).Seconds()/float64(b.N), "cpu-s/op")
			if !rep.Accepted {
				b.Fatalf("refused: %+v", rep.Leaks)
			}
			b.ReportMetric(float64(rep.Stats.Candidates), "candidates")
			b.ReportMetric(float64(rep.Stats.Coalitions), "coalitions")
			b.ReportMetric(float64(rep.Stats.MaxProducerAtoms), "atoms")
			b.ReportMetric(float64(rep.Stats.UnionDepth), "union-depth")
		})
	}
}
