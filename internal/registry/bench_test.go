package registry

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/ppnet/ppnet/internal/policy"
)

// BenchmarkRegistry measures the registry at 10 000 meters on 50 feeders,
// 8 PPNs and one hourly sum rule per feeder: enrolment in one batch, a rule
// request (the policy check over all 50 rules), and planning an epoch (the
// check again, pack, and storing the snapshots), with the policy check
// alone as the baseline of the last two.
func BenchmarkRegistry(b *testing.B) {
	const meters, feeders = 10000, 50
	key := keyGen(b, 9)
	ps := make([]Producer, meters)
	for i := range ps {
		ps[i] = Producer{ID: fmt.Sprintf("m%05d", i), Labels: map[string]string{"feeder": fmt.Sprintf("F%02d", i%feeders)}, Max: 5000, PublicKey: key()}
	}
	setup := func(b *testing.B) *Registry {
		r, err := Open(filepath.Join(b.TempDir(), "r.db"), nil)
		must(b, err)
		b.Cleanup(func() { r.Close() })
		must(b, r.AddProducers(append([]Producer(nil), ps...)))
		for i := 1; i <= 8; i++ {
			must(b, r.AddPPN(PPN{ID: fmt.Sprintf("ppn%d", i), X: uint64(i), Capacity: meters * 2, PublicKey: key()}))
		}
		must(b, r.AddConsumer(Consumer{ID: "grid", Grant: policy.FileGrant{Kinds: []string{"sum"}, MinWindow: 4, MinCohort: 50}, PublicKey: key()}))
		for f := 0; f < feeders-1; f++ {
			_, err := r.RequestRule(Rule{ID: fmt.Sprintf("f%02d", f), Consumer: "grid", Producers: policy.FileSelection{Selector: fmt.Sprintf("feeder=F%02d", f)}, Window: 4, Kind: "sum"}, nil)
			must(b, err)
		}
		return r
	}
	b.Run("enrol-10k", func(b *testing.B) {
		for b.Loop() {
			r, err := Open(filepath.Join(b.TempDir(), "r.db"), nil)
			must(b, err)
			must(b, r.AddProducers(append([]Producer(nil), ps...)))
			r.Close()
		}
	})
	r := setup(b)
	last := Rule{ID: "f49", Consumer: "grid", Producers: policy.FileSelection{Selector: "feeder=F49"}, Window: 4, Kind: "sum"}
	b.Run("policy-check-baseline", func(b *testing.B) {
		rules, err := r.Rules()
		must(b, err)
		for b.Loop() {
			must(b, r.view(func(txn *bolt.Tx) error {
				_, err := check(txn, append(rules, last), CheckOptions{Horizon: 96, RoundsPerDay: 96})
				return err
			}))
		}
	})
	b.Run("request-rule", func(b *testing.B) {
		i := 0
		for b.Loop() {
			rule := last
			rule.ID = fmt.Sprintf("x%d", i)
			i++
			_, err := r.RequestRule(rule, nil)
			must(b, err)
			b.StopTimer()
			must(b, r.update(func(txn *bolt.Tx) error { return txn.Bucket(bucketRules).Delete([]byte(rule.ID)) }))
			b.StartTimer()
		}
	})
	_, err := r.RequestRule(last, nil)
	must(b, err)
	b.Run("plan-epoch", func(b *testing.B) {
		clock := Clock{Start: t0, Round: 15 * time.Minute}
		for b.Loop() {
			_, err := r.PlanEpoch(context.Background(), PlanOptions{FirstRound: 96, Clock: clock, Threshold: 3, W: 4})
			must(b, err)
		}
	})
}
