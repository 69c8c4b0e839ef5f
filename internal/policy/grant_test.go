package policy

import (
	"strings"
	"testing"
)

func TestRuleRefusals(t *testing.T) {
	base := "horizon: 8\nproducers:\n" + houses(1, 10, "feeder: F12") +
		"  - {id: big, max: 1152921504606846975, labels: {feeder: F99}}\n" + `
consumers:
  - {id: grid, grant: {kinds: [sum], min_window: 4, min_cohort: 5}}
  - {id: billing, grant: {kinds: [per-producer], min_window: 4, min_cohort: 1}}
rules:
`
	tests := []struct {
		name, rule, want string
	}{
		{"kind not granted", "  - {id: r, consumer: grid, producers: {selector: feeder=F12}, window: 4, kind: per-producer}",
			`consumer "grid" is not granted kind per-producer`},
		{"sum not granted", "  - {id: r, consumer: billing, producers: {selector: feeder=F12}, window: 4, kind: sum}",
			`consumer "billing" is not granted kind sum`},
		{"window below grant", "  - {id: r, consumer: grid, producers: {selector: feeder=F12}, window: 2, kind: sum}",
			`window 2 rounds is shorter than consumer "grid"'s minimum window 4`},
		{"cohort below grant", "  - {id: r, consumer: grid, producers: {ids: [h1, h2, h3]}, window: 4, kind: sum}",
			`sums 3 producers, fewer than consumer "grid"'s minimum cohort 5`},
		{"empty selection", "  - {id: r, consumer: grid, producers: {selector: feeder=F13}, window: 4, kind: sum}",
			"selects no producers"},
		{"field bound", "  - {id: r, consumer: billing, producers: {selector: feeder=F99}, window: 4, kind: per-producer}",
			"exceeds the field bound (q−1)/2"},
		{"field bound of a sum", "  - {id: r, consumer: grid, producers: {selector: feeder=F12, ids: [big]}, window: 4, kind: sum}",
			"exceeds the field bound (q−1)/2"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rep, err := Check(mustPolicy(t, base+tc.rule+"\n"), nil)
			if err != nil {
				t.Fatal(err)
			}
			if rep.Accepted || len(rep.Refusals) == 0 {
				t.Fatalf("accepted, want refusal %q: %+v", tc.want, rep)
			}
			found := false
			for _, r := range rep.Refusals {
				found = found || (r.Rule == "r" && strings.Contains(r.Reason, tc.want))
			}
			if !found {
				t.Errorf("refusals %+v do not say %q", rep.Refusals, tc.want)
			}
		})
	}
}

func TestFieldBoundEdge(t *testing.T) {
	// k · Σ max must be ≤ (q−1)/2 = 2^60 − 1: 4 producers × 2 rounds at
	// max 2^57 − 1 is just inside, at 2^57 just outside.
	for _, tc := range []struct {
		max  uint64
		fits bool
	}{{1<<57 - 1, true}, {1 << 57, false}} {
		p := &Policy{Horizon: 2, Consumers: []Consumer{{ID: "c", Grant: Grant{Sum: true, MinWindow: 1, MinCohort: 1}}},
			Rules: []Rule{{ID: "r", Window: 2, Kind: Sum, Producers: []int{0, 1, 2, 3}}}}
		for i := 0; i < 4; i++ {
			p.Producers = append(p.Producers, Producer{ID: string(rune('a' + i)), Max: tc.max})
		}
		if got := fieldBound(p, &p.Rules[0]) == ""; got != tc.fits {
			t.Errorf("max %d: fits = %v, want %v", tc.max, got, tc.fits)
		}
	}
}

func TestWithEffective(t *testing.T) {
	doc := "horizon: 4\nproducers:\n" + houses(1, 10, "feeder: F12") + `
consumers:
  - {id: grid, grant: {kinds: [sum], min_window: 4, min_cohort: 5}}
rules:
  - {id: f12, consumer: grid, producers: {selector: feeder=F12}, window: 4, kind: sum}
  - {id: f12-odd, consumer: grid, producers: {ids: [h1, h3, h5, h7, h9]}, window: 4, kind: sum}
`
	p := mustPolicy(t, doc)
	rep, err := Check(p, nil)
	if err != nil || !rep.Accepted {
		t.Fatalf("configured set should be accepted: %v %+v", err, rep)
	}
	// h2 drops out of f12 this round; f12-odd is unchanged: the difference
	// now covers the four houses h4, h6, h8, h10 — fewer than K = 5.
	eff, err := p.WithEffective(map[string][]string{"f12": {"h1", "h3", "h4", "h5", "h6", "h7", "h8", "h9", "h10"}})
	if err != nil {
		t.Fatal(err)
	}
	rep, err = Check(eff, nil)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Accepted || len(rep.Leaks) == 0 || rep.Leaks[0].ProducerCount != 4 {
		t.Fatalf("want a 4-house leak with h2 missing, got %+v", rep)
	}
	if len(p.Rules[0].Producers) != 10 {
		t.Error("WithEffective modified the original policy")
	}
	if _, err := p.WithEffective(map[string][]string{"nope": nil}); err == nil || !strings.Contains(err.Error(), `unknown rule "nope"`) {
		t.Errorf("unknown rule: err = %v", err)
	}
	if _, err := p.WithEffective(map[string][]string{"f12": {"h99"}}); err == nil || !strings.Contains(err.Error(), `unknown producer "h99"`) {
		t.Errorf("unknown producer: err = %v", err)
	}
}
