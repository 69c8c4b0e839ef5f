package registry

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/ppnet/ppnet/internal/policy"
)

// Rule is a rule a consumer asked for.
type Rule struct {
	// ID names the rule; ids are never reused.
	ID string `json:"id"`
	// Consumer is the consumer the rule releases to.
	Consumer string `json:"consumer"`
	// Producers selects Π: ids and/or a label selector, minus exclusions.
	// It is resolved against the producers' labels at every check and
	// every epoch plan.
	Producers policy.FileSelection `json:"producers"`
	// Window is k, in rounds.
	Window int `json:"window"`
	// Kind is "sum" or "per-producer".
	Kind string `json:"kind"`
	// Band optionally restricts the rule to rounds of the day [from, to).
	Band [][2]int `json:"band,omitempty"`
	// Requested is when the rule was admitted.
	Requested time.Time `json:"requested"`
	// Revoked, when set, is when it was revoked; later epochs drop it.
	Revoked *time.Time `json:"revoked,omitempty"`
}

// CheckOptions are the parameters of the policy check.
type CheckOptions struct {
	// Horizon is the number of rounds checked from round 0 (default 96;
	// raised to the rules' period, which decides every horizon).
	Horizon int
	// RoundsPerDay defines bands (default 96: 15-minute rounds).
	RoundsPerDay int
	// Policy tunes the leak search; nil means its defaults.
	Policy *policy.Options
}

func (o *CheckOptions) withDefaults() CheckOptions {
	c := CheckOptions{Horizon: 96, RoundsPerDay: 96}
	if o != nil {
		c.Policy = o.Policy
		if o.Horizon > 0 {
			c.Horizon = o.Horizon
		}
		if o.RoundsPerDay > 0 {
			c.RoundsPerDay = o.RoundsPerDay
		}
	}
	return c
}

// RefusedError carries the report of a refused check.
type RefusedError struct{ Report *policy.Report }

func (e *RefusedError) Error() string {
	return fmt.Sprintf("registry: refused by the policy check (%d rule refusals, %d leaks); see the report", len(e.Report.Refusals), len(e.Report.Leaks))
}

// Unwrap makes errors.Is(err, ErrRefused) hold.
func (e *RefusedError) Unwrap() error { return ErrRefused }

// checked is a rule set resolved and accepted by the policy check.
type checked struct {
	producers []Producer
	consumers []Consumer
	rules     []Rule
	policy    *policy.Policy
	report    *policy.Report
}

// check resolves rules against the registry's producers and consumers and
// runs the policy check over the whole set.
func check(tx *bolt.Tx, rules []Rule, o CheckOptions) (*checked, error) {
	ps, err := list[Producer](tx, bucketProducers, "producer")
	if err != nil {
		return nil, err
	}
	cs, err := list[Consumer](tx, bucketConsumers, "consumer")
	if err != nil {
		return nil, err
	}
	hist, err := released(tx, rules)
	if err != nil {
		return nil, err
	}
	f := &policy.File{RoundsPerDay: o.RoundsPerDay}
	for _, r := range append(append([]Rule(nil), rules...), hist...) {
		f.Rules = append(f.Rules, policy.FileRule{ID: r.ID, Consumer: r.Consumer, Producers: r.Producers, Window: r.Window, Kind: r.Kind, Band: r.Band})
	}
	if f.Horizon, err = checkHorizon(o.Horizon, f); err != nil {
		return nil, err
	}
	for _, p := range ps {
		f.Producers = append(f.Producers, policy.FileProducer{ID: p.ID, Labels: p.Labels, Max: p.Max})
	}
	for _, c := range cs {
		f.Consumers = append(f.Consumers, policy.FileConsumer{ID: c.ID, Grant: c.Grant})
	}
	pol, err := policy.Resolve(f)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	rep, err := policy.Check(pol, o.Policy)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	// Planning assigns only the rules that run: the past releases were
	// appended after them for the check alone.
	run := *pol
	run.Rules = pol.Rules[:len(rules)]
	ck := &checked{producers: ps, consumers: cs, rules: rules, policy: &run, report: rep}
	if !rep.Accepted {
		return ck, &RefusedError{Report: rep}
	}
	return ck, nil
}

// released returns what published epochs released under rules that are
// not in rules (revoked since), one rule per distinct (rule, resolved
// producer set), with explicit producers and the id "<rule>@epoch<N>" (an
// id no rule can take). A consumer keeps what it was given, so a rule set
// is checked together with these: revoking "feeder F12" and then asking
// for "F12 minus house 7" must still be refused. Treating a past release
// as if it ran on is conservative: it can refuse a set that only leaks
// across rounds that never both ran, never accept one that leaks.
func released(tx *bolt.Tx, rules []Rule) ([]Rule, error) {
	es, err := list[Epoch](tx, bucketEpochs, "epoch")
	if err != nil {
		return nil, err
	}
	active := map[string]bool{}
	for _, r := range rules {
		active[r.ID] = true
	}
	seen := map[string]bool{}
	var out []Rule
	for _, e := range es {
		if e.Published == nil {
			continue
		}
		for _, er := range e.Rules {
			if active[er.ID] {
				continue
			}
			ids := append([]string(nil), er.Producers...)
			sort.Strings(ids)
			key := er.ID + "\x00" + strings.Join(ids, ",")
			if seen[key] {
				continue
			}
			seen[key] = true
			out = append(out, Rule{ID: fmt.Sprintf("%s@epoch%d", er.ID, e.Number), Consumer: er.Consumer,
				Producers: policy.FileSelection{IDs: ids}, Window: er.Window, Kind: er.Kind, Band: er.Band})
		}
	}
	return out, nil
}

// checkHorizon returns the horizon the leak check covers: at least h and
// at least the rule set's period, the least common multiple of the
// windows (and of the day when a rule has a band). Rules run without end,
// and a check over one period decides every horizon, while a shorter one
// misses boundaries that meet later (windows 7 and 96 first meet one
// round apart at rounds 287 and 288); see "Horizon" in package policy.
func checkHorizon(h int, f *policy.File) (int, error) {
	period, err := f.Period()
	if err != nil {
		return 0, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	h = max(h, period)
	if h > policy.MaxHorizon {
		return 0, fmt.Errorf("%w: a leak-check horizon of %d rounds is beyond the check's %d; ask for a horizon of at most %d (the rules' period, %d rounds, is always covered)", ErrInvalid, h, policy.MaxHorizon, policy.MaxHorizon, period)
	}
	return h, nil
}

// activeRules returns the rules not revoked, by id.
func activeRules(tx *bolt.Tx) ([]Rule, error) {
	all, err := list[Rule](tx, bucketRules, "rule")
	if err != nil {
		return nil, err
	}
	var out []Rule
	for _, r := range all {
		if r.Revoked == nil {
			out = append(out, r)
		}
	}
	return out, nil
}

// RequestRule admits rule if the resulting rule set (the active rules plus
// this one) passes the policy check, and returns the check's report. On
// refusal the registry is unchanged and the error is a *RefusedError with
// the same report.
func (r *Registry) RequestRule(rule Rule, opts *CheckOptions) (*policy.Report, error) {
	if err := checkID("rule", rule.ID); err != nil {
		return nil, err
	}
	o := opts.withDefaults()
	var rep *policy.Report
	err := r.update(func(tx *bolt.Tx) error {
		if tx.Bucket(bucketRules).Get([]byte(rule.ID)) != nil {
			return fmt.Errorf("%w: rule %q exists (ids stay taken after a revoke); pick another id", ErrExists, rule.ID)
		}
		if tx.Bucket(bucketConsumers).Get([]byte(rule.Consumer)) == nil {
			return fmt.Errorf("%w: rule %q names consumer %q, which is not enrolled; enrol it with consumers add", ErrNotFound, rule.ID, rule.Consumer)
		}
		rules, err := activeRules(tx)
		if err != nil {
			return err
		}
		ck, err := check(tx, append(rules, rule), o)
		if ck != nil {
			rep = ck.report
		}
		if err != nil {
			return err
		}
		rule.Requested, rule.Revoked = r.now().UTC(), nil
		return put(tx, bucketRules, "rule", rule.ID, rule, true)
	})
	var refused *RefusedError
	if errors.As(err, &refused) {
		return refused.Report, err
	}
	return rep, err
}

// RevokeRule marks a rule revoked; the next epoch planned drops it.
// Dropping a rule releases less, so it needs no policy check.
func (r *Registry) RevokeRule(id string) error {
	return r.update(func(tx *bolt.Tx) error {
		var rule Rule
		if err := get(tx, bucketRules, "rule", id, &rule); err != nil {
			return err
		}
		if rule.Revoked != nil {
			return fmt.Errorf("%w: rule %q was revoked at %s already", ErrInvalid, id, rule.Revoked.Format(time.RFC3339))
		}
		t := r.now().UTC()
		rule.Revoked = &t
		return put(tx, bucketRules, "rule", id, rule, false)
	})
}

// Rules lists every rule by id, revoked ones included.
func (r *Registry) Rules() (rs []Rule, err error) {
	err = r.view(func(tx *bolt.Tx) error {
		rs, err = list[Rule](tx, bucketRules, "rule")
		return err
	})
	return rs, err
}
