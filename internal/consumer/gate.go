package consumer

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	bolt "go.etcd.io/bbolt"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ppnet/ppnet/internal/netconfig"
	"github.com/ppnet/ppnet/internal/policy"
)

// Withheld explains why a result was not released: the release-time policy
// check (docs/policy.md, "At release time") refused the effective producer
// sets of everything released so far once this result's missing producers
// were taken into account. A withheld result carries no value.
type Withheld struct {
	// Reason is a one-line summary, with the rules and the producers.
	Reason string `json:"reason"`
	// BlockStart is the epoch round the rounds and windows of Refusals
	// and Leaks count from: the check runs on the period-long block of
	// rounds that holds the window.
	BlockStart uint64 `json:"block_start"`
	// Refusals and Leaks are the policy report (internal/policy). Rules
	// named "<rule>@<n>" are the windows of <rule> released over an
	// effective set; Lacking lists what each of them lacks.
	Refusals []policy.Refusal    `json:"refusals,omitempty"`
	Leaks    []policy.Leak       `json:"leaks,omitempty"`
	Lacking  map[string][]string `json:"lacking,omitempty"`
}

// bucketReleased records, per window that ever released a partial value,
// the missing meter sets of every value served for it (JSON [][]string):
// a result refined by late shares has served each of them.
var bucketReleased = []byte("released")

// gateCacheSize bounds the decisions kept; the cache is cleared when full.
const gateCacheSize = 1024

// gate runs the policy check before a result whose coverage misses
// producers is released. The model is the network file: every rule of the
// consumers whose grant the file carries, this consumer's with what each
// window really released, the others' as configured (their results are
// sealed for them, so their missing producers are not known here).
type gate struct {
	off    string // why the check cannot run; "" when it does
	base   *policy.Policy
	period uint64
	grant  *netconfig.Grant
	rule   map[int]string // network rule index → policy rule id, for this consumer's rules
	own    []int          // this consumer's network rule indexes
	cache  map[string]*Withheld

	withheld, checks, cached prometheus.Counter
}

func newGate(n *netconfig.Network, me int, own []int, reg prometheus.Registerer) *gate {
	c := func(name, help string) prometheus.Counter {
		return prometheus.NewCounter(prometheus.CounterOpts{Namespace: "ppnet", Subsystem: "consumer", Name: name, Help: help})
	}
	g := &gate{rule: map[int]string{}, own: own, cache: map[string]*Withheld{},
		withheld: c("withheld_total", "Results withheld by the release-time policy check (a window counts once)."),
		checks:   c("policy_checks_total", "Release-time policy checks run (results with missing producers, not in the cache)."),
		cached:   c("policy_checks_cached_total", "Release-time policy decisions taken from the cache.")}
	reg.MustRegister(g.withheld, g.checks, g.cached)
	g.grant = n.Config.Consumers[me].Grant
	if g.grant == nil {
		g.off = "the network file carries no grant for this consumer (render it from the registry to get one)"
		return g
	}
	p := &policy.Policy{RoundsPerDay: int(n.Config.Rounds.PerDay)}
	for _, m := range n.Meters {
		// Max 0: the field bound was checked when the rules were admitted.
		p.Producers = append(p.Producers, policy.Producer{ID: m})
	}
	cons := map[int]int{}
	for i, cs := range n.Config.Consumers {
		if cs.Grant == nil {
			continue // not modelled: its grant is not known here
		}
		cons[i] = len(p.Consumers)
		p.Consumers = append(p.Consumers, policy.Consumer{ID: cs.ID, Grant: policy.Grant{
			Sum: cs.Grant.Allows(netconfig.KindSum), PerProducer: cs.Grant.Allows(netconfig.KindPerProducer),
			MinWindow: cs.Grant.MinWindow, MinCohort: cs.Grant.MinCohort}})
	}
	for i := range n.Rules {
		r := &n.Rules[i]
		pc, ok := cons[r.Consumer]
		if !ok {
			continue
		}
		pr := policy.Rule{ID: r.ID, Consumer: pc, Window: int(r.K), Kind: policy.Sum}
		if r.Kind == netconfig.KindPerProducer {
			pr.Kind = policy.PerProducer
		}
		for _, m := range r.Meters {
			pr.Producers = append(pr.Producers, int(m))
		}
		slices.Sort(pr.Producers)
		if r.Band != nil {
			for _, b := range r.Band.Rounds {
				pr.Band = append(pr.Band, policy.Range{From: int(b[0]), To: int(b[1])})
			}
		}
		if r.Consumer == me {
			g.rule[i] = r.ID
		}
		p.Rules = append(p.Rules, pr)
	}
	// A period beyond policy.MaxHorizon leaves g.period 0: check then
	// withholds every partial result (fail closed).
	if period, err := p.Period(); err == nil {
		p.Horizon = period
		g.base, g.period = p, uint64(period)
	}
	return g
}

// check decides whether res, the value of window k about to be stored,
// may be released. It returns nil to release, else why not. Only results
// with missing producers are checked; decisions are cached by the
// releases of the window's block.
func (c *Consumer) check(k wkey, res *Result) (*Withheld, error) {
	g := c.gate
	if len(res.Missing) == 0 || res.Error != "" || g.off != "" {
		return nil, nil
	}
	if g.period == 0 {
		return &Withheld{Reason: fmt.Sprintf("the rules' period (the least common multiple of their windows) exceeds %d rounds, so the release-time policy check cannot run; use windows that divide one another", policy.MaxHorizon)}, nil
	}
	r := &c.net.Rules[k.rule]
	missing := missingMeters(res)
	if w := partialExtent(r, k.window, res, g.grant); w != nil {
		return w, nil
	}
	start := k.window / g.period * g.period
	rel, err := c.blockReleases(start, k, missing)
	if err != nil {
		return nil, err
	}
	key := fmt.Sprint(start, rel)
	if w, ok := g.cache[key]; ok {
		g.cached.Inc()
		return w, nil
	}
	q, lacks, err := g.base.WithReleases(rel)
	if err != nil {
		return nil, fmt.Errorf("consumer: release-time policy check: %w", err)
	}
	g.checks.Inc()
	rep, err := policy.Check(q, nil)
	if err != nil {
		return nil, fmt.Errorf("consumer: release-time policy check: %w", err)
	}
	var w *Withheld
	if !rep.Accepted {
		w = &Withheld{BlockStart: start, Refusals: rep.Refusals, Leaks: rep.Leaks, Lacking: lacks}
		var why []string
		for _, x := range rep.Refusals {
			why = append(why, "rule "+x.Rule+": "+x.Reason)
		}
		for _, l := range rep.Leaks {
			why = append(why, l.String())
		}
		w.Reason = fmt.Sprintf("releasing window %d of rule %q without %s would let %s", k.window, r.ID, list(missing), strings.Join(why, "; "))
	}
	if len(g.cache) >= gateCacheSize {
		clear(g.cache)
	}
	g.cache[key] = w
	return w, nil
}

// blockReleases lists what this consumer's rules released in the block of
// one period starting at epoch round start, with window k releasing its
// rule's meters minus missing; windows outside the epoch released nothing.
// Window indexes count from the block's start.
func (c *Consumer) blockReleases(start uint64, k wkey, missing []string) (map[string][]policy.WindowRelease, error) {
	g := c.gate
	rel := map[string][]policy.WindowRelease{}
	count := c.net.Config.Rounds.Count
	err := c.db.View(func(tx *bolt.Tx) error {
		rb, sb := tx.Bucket(bucketReleased), tx.Bucket(bucketResults)
		for _, ri := range g.own {
			id, ok := g.rule[ri]
			if !ok {
				continue
			}
			r := &c.net.Rules[ri]
			for w := start; w+r.K <= start+g.period; w += r.K {
				j := int((w - start) / r.K)
				if count > 0 && w+r.K > count {
					rel[id] = append(rel[id], policy.WindowRelease{Window: j})
					continue
				}
				key := windowKey(uint16(ri), w)
				var sets [][]string
				if v := rbGet(rb, key); v != nil {
					if err := json.Unmarshal(v, &sets); err != nil {
						return fmt.Errorf("consumer: corrupt release record of rule %q window %d: %v", r.ID, w, err)
					}
				}
				cur := uint16(ri) == k.rule && w == k.window
				if cur && !containsSet(sets, missing) {
					sets = append(sets, missing)
				}
				if sets == nil {
					if v := sb.Get(key); v == nil || !bytesWithheld(v) {
						continue // complete, or not yet: the rule's own set
					}
					rel[id] = append(rel[id], policy.WindowRelease{Window: j}) // withheld
					continue
				}
				wr := policy.WindowRelease{Window: j}
				for _, m := range sets {
					wr.Sets = append(wr.Sets, c.without(r, m))
				}
				rel[id] = append(rel[id], wr)
			}
		}
		return nil
	})
	return rel, err
}

func rbGet(b *bolt.Bucket, key []byte) []byte {
	if b == nil {
		return nil
	}
	return b.Get(key)
}

// bytesWithheld reports whether a stored result is withheld.
func bytesWithheld(v []byte) bool {
	var r struct {
		Withheld *Withheld `json:"withheld"`
	}
	return json.Unmarshal(v, &r) == nil && r.Withheld != nil
}

// without returns the ids of r's meters not in missing.
func (c *Consumer) without(r *netconfig.ResolvedRule, missing []string) []string {
	out := make([]string, 0, len(r.Meters))
	for _, m := range r.Meters {
		if id := c.net.Meters[m]; !slices.Contains(missing, id) {
			out = append(out, id)
		}
	}
	return out
}

// recordRelease appends res's missing set to the window's release record
// when res is released partial, or the window released partial before.
func recordRelease(tx *bolt.Tx, key []byte, res *Result) error {
	if res.Withheld != nil || res.Error != "" {
		return nil
	}
	missing := missingMeters(res)
	b := tx.Bucket(bucketReleased)
	if b == nil {
		if len(missing) == 0 {
			return nil
		}
		var err error
		if b, err = tx.CreateBucket(bucketReleased); err != nil {
			return err
		}
	}
	var sets [][]string
	if v := b.Get(key); v != nil {
		if err := json.Unmarshal(v, &sets); err != nil {
			return fmt.Errorf("corrupt release record: %v", err)
		}
	} else if len(missing) == 0 {
		return nil
	}
	if containsSet(sets, missing) {
		return nil
	}
	v, err := json.Marshal(append(sets, missing))
	if err != nil {
		return err
	}
	return b.Put(key, v)
}

// missingMeters returns the sorted ids of the meters missing from at least
// one round of res: the check models them as missing from the window.
func missingMeters(res *Result) []string {
	out := []string{}
	for _, m := range res.Missing {
		if id, ok := m[0].(string); ok && !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return out
}

func containsSet(sets [][]string, s []string) bool {
	return slices.ContainsFunc(sets, func(x []string) bool { return slices.Equal(x, s) })
}

// partialExtent refuses a per-producer value of a meter that reported in
// only some rounds of the window when those rounds lie within fewer than
// the grant's minimum window: the value is that meter's total over a
// shorter stretch than the consumer may learn.
func partialExtent(r *netconfig.ResolvedRule, start uint64, res *Result, g *netconfig.Grant) *Withheld {
	if r.Kind != netconfig.KindPerProducer {
		return nil
	}
	gone := map[string]map[uint64]bool{}
	for _, m := range res.Missing {
		id, _ := m[0].(string)
		round, _ := m[1].(uint64)
		if gone[id] == nil {
			gone[id] = map[uint64]bool{}
		}
		gone[id][round] = true
	}
	for _, id := range slices.Sorted(maps.Keys(gone)) {
		first, last, n := uint64(0), uint64(0), 0
		for j := uint64(0); j < r.Rows; j++ {
			if t := r.RoundOf(start, j); !gone[id][t] {
				if n == 0 {
					first = t
				}
				last, n = t, n+1
			}
		}
		if n > 0 && last-first+1 < uint64(g.MinWindow) {
			return &Withheld{BlockStart: start, Reason: fmt.Sprintf("meter %s reported only in rounds %d–%d of window %d of rule %q: its value would be its total over %d rounds, shorter than the minimum window %d of the grant",
				id, first, last, start, r.ID, last-first+1, g.MinWindow)}
		}
	}
	return nil
}

// list names up to five ids.
func list(ids []string) string {
	if len(ids) > 5 {
		return strings.Join(ids[:5], ", ") + fmt.Sprintf(" and %d more", len(ids)-5)
	}
	return strings.Join(ids, ", ")
}
