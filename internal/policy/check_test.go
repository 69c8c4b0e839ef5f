package policy

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// mustPolicy decodes and resolves a YAML rule set.
func mustPolicy(t testing.TB, doc string) *Policy {
	t.Helper()
	f, err := Decode(strings.NewReader(doc))
	if err != nil {
		t.Fatal(err)
	}
	p, err := Resolve(f)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// houses returns YAML producer entries h1..hn with the given labels.
func houses(from, to int, labels string) string {
	var b strings.Builder
	for i := from; i <= to; i++ {
		fmt.Fprintf(&b, "  - {id: h%d, max: 5000, labels: {%s}}\n", i, labels)
	}
	return b.String()
}

type leakWant struct {
	consumers []string
	producers []string // exact S when set
	rounds    []Span   // exact T when set
	terms     map[string]string
}

func TestCheckAttacksAndLegitimateSets(t *testing.T) {
	feeder := "producers:\n" + houses(1, 10, "feeder: F12")
	tests := []struct {
		name string
		doc  string
		want *leakWant // nil: accepted
	}{
		{
			name: "subtraction of one house",
			doc: "horizon: 8\n" + feeder + `
consumers:
  - {id: grid, grant: {kinds: [sum], min_window: 4, min_cohort: 5}}
rules:
  - {id: f12, consumer: grid, producers: {selector: feeder=F12}, window: 4, kind: sum}
  - {id: f12-7, consumer: grid, producers: {selector: feeder=F12, exclude: [h7]}, window: 4, kind: sum}
`,
			want: &leakWant{consumers: []string{"grid"}, producers: []string{"h7"}, rounds: []Span{{0, 4}},
				terms: map[string]string{"f12": "1", "f12-7": "-1"}},
		},
		{
			name: "2- and 3-round windows give single rounds",
			doc: "horizon: 12\n" + feeder + `
consumers:
  - {id: grid, grant: {kinds: [sum], min_window: 2, min_cohort: 5}}
rules:
  - {id: w2, consumer: grid, producers: {selector: feeder=F12}, window: 2, kind: sum}
  - {id: w3, consumer: grid, producers: {selector: feeder=F12}, window: 3, kind: sum}
`,
			want: &leakWant{consumers: []string{"grid"}, rounds: []Span{{2, 3}}},
		},
		{
			name: "band plus complement band with a day total",
			doc: "horizon: 96\nrounds_per_day: 96\n" + feeder + `
consumers:
  - {id: grid, grant: {kinds: [sum], min_window: 8, min_cohort: 5}}
rules:
  - {id: day, consumer: grid, producers: {selector: feeder=F12}, window: 96, kind: sum}
  - {id: evening, consumer: grid, producers: {selector: feeder=F12}, window: 96, kind: sum, band: [[72, 88]]}
  - {id: not-evening, consumer: grid, producers: {selector: feeder=F12}, window: 96, kind: sum, band: [[0, 72], [84, 96]]}
`,
			want: &leakWant{consumers: []string{"grid"}, rounds: []Span{{84, 88}},
				terms: map[string]string{"day": "-1", "evening": "1", "not-evening": "1"}},
		},
		{
			name: "subtraction inside a two-day evening band, split by daily totals",
			doc: "horizon: 192\nrounds_per_day: 96\n" + feeder + `
consumers:
  - {id: grid, grant: {kinds: [sum], min_window: 8, min_cohort: 5}}
rules:
  - {id: daily, consumer: grid, producers: {selector: feeder=F12}, window: 96, kind: sum}
  - {id: eve, consumer: grid, producers: {selector: feeder=F12}, window: 192, kind: sum, band: [[72, 88]]}
  - {id: eve-7, consumer: grid, producers: {selector: feeder=F12, exclude: [h7]}, window: 192, kind: sum, band: [[72, 88]]}
`,
			want: &leakWant{consumers: []string{"grid"}, producers: []string{"h7"}, rounds: []Span{{72, 88}, {168, 184}},
				terms: map[string]string{"eve": "1", "eve-7": "-1"}},
		},
		{
			name: "overlapping label selectors",
			doc: "horizon: 4\nproducers:\n" + houses(1, 8, "feeder: F1, district: D1") +
				houses(9, 10, "feeder: F1, street: S1, district: D1") + houses(11, 18, "street: S1, district: D1") + `
consumers:
  - {id: planner, grant: {kinds: [sum], min_window: 4, min_cohort: 5}}
rules:
  - {id: feeder, consumer: planner, producers: {selector: feeder=F1}, window: 4, kind: sum}
  - {id: street, consumer: planner, producers: {selector: street=S1}, window: 4, kind: sum}
  - {id: district, consumer: planner, producers: {selector: district=D1}, window: 4, kind: sum}
`,
			want: &leakWant{consumers: []string{"planner"}, producers: []string{"h9", "h10"}, rounds: []Span{{0, 4}},
				terms: map[string]string{"feeder": "1", "street": "1", "district": "-1"}},
		},
		{
			name: "two consumers pooling differencing rules",
			doc: "horizon: 4\n" + feeder + `
consumers:
  - {id: a, grant: {kinds: [sum], min_window: 4, min_cohort: 5}}
  - {id: b, grant: {kinds: [sum], min_window: 4, min_cohort: 5}}
rules:
  - {id: f12, consumer: a, producers: {selector: feeder=F12}, window: 4, kind: sum}
  - {id: f12-7, consumer: b, producers: {selector: feeder=F12, exclude: [h7]}, window: 4, kind: sum}
`,
			want: &leakWant{consumers: []string{"a", "b"}, producers: []string{"h7"}},
		},
		{
			name: "per-producer windows 2 and 3 give one house's single rounds",
			doc: "horizon: 12\n" + feeder + `
consumers:
  - {id: billing, grant: {kinds: [per-producer], min_window: 2, min_cohort: 1}}
rules:
  - {id: b2, consumer: billing, producers: {selector: feeder=F12}, window: 2, kind: per-producer}
  - {id: b3, consumer: billing, producers: {selector: feeder=F12}, window: 3, kind: per-producer}
`,
			want: &leakWant{consumers: []string{"billing"}, rounds: []Span{{2, 3}}},
		},
		{
			name: "union of two houses split by another rule",
			doc: "horizon: 4\n" + feeder + houses(11, 20, "feeder: F13") + `
consumers:
  - {id: grid, grant: {kinds: [sum], min_window: 4, min_cohort: 5}}
rules:
  - {id: f12, consumer: grid, producers: {selector: feeder=F12}, window: 4, kind: sum}
  - {id: f12-78, consumer: grid, producers: {selector: feeder=F12, exclude: [h7, h8]}, window: 4, kind: sum}
  - {id: f13-7, consumer: grid, producers: {selector: feeder=F13, ids: [h7]}, window: 4, kind: sum}
`,
			want: &leakWant{consumers: []string{"grid"}, producers: []string{"h7", "h8"}},
		},
		{
			name: "disjoint feeders, nested windows",
			doc: "horizon: 96\n" + feeder + houses(11, 20, "feeder: F13") + `
consumers:
  - {id: grid, grant: {kinds: [sum], min_window: 4, min_cohort: 5}}
rules:
  - {id: f12-4, consumer: grid, producers: {selector: feeder=F12}, window: 4, kind: sum}
  - {id: f12-8, consumer: grid, producers: {selector: feeder=F12}, window: 8, kind: sum}
  - {id: f13-8, consumer: grid, producers: {selector: feeder=F13}, window: 8, kind: sum}
  - {id: f13-24, consumer: grid, producers: {selector: feeder=F13}, window: 24, kind: sum}
`,
		},
		{
			name: "billing per producer daily with grid hourly feeder sums",
			doc: "horizon: 96\n" + feeder + houses(11, 20, "feeder: F13") + `
consumers:
  - {id: grid, grant: {kinds: [sum], min_window: 4, min_cohort: 5}}
  - {id: billing, grant: {kinds: [per-producer, sum], min_window: 96, min_cohort: 1}}
rules:
  - {id: f12, consumer: grid, producers: {selector: feeder=F12}, window: 4, kind: sum}
  - {id: f13, consumer: grid, producers: {selector: feeder=F13}, window: 4, kind: sum}
  - {id: bill, consumer: billing, producers: {selector: "feeder=F12"}, window: 96, kind: per-producer}
`,
		},
		{
			name: "time-of-use billing bands over a whole window",
			doc: "horizon: 192\nrounds_per_day: 96\n" + feeder + `
consumers:
  - {id: billing, grant: {kinds: [per-producer], min_window: 96, min_cohort: 1}}
rules:
  - {id: peak, consumer: billing, producers: {selector: feeder=F12}, window: 192, kind: per-producer, band: [[0, 24], [72, 96]]}
  - {id: total, consumer: billing, producers: {selector: feeder=F12}, window: 192, kind: per-producer}
`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rep, err := Check(mustPolicy(t, tc.doc), nil)
			if err != nil {
				t.Fatal(err)
			}
			if tc.want == nil {
				if !rep.Accepted {
					t.Fatalf("refused a legitimate rule set: %+v", rep)
				}
				return
			}
			if rep.Accepted || len(rep.Leaks) == 0 {
				t.Fatalf("accepted, want a leak: %+v", rep)
			}
			if len(rep.Refusals) != 0 {
				t.Errorf("unexpected rule refusals: %+v", rep.Refusals)
			}
			l := rep.Leaks[0]
			t.Log(l)
			if !slices.Equal(l.Consumers, tc.want.consumers) {
				t.Errorf("coalition %v, want %v", l.Consumers, tc.want.consumers)
			}
			if tc.want.producers != nil && !slices.Equal(l.Producers, tc.want.producers) {
				t.Errorf("producers %v, want %v", l.Producers, tc.want.producers)
			}
			if tc.want.rounds != nil && !slices.Equal(l.Rounds, tc.want.rounds) {
				t.Errorf("rounds %v, want %v", l.Rounds, tc.want.rounds)
			}
			if !l.Verified {
				t.Errorf("combination not verified exactly: %+v", l.Combination)
			}
			if tc.want.terms != nil {
				got := map[string]string{}
				for _, term := range l.Combination {
					got[term.Rule] = term.Coefficient
				}
				if fmt.Sprint(got) != fmt.Sprint(tc.want.terms) {
					t.Errorf("combination %v, want %v", got, tc.want.terms)
				}
			}
		})
	}
}
