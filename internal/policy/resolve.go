package policy

import (
	"fmt"
	"slices"
	"strings"
)

// MaxHorizon bounds the horizon a check accepts. The leak search costs
// O(B²·A) fingerprint operations for B time atoms and A producer atoms, so
// a horizon beyond a few thousand rounds is better checked one repeating
// period (the least common multiple of the windows and the day) at a time.
const MaxHorizon = 8192

// Kind is a rule kind.
type Kind int

// The rule kinds of DESIGN §2.
const (
	// Sum releases one value per window: the total over Π and the window.
	Sum Kind = iota + 1
	// PerProducer releases one value per producer per window.
	PerProducer
)

// String returns the kind's name as written in files.
func (k Kind) String() string {
	switch k {
	case Sum:
		return "sum"
	case PerProducer:
		return "per-producer"
	}
	return fmt.Sprintf("kind(%d)", int(k))
}

// Producer is a resolved producer: its id and declared maximum reading.
type Producer struct {
	ID  string
	Max uint64
}

// Grant is a consumer's grant.
type Grant struct {
	// Sum and PerProducer report which kinds are allowed.
	Sum, PerProducer bool
	// MinWindow is the shortest stretch of rounds a total may cover.
	MinWindow int
	// MinCohort is K, the fewest producers a total may cover (waived for
	// holders of PerProducer).
	MinCohort int
}

// Consumer is a resolved consumer.
type Consumer struct {
	ID    string
	Grant Grant
}

// Range is a half-open range [From, To) of rounds of the day.
type Range struct{ From, To int }

// Rule is a resolved rule: the producer set is explicit.
type Rule struct {
	ID string
	// Consumer indexes Policy.Consumers.
	Consumer int
	// Producers indexes Policy.Producers, sorted, without duplicates.
	Producers []int
	// Window is k, in rounds.
	Window int
	Kind   Kind
	// Band, when not empty, restricts the rule to rounds whose round of the
	// day lies in one of the ranges.
	Band []Range
}

// Policy is a resolved rule set: every selector replaced by its producer
// set. [Check] decides it; [Policy.WithEffective] derives the set a release
// will actually use when producers are missing.
type Policy struct {
	Horizon      int
	RoundsPerDay int
	Producers    []Producer
	Consumers    []Consumer
	Rules        []Rule
}

// Resolve validates a decoded file and resolves its selectors against the
// producer registry. Structural problems (unknown or duplicate ids, bad
// numbers, malformed selectors or bands) are errors; policy problems (a
// rule that selects nobody, a grant or field bound exceeded, a leak) are
// left to [Check], which reports them as refusals.
func Resolve(f *File) (*Policy, error) {
	if f.RoundsPerDay < 0 {
		return nil, fmt.Errorf("policy: rounds_per_day %d is negative; use e.g. 96 for 15-minute rounds", f.RoundsPerDay)
	}
	horizon := f.Horizon
	if horizon == 0 {
		// No horizon given: the rule set runs without end, which one
		// period decides.
		period, err := f.Period()
		if err != nil {
			return nil, err
		}
		horizon = period
	}
	if horizon < 1 || horizon > MaxHorizon {
		return nil, fmt.Errorf("policy: horizon %d rounds is outside [1, %d]; set horizon to the number of rounds to check, or omit it to check the rules' period (every horizon)", f.Horizon, MaxHorizon)
	}
	p := &Policy{Horizon: horizon, RoundsPerDay: f.RoundsPerDay}
	prodIdx := make(map[string]int, len(f.Producers))
	for i, fp := range f.Producers {
		if fp.ID == "" {
			return nil, fmt.Errorf("policy: producer #%d has no id; give every producer a unique id", i+1)
		}
		if _, dup := prodIdx[fp.ID]; dup {
			return nil, fmt.Errorf("policy: producer id %q appears twice; producer ids must be unique", fp.ID)
		}
		prodIdx[fp.ID] = i
		p.Producers = append(p.Producers, Producer{ID: fp.ID, Max: fp.Max})
	}
	consIdx := make(map[string]int, len(f.Consumers))
	for i, fc := range f.Consumers {
		c, err := resolveConsumer(i, fc)
		if err != nil {
			return nil, err
		}
		if _, dup := consIdx[fc.ID]; dup {
			return nil, fmt.Errorf("policy: consumer id %q appears twice; consumer ids must be unique", fc.ID)
		}
		consIdx[fc.ID] = i
		p.Consumers = append(p.Consumers, c)
	}
	idx := labelIndex(f)
	ruleIDs := make(map[string]bool, len(f.Rules))
	for i, fr := range f.Rules {
		if fr.ID == "" {
			return nil, fmt.Errorf("policy: rule #%d has no id; give every rule a unique id", i+1)
		}
		if ruleIDs[fr.ID] {
			return nil, fmt.Errorf("policy: rule id %q appears twice; rule ids must be unique", fr.ID)
		}
		ruleIDs[fr.ID] = true
		r, err := resolveRule(f, fr, prodIdx, consIdx, idx)
		if err != nil {
			return nil, err
		}
		p.Rules = append(p.Rules, r)
	}
	return p, nil
}

func resolveConsumer(i int, fc FileConsumer) (Consumer, error) {
	if fc.ID == "" {
		return Consumer{}, fmt.Errorf("policy: consumer #%d has no id; give every consumer a unique id", i+1)
	}
	g := Grant{MinWindow: fc.Grant.MinWindow, MinCohort: fc.Grant.MinCohort}
	if g.MinWindow < 1 {
		return Consumer{}, fmt.Errorf("policy: consumer %q: min_window %d must be at least 1 round", fc.ID, g.MinWindow)
	}
	if g.MinCohort < 1 {
		return Consumer{}, fmt.Errorf("policy: consumer %q: min_cohort %d must be at least 1 producer", fc.ID, g.MinCohort)
	}
	for _, k := range fc.Grant.Kinds {
		switch k {
		case "sum":
			g.Sum = true
		case "per-producer":
			g.PerProducer = true
		default:
			return Consumer{}, fmt.Errorf("policy: consumer %q: unknown kind %q in grant; use sum or per-producer", fc.ID, k)
		}
	}
	return Consumer{ID: fc.ID, Grant: g}, nil
}

// labelIndex maps label → value → producers carrying it, in order, so a
// selector costs the size of its smallest term's list, not a registry scan.
func labelIndex(f *File) map[string]map[string][]int {
	idx := map[string]map[string][]int{}
	for i, fp := range f.Producers {
		for k, v := range fp.Labels {
			if idx[k] == nil {
				idx[k] = map[string][]int{}
			}
			idx[k][v] = append(idx[k][v], i)
		}
	}
	return idx
}

func resolveRule(f *File, fr FileRule, prodIdx, consIdx map[string]int, idx map[string]map[string][]int) (Rule, error) {
	r := Rule{ID: fr.ID, Window: fr.Window}
	c, ok := consIdx[fr.Consumer]
	if !ok {
		return Rule{}, fmt.Errorf("policy: rule %q: unknown consumer %q; declare it under consumers", fr.ID, fr.Consumer)
	}
	r.Consumer = c
	switch fr.Kind {
	case "sum":
		r.Kind = Sum
	case "per-producer":
		r.Kind = PerProducer
	default:
		return Rule{}, fmt.Errorf("policy: rule %q: unknown kind %q; use sum or per-producer", fr.ID, fr.Kind)
	}
	if fr.Window < 1 {
		return Rule{}, fmt.Errorf("policy: rule %q: window %d must be at least 1 round", fr.ID, fr.Window)
	}
	for _, b := range fr.Band {
		if f.RoundsPerDay < 1 {
			return Rule{}, fmt.Errorf("policy: rule %q has a band but rounds_per_day is not set; set it (e.g. 96 for 15-minute rounds)", fr.ID)
		}
		if b[0] < 0 || b[0] >= b[1] || b[1] > f.RoundsPerDay {
			return Rule{}, fmt.Errorf("policy: rule %q: band range [%d, %d) is not within [0, %d) with from < to", fr.ID, b[0], b[1], f.RoundsPerDay)
		}
		r.Band = append(r.Band, Range{From: b[0], To: b[1]})
	}
	set, err := selectProducers(f, fr, prodIdx, idx)
	if err != nil {
		return Rule{}, err
	}
	r.Producers = set
	return r, nil
}

// selectProducers resolves ids ∪ selector − exclude into sorted indices.
func selectProducers(f *File, fr FileRule, prodIdx map[string]int, idx map[string]map[string][]int) ([]int, error) {
	s := fr.Producers
	if len(s.IDs) == 0 && s.Selector == "" {
		return nil, fmt.Errorf("policy: rule %q selects no producers: give producers.ids or producers.selector", fr.ID)
	}
	in := make(map[int]bool)
	for _, id := range s.IDs {
		i, ok := prodIdx[id]
		if !ok {
			return nil, fmt.Errorf("policy: rule %q: unknown producer %q in ids; declare it under producers", fr.ID, id)
		}
		if in[i] {
			return nil, fmt.Errorf("policy: rule %q lists producer %q twice", fr.ID, id)
		}
		in[i] = true
	}
	if s.Selector != "" {
		terms, err := parseSelector(s.Selector)
		if err != nil {
			return nil, fmt.Errorf("policy: rule %q: %w", fr.ID, err)
		}
		// Scan the shortest term's list and test the other terms.
		best := idx[terms[0].key][terms[0].value]
		for _, t := range terms[1:] {
			if l := idx[t.key][t.value]; len(l) < len(best) {
				best = l
			}
		}
		for _, i := range best {
			if matches(f.Producers[i].Labels, terms) {
				in[i] = true
			}
		}
	}
	for _, id := range s.Exclude {
		i, ok := prodIdx[id]
		if !ok {
			return nil, fmt.Errorf("policy: rule %q: unknown producer %q in exclude; declare it under producers", fr.ID, id)
		}
		delete(in, i)
	}
	set := make([]int, 0, len(in))
	for i := range in {
		set = append(set, i)
	}
	slices.Sort(set)
	return set, nil
}

type labelTerm struct{ key, value string }

// parseSelector parses "k=v,k2=v2".
func parseSelector(sel string) ([]labelTerm, error) {
	var terms []labelTerm
	for _, part := range strings.Split(sel, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if !ok || k == "" {
			return nil, fmt.Errorf("selector %q: term %q is not label=value; write e.g. feeder=F12,phase=A", sel, part)
		}
		terms = append(terms, labelTerm{k, v})
	}
	return terms, nil
}

func matches(labels map[string]string, terms []labelTerm) bool {
	for _, t := range terms {
		if v, ok := labels[t.key]; !ok || v != t.value {
			return false
		}
	}
	return true
}

// WithEffective returns a copy of p in which the rules named in sets use
// the given producer ids instead of their resolved sets — the effective
// sets of a release when some producers are missing. Rules not named keep
// their sets; every window of a named rule takes the effective set.
// `configurator check -effective` runs [Check] on the result; a consumer
// checking its real releases uses [Policy.WithReleases], window by window.
func (p *Policy) WithEffective(sets map[string][]string) (*Policy, error) {
	prodIdx := make(map[string]int, len(p.Producers))
	for i, pr := range p.Producers {
		prodIdx[pr.ID] = i
	}
	q := *p
	q.Rules = slices.Clone(p.Rules)
	seen := make(map[string]bool, len(sets))
	for i := range q.Rules {
		ids, ok := sets[q.Rules[i].ID]
		if !ok {
			continue
		}
		seen[q.Rules[i].ID] = true
		set := make([]int, 0, len(ids))
		for _, id := range ids {
			j, ok := prodIdx[id]
			if !ok {
				return nil, fmt.Errorf("policy: effective set of rule %q names unknown producer %q", q.Rules[i].ID, id)
			}
			set = append(set, j)
		}
		slices.Sort(set)
		q.Rules[i].Producers = slices.Compact(set)
	}
	for id := range sets {
		if !seen[id] {
			return nil, fmt.Errorf("policy: effective set given for unknown rule %q", id)
		}
	}
	return &q, nil
}
