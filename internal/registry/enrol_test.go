package registry

import (
	"errors"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"

	"github.com/ppnet/ppnet/internal/policy"
)

// TestEnrolRefusesSharedKeys: the audit found one X25519 key enrolled for
// six producers, three PPNs and a consumer. A key enrolled for one party is
// refused for any other, across kinds, within a batch, spelled with
// surrounding spaces, and in a file written before the key index existed.
func TestEnrolRefusesSharedKeys(t *testing.T) {
	r, _ := fixture(t)
	ps, err := r.Producers()
	must(t, err)
	ns, err := r.PPNs()
	must(t, err)
	h1, ppn1 := ps[0].PublicKey, ns[0].PublicKey
	fresh := keyGen(t, 6)
	grant := policy.FileGrant{Kinds: []string{"sum"}, MinWindow: 4, MinCohort: 5}
	tests := []struct {
		name string
		add  func() error
		want string
	}{
		{"producer with a producer's key", func() error {
			return r.AddProducer(Producer{ID: "h11", Max: 1, PublicKey: h1})
		}, `producer "h11" public key ` + h1 + ` is enrolled for producer "h1" already`},
		{"consumer with a PPN's key", func() error {
			return r.AddConsumer(Consumer{ID: "c2", Grant: grant, PublicKey: ppn1})
		}, `consumer "c2" public key ` + ppn1 + ` is enrolled for ppn "ppn1" already`},
		{"PPN with a producer's key, spaced", func() error {
			return r.AddPPN(PPN{ID: "ppn9", X: 9, Capacity: 1, PublicKey: " " + h1 + "\n"})
		}, `is enrolled for producer "h1" already`},
		{"two meters of one batch", func() error {
			k := fresh()
			return r.AddProducers([]Producer{{ID: "h12", Max: 1, PublicKey: k}, {ID: "h13", Max: 1, PublicKey: k}})
		}, `producer "h13" public key`},
	}
	for _, tc := range tests {
		err := tc.add()
		if !errors.Is(err, ErrExists) || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "needs its own key pair") {
			t.Errorf("%s: %v; want ErrExists containing %q", tc.name, err, tc.want)
		}
	}
	ps2, err := r.Producers()
	must(t, err)
	cs, err := r.Consumers()
	must(t, err)
	ns2, err := r.PPNs()
	must(t, err)
	if len(ps2) != len(ps) || len(ns2) != len(ns) || len(cs) != 2 {
		t.Fatalf("a refused enrolment left %d producers, %d PPNs, %d consumers; want %d, %d, 2", len(ps2), len(ns2), len(cs), len(ps), len(ns))
	}
	// A retired PPN keeps its key.
	must(t, r.RetirePPN("ppn1"))
	if err := r.AddPPN(PPN{ID: "ppn9", X: 9, Capacity: 1, PublicKey: ppn1}); !errors.Is(err, ErrExists) {
		t.Errorf("a retired PPN's key for a new PPN: %v; want ErrExists", err)
	}
	// A file from before the key index: the index is rebuilt from the
	// enrolled parties on the next enrolment.
	must(t, r.update(func(tx *bolt.Tx) error { return tx.DeleteBucket(bucketKeys) }))
	if err := r.AddConsumer(Consumer{ID: "c3", Grant: grant, PublicKey: h1}); !errors.Is(err, ErrExists) || !strings.Contains(err.Error(), `producer "h1"`) {
		t.Errorf("after losing the index: %v; want the key of producer h1 refused", err)
	}
	must(t, r.AddConsumer(Consumer{ID: "c3", Grant: grant, PublicKey: fresh()}))
}
