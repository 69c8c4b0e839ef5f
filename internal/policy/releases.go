package policy

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// WindowRelease is what one window of a rule actually released: a value
// per effective producer set. A consumer whose result was refined as late
// shares arrived has served several values for one window, each a release.
type WindowRelease struct {
	// Window is the window index j: rounds [j·k, (j+1)·k).
	Window int
	// Sets lists the effective producer sets (ids) of the values released
	// for the window. No set, or only empty ones: the window released
	// nothing (a withheld result, or no producer reported).
	Sets [][]string
}

// WithReleases returns a copy of p in which the windows listed in rel
// release exactly what rel says, window by window, instead of every window
// of a rule releasing over the rule's resolved set. Windows not listed
// keep the resolved set. It is [Policy.WithEffective] per window: the
// model of what a consumer has really been given when producers went
// missing in some windows and not in others.
//
// A rule whose windows differ is split into rules that each release only
// some windows, by bands over the whole horizon: the copy has
// RoundsPerDay = Horizon, and a band of p is rewritten as the absolute
// rounds it selects (which needs Horizon to be a multiple of p's
// RoundsPerDay). The split rules are named "<rule>" (the windows with the
// resolved set) and "<rule>@<n>" (n = 1, 2, … per distinct effective
// set); [WithReleases] also returns, per split name, the producers each
// lacks relative to the resolved set, for explanations. Check then
// decides the copy with its band search, which is a search, not a proof
// (see "With bands" in the package documentation).
func (p *Policy) WithReleases(rel map[string][]WindowRelease) (*Policy, map[string][]string, error) {
	if p.Horizon < 1 {
		return nil, nil, fmt.Errorf("policy: horizon %d; releases need a horizon of at least 1 round", p.Horizon)
	}
	prodIdx := make(map[string]int, len(p.Producers))
	for i, pr := range p.Producers {
		prodIdx[pr.ID] = i
	}
	ruleIdx := make(map[string]int, len(p.Rules))
	for i, r := range p.Rules {
		ruleIdx[r.ID] = i
	}
	for id := range rel {
		if _, ok := ruleIdx[id]; !ok {
			return nil, nil, fmt.Errorf("policy: releases given for unknown rule %q", id)
		}
	}
	banded := slices.ContainsFunc(p.Rules, func(r Rule) bool { return len(r.Band) > 0 })
	if banded && (p.RoundsPerDay < 1 || p.Horizon%p.RoundsPerDay != 0) {
		return nil, nil, fmt.Errorf("policy: horizon %d is not a multiple of %d rounds per day; check whole days (one period) when rules have bands", p.Horizon, p.RoundsPerDay)
	}
	q := &Policy{Horizon: p.Horizon, RoundsPerDay: p.Horizon, Producers: p.Producers, Consumers: p.Consumers}
	lacks := map[string][]string{}
	for i := range p.Rules {
		r := &p.Rules[i]
		ws, ok := rel[r.ID]
		if !ok {
			nr := *r
			nr.Band = absoluteBand(p, r, nil)
			if len(r.Band) > 0 && len(nr.Band) == 0 {
				continue // the band selects no round of the horizon
			}
			q.Rules = append(q.Rules, nr)
			continue
		}
		// Group the windows by effective set; key "" is the resolved set.
		type group struct {
			set     []int
			windows map[int]bool
		}
		groups := map[string]*group{"": {set: r.Producers, windows: map[int]bool{}}}
		var order []string
		listed := map[int]bool{}
		for _, w := range ws {
			if w.Window < 0 || (w.Window+1)*r.Window > p.Horizon {
				return nil, nil, fmt.Errorf("policy: rule %q window %d does not end within the horizon of %d rounds", r.ID, w.Window, p.Horizon)
			}
			listed[w.Window] = true
			for _, ids := range w.Sets {
				set := make([]int, 0, len(ids))
				for _, id := range ids {
					j, ok := prodIdx[id]
					if !ok {
						return nil, nil, fmt.Errorf("policy: release of rule %q window %d names unknown producer %q", r.ID, w.Window, id)
					}
					set = append(set, j)
				}
				slices.Sort(set)
				set = slices.Compact(set)
				if len(set) == 0 {
					continue // a total of nobody reveals nothing
				}
				key := setKey(set)
				if slices.Equal(set, r.Producers) {
					key = ""
				}
				g, ok := groups[key]
				if !ok {
					g = &group{set: set, windows: map[int]bool{}}
					groups[key] = g
					order = append(order, key)
				}
				g.windows[w.Window] = true
			}
		}
		for j := 0; (j+1)*r.Window <= p.Horizon; j++ {
			if !listed[j] {
				groups[""].windows[j] = true
			}
		}
		for n, key := range append([]string{""}, order...) {
			g := groups[key]
			if len(g.windows) == 0 {
				continue
			}
			nr := *r
			nr.Producers = g.set
			if n > 0 {
				nr.ID = r.ID + "@" + strconv.Itoa(n)
				lacks[nr.ID] = missingIDs(p, r.Producers, g.set)
			}
			nr.Band = absoluteBand(p, r, g.windows)
			if len(nr.Band) == 0 {
				continue
			}
			q.Rules = append(q.Rules, nr)
		}
	}
	return q, lacks, nil
}

// absoluteBand returns the rounds of r within the horizon, restricted to
// the given windows (nil: all), as ranges of the copy's "day" — the whole
// horizon. For a rule without band and windows it returns nil (no band).
func absoluteBand(p *Policy, r *Rule, windows map[int]bool) []Range {
	if len(r.Band) == 0 && windows == nil {
		return nil
	}
	var out []Range
	for t := 0; t < p.Horizon; t++ {
		j := released(r, t, p.Horizon, p.RoundsPerDay)
		if j < 0 || (windows != nil && !windows[j]) {
			continue
		}
		if n := len(out); n > 0 && out[n-1].To == t {
			out[n-1].To = t + 1
		} else {
			out = append(out, Range{t, t + 1})
		}
	}
	return out
}

func setKey(set []int) string {
	var b strings.Builder
	for _, i := range set {
		b.WriteString(strconv.Itoa(i))
		b.WriteByte(',')
	}
	return b.String()
}

// missingIDs lists the producers of full not in part (both sorted).
func missingIDs(p *Policy, full, part []int) []string {
	var out []string
	for _, i := range full {
		if _, found := slices.BinarySearch(part, i); !found {
			out = append(out, p.Producers[i].ID)
		}
	}
	return out
}
