package policy

import (
	"slices"
	"strings"
	"testing"
)

func TestWithReleases(t *testing.T) {
	doc := "horizon: 12\nrounds_per_day: 4\nproducers:\n" + houses(1, 10, "feeder: F12") + `
consumers:
  - {id: grid, grant: {kinds: [sum], min_window: 4, min_cohort: 5}}
  - {id: tou, grant: {kinds: [sum], min_window: 2, min_cohort: 5}}
rules:
  - {id: f12, consumer: grid, producers: {selector: feeder=F12}, window: 4, kind: sum}
  - {id: f12-odd, consumer: grid, producers: {ids: [h1, h3, h5, h7, h9]}, window: 4, kind: sum}
  - {id: eve, consumer: tou, producers: {selector: feeder=F12}, window: 4, kind: sum, band: [[2, 4]]}
`
	p := mustPolicy(t, doc)
	all := []string{"h1", "h2", "h3", "h4", "h5", "h6", "h7", "h8", "h9", "h10"}
	without := func(ids ...string) []string {
		return slices.DeleteFunc(slices.Clone(all), func(s string) bool { return slices.Contains(ids, s) })
	}
	cases := []struct {
		name     string
		rel      map[string][]WindowRelease
		accepted bool
		leak     []string // producers of the first leak, if any
		refused  string   // rule of the first refusal, if any
	}{
		{"nothing missing", nil, true, nil, ""},
		{"odd house missing in window 1", map[string][]WindowRelease{"f12": {{Window: 1, Sets: [][]string{without("h3")}}}}, true, nil, ""},
		// f12 without h2 minus f12-odd is four even houses, in window 1 only.
		{"even house missing in window 1", map[string][]WindowRelease{"f12": {{Window: 1, Sets: [][]string{without("h2")}}}}, false,
			[]string{"h10", "h4", "h6", "h8"}, ""},
		// A result refined by a late share: both values were served, so
		// their difference is h3, and f12-odd minus h3 the other four.
		{"refined result", map[string][]WindowRelease{"f12": {{Window: 2, Sets: [][]string{without("h3"), all}}}}, false, []string{"h1", "h5", "h7", "h9"}, ""},
		{"all but one missing", map[string][]WindowRelease{"eve": {{Window: 0, Sets: [][]string{{"h7"}}}}}, false, nil, "eve@1"},
		{"withheld window", map[string][]WindowRelease{"f12": {{Window: 0}}}, true, nil, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			q, lacks, err := p.WithReleases(tc.rel)
			if err != nil {
				t.Fatal(err)
			}
			rep, err := Check(q, nil)
			if err != nil {
				t.Fatal(err)
			}
			if rep.Accepted != tc.accepted {
				t.Fatalf("accepted = %v, want %v: %+v", rep.Accepted, tc.accepted, rep)
			}
			if tc.leak != nil {
				if len(rep.Leaks) == 0 {
					t.Fatalf("no leak: %+v", rep)
				}
				got := slices.Clone(rep.Leaks[0].Producers)
				slices.Sort(got)
				if !slices.Equal(got, tc.leak) {
					t.Errorf("leak of %v, want %v (%v)", got, tc.leak, rep.Leaks[0])
				}
				if !slices.ContainsFunc(rep.Leaks[0].Combination, func(x Term) bool { return strings.HasPrefix(x.Rule, "f12@") }) {
					t.Errorf("combination %+v does not use the partial release", rep.Leaks[0].Combination)
				}
			}
			if tc.refused != "" {
				if len(rep.Refusals) == 0 || rep.Refusals[0].Rule != tc.refused {
					t.Fatalf("refusals %+v, want one of rule %s", rep.Refusals, tc.refused)
				}
				if got := lacks[tc.refused]; len(got) != 9 {
					t.Errorf("lacks[%s] = %v, want the 9 other houses", tc.refused, got)
				}
			}
		})
	}
	if len(p.Rules) != 3 || p.RoundsPerDay != 4 || len(p.Rules[0].Band) != 0 {
		t.Error("WithReleases modified the original policy")
	}
	for _, bad := range []struct {
		rel  map[string][]WindowRelease
		want string
	}{
		{map[string][]WindowRelease{"nope": nil}, `unknown rule "nope"`},
		{map[string][]WindowRelease{"f12": {{Window: 3}}}, "window 3 does not end within"},
		{map[string][]WindowRelease{"f12": {{Window: 0, Sets: [][]string{{"h99"}}}}}, `unknown producer "h99"`},
	} {
		if _, _, err := p.WithReleases(bad.rel); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%v: err = %v, want %q", bad.rel, err, bad.want)
		}
	}
}
