package registry

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/ppnet/ppnet/internal/policy"
)

// TestHorizonIsThePeriod is the audit's case: a consumer with minimum
// window 2 and cohort 5, ten meters on feeder F1, rules with windows 7 and
// 96. Their boundaries first meet one round apart at rounds 287 and 288,
// past twice the longest window (192), so the check must cover the
// period lcm(7, 96) = 672 and refuse the second rule.
func TestHorizonIsThePeriod(t *testing.T) {
	r, _ := fixture(t)
	key := keyGen(t, 5)
	must(t, r.AddConsumer(Consumer{ID: "ops", Grant: policy.FileGrant{Kinds: []string{"sum"}, MinWindow: 2, MinCohort: 5}, PublicKey: key()}))
	for i := 1; i <= 10; i++ {
		must(t, r.AddProducer(Producer{ID: fmt.Sprintf("f1-%d", i), Labels: map[string]string{"feeder": "F1"}, Max: 5000, PublicKey: key()}))
	}
	rule := func(id string, k int) Rule {
		return Rule{ID: id, Consumer: "ops", Producers: policy.FileSelection{Selector: "feeder=F1"}, Window: k, Kind: "sum"}
	}
	rep, err := r.RequestRule(rule("seven", 7), nil)
	must(t, err)
	if rep.Stats.Horizon != 96 || rep.Stats.Period != 7 {
		t.Fatalf("one rule of window 7: horizon %d, period %d; want 96 (the default) and 7", rep.Stats.Horizon, rep.Stats.Period)
	}
	rep, err = r.RequestRule(rule("day", 96), nil)
	if !errors.Is(err, ErrRefused) || rep == nil || len(rep.Leaks) == 0 {
		t.Fatalf("windows 7 and 96 over F1: %v, report %+v; want refused with a leak", err, rep)
	}
	if rep.Stats.Horizon != 672 {
		t.Errorf("checked horizon %d; want the period 672", rep.Stats.Horizon)
	}
	l := rep.Leaks[0]
	var rules []string
	for _, c := range l.Combination {
		if !slices.Contains(rules, c.Rule) {
			rules = append(rules, c.Rule)
		}
	}
	slices.Sort(rules)
	if l.Extent != 1 || l.ProducerCount != 10 || !l.Verified || !slices.Equal(rules, []string{"day", "seven"}) {
		t.Fatalf("leak %+v; want F1 over one round, combining day and seven", l)
	}
	// The plan re-runs the same check over the active rules: with only
	// "seven" admitted it plans; the refused rule left nothing behind.
	rs, err := r.Rules()
	must(t, err)
	for _, x := range rs {
		if x.ID == "day" {
			t.Fatal("refused rule day was stored")
		}
	}
	if _, err := r.PlanEpoch(context.Background(), PlanOptions{AutoFirst: true, Clock: Clock{Start: t0, Round: 15 * time.Minute}}); err != nil {
		t.Fatalf("plan with rule seven alone: %v", err)
	}
}

// TestPlanChecksThePeriod: rules admitted one by one can be re-checked
// together by the plan; the plan's check covers the period as well.
func TestPlanChecksThePeriod(t *testing.T) {
	r, _ := fixture(t)
	err := r.update(func(tx *bolt.Tx) error {
		_, err := check(tx, []Rule{
			{ID: "seven", Consumer: "grid", Producers: policy.FileSelection{Selector: "feeder=F12"}, Window: 7, Kind: "sum"},
			{ID: "day", Consumer: "grid", Producers: policy.FileSelection{Selector: "feeder=F12"}, Window: 96, Kind: "sum"},
		}, (&CheckOptions{Horizon: 192}).withDefaults())
		return err
	})
	var refused *RefusedError
	if !errors.As(err, &refused) || refused.Report.Stats.Horizon != 672 {
		t.Fatalf("check of windows 7 and 96 asked for horizon 192: %v; want refused over the period 672", err)
	}
}

// A consumer keeps what a published epoch released to it, so revoking a
// rule does not let a later rule difference against it.
func TestRevokedReleasesStayChecked(t *testing.T) {
	r, _ := fixture(t)
	_, err := r.RequestRule(feederRule("f12", "F12"), nil)
	must(t, err)
	_, err = r.PlanEpoch(context.Background(), PlanOptions{FirstRound: 96, CurrentRound: 0, Clock: Clock{Start: t0, Round: 15 * time.Minute}})
	must(t, err)
	must(t, r.markPublished(1))
	must(t, r.RevokeRule("f12"))
	plusH6 := feederRule("f12-h6", "F12")
	plusH6.Producers.IDs = []string{"h6"}
	rep, err := r.RequestRule(plusH6, nil)
	if !errors.Is(err, ErrRefused) || rep == nil || len(rep.Leaks) == 0 {
		t.Fatalf("F12 plus h6 after epoch 1 released F12: report %+v, error %v; want a leak", rep, err)
	}
	l := rep.Leaks[0]
	if !slices.Equal(l.Producers, []string{"h6"}) || !strings.Contains(fmt.Sprint(l), "f12@epoch1") {
		t.Fatalf("leak %+v; want h6 derived from f12-h6 and f12@epoch1", l)
	}
	// A release under another consumer does not pool with grid's.
	other := Rule{ID: "bill-f12", Consumer: "billing", Producers: policy.FileSelection{Selector: "feeder=F12"}, Window: 96, Kind: "per-producer"}
	if _, err := r.RequestRule(other, nil); err != nil {
		t.Fatalf("billing's rule beside grid's released f12: %v; want accepted", err)
	}
}
