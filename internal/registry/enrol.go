package registry

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/ppnet/ppnet/internal/policy"
	"github.com/ppnet/ppnet/internal/seal"
	"github.com/ppnet/ppnet/sharing"
)

// Producer is an enrolled meter.
type Producer struct {
	// ID is the meter id, also its producer id in rendered networks.
	ID string `json:"id"`
	// Labels are matched by rule selectors, e.g. feeder=F12.
	Labels map[string]string `json:"labels,omitempty"`
	// Max is the declared largest magnitude of one reading.
	Max uint64 `json:"max"`
	// PublicKey is the meter's X25519 public key, base64.
	PublicKey string `json:"public_key"`
	// NKey is the meter's NATS user public key ("U…"), optional; see
	// nkey.go and configurator nats-config.
	NKey string `json:"nkey,omitempty"`
	// Enrolled is when it was added.
	Enrolled time.Time `json:"enrolled"`
}

// PPN is an enrolled privacy preserving node.
type PPN struct {
	// ID names the node.
	ID string `json:"id"`
	// X is the public x-coordinate, 1 ≤ x < q, unique for ever.
	X uint64 `json:"x"`
	// Capacity is L, the sums per round the node can add.
	Capacity int64 `json:"capacity"`
	// Operator names who runs the node.
	Operator string `json:"operator"`
	// PublicKey is the node's X25519 public key, base64.
	PublicKey string `json:"public_key"`
	// NKey is the node's NATS user public key ("U…"), optional.
	NKey string `json:"nkey,omitempty"`
	// Enrolled is when it was added.
	Enrolled time.Time `json:"enrolled"`
	// Retired, when set, is when it was retired; later epochs do not use it.
	Retired *time.Time `json:"retired,omitempty"`
}

// Consumer is an enrolled information consumer.
type Consumer struct {
	// ID names the consumer.
	ID string `json:"id"`
	// Grant is what the consumer is entitled to.
	Grant policy.FileGrant `json:"grant"`
	// PublicKey is the consumer's X25519 public key, base64.
	PublicKey string `json:"public_key"`
	// NKey is the consumer's NATS user public key ("U…"), optional.
	NKey string `json:"nkey,omitempty"`
	// Enrolled is when it was added.
	Enrolled time.Time `json:"enrolled"`
}

func checkKey(kind, id, key string) error {
	if _, err := seal.ParsePublicKey(key); err != nil {
		return fmt.Errorf("%w: %s %q public key: %v", ErrInvalid, kind, id, err)
	}
	return nil
}

// bucketKeys maps every enrolled public key (its 32 raw bytes, so that two
// spellings of one key meet) to its holder, "producer h1", "ppn n2" or
// "consumer grid". One key pair per party: with a shared key, whoever
// holds the private key reads the pairwise secrets and shares of every
// party enrolled with it, and seals of one cannot be told from another's.
// Retired PPNs keep their entry. A file written before the index existed
// gets it built on the first enrolment (the first holder of a key already
// shared wins; the others are not removed).
var bucketKeys = []byte("public_keys")

// keyIndex returns the key index, building it from the enrolled parties
// if the file has none.
func keyIndex(tx *bolt.Tx) (*bolt.Bucket, error) {
	if b := tx.Bucket(bucketKeys); b != nil {
		return b, nil
	}
	b, err := tx.CreateBucket(bucketKeys)
	if err != nil {
		return nil, fmt.Errorf("registry: creating the key index: %v", err)
	}
	var hs []holder
	ps, err := list[Producer](tx, bucketProducers, "producer")
	if err != nil {
		return nil, err
	}
	for _, p := range ps {
		hs = append(hs, holder{"producer", p.ID, p.PublicKey})
	}
	ns, err := list[PPN](tx, bucketPPNs, "ppn")
	if err != nil {
		return nil, err
	}
	for _, n := range ns {
		hs = append(hs, holder{"ppn", n.ID, n.PublicKey})
	}
	cs, err := list[Consumer](tx, bucketConsumers, "consumer")
	if err != nil {
		return nil, err
	}
	for _, c := range cs {
		hs = append(hs, holder{"consumer", c.ID, c.PublicKey})
	}
	for _, h := range hs {
		k, err := seal.ParsePublicKey(h.key)
		if err != nil {
			return nil, fmt.Errorf("registry: %s %q has a corrupt public key: %v; restore the registry from a backup", h.kind, h.id, err)
		}
		if b.Get(k.Bytes()) == nil {
			if err := b.Put(k.Bytes(), []byte(h.kind+" "+h.id)); err != nil {
				return nil, err
			}
		}
	}
	return b, nil
}

// holder is a party claiming a public key.
type holder struct{ kind, id, key string }

func (h holder) String() string { return h.kind + " " + h.id }

// claimKeys records each holder's key in the index b, refusing a key
// enrolled for another party or claimed twice among hs. Take b with
// keyIndex before putting the holders (a missing index is then built from
// the parties enrolled before) and claim after, in the same transaction,
// so that an id enrolled twice is refused as such first. Keys are
// stored in sorted order, which keeps a batch of 10,000 from splitting the
// index's pages at random.
func claimKeys(b *bolt.Bucket, hs ...holder) error {
	type claim struct {
		h   holder
		raw []byte
		at  int
	}
	cs := make([]claim, len(hs))
	for i, h := range hs {
		k, err := seal.ParsePublicKey(h.key)
		if err != nil {
			return fmt.Errorf("%w: %s %q public key: %v", ErrInvalid, h.kind, h.id, err)
		}
		cs[i] = claim{h, k.Bytes(), i}
	}
	slices.SortStableFunc(cs, func(x, y claim) int { return bytes.Compare(x.raw, y.raw) })
	refuse := func(c claim, owner string) error {
		okind, oid, _ := strings.Cut(owner, " ")
		return fmt.Errorf("%w: %s %q public key %s is enrolled for %s %q already; every producer, PPN and consumer needs its own key pair: generate a new one for %s %q and enrol it with that",
			ErrExists, c.h.kind, c.h.id, c.h.key, okind, oid, c.h.kind, c.h.id)
	}
	for i, c := range cs {
		if i > 0 && bytes.Equal(cs[i-1].raw, c.raw) {
			return refuse(c, cs[i-1].h.String())
		}
		if o := b.Get(c.raw); o != nil && string(o) != c.h.String() {
			return refuse(c, string(o))
		}
	}
	for _, c := range cs {
		if err := b.Put(c.raw, []byte(c.h.String())); err != nil {
			return err
		}
	}
	return nil
}

// AddProducer enrols a meter.
func (r *Registry) AddProducer(p Producer) error { return r.AddProducers([]Producer{p}) }

// AddProducers enrols meters in one transaction: all or none. An error
// names the first bad entry.
func (r *Registry) AddProducers(ps []Producer) error {
	for i := range ps {
		if err := checkProducer(&ps[i]); err != nil {
			return err
		}
		ps[i].Enrolled = r.now().UTC()
	}
	return r.update(func(tx *bolt.Tx) error {
		idx, err := keyIndex(tx)
		if err != nil {
			return err
		}
		hs := make([]holder, 0, len(ps))
		for _, p := range ps {
			if err := put(tx, bucketProducers, "producer", p.ID, p, true); err != nil {
				return err
			}
			hs = append(hs, holder{"producer", p.ID, p.PublicKey})
		}
		return claimKeys(idx, hs...)
	})
}

func checkProducer(p *Producer) error {
	if err := checkID("producer", p.ID); err != nil {
		return err
	}
	for k, v := range p.Labels {
		if k == "" || strings.ContainsAny(k+v, "=,") || strings.TrimSpace(k) != k || strings.TrimSpace(v) != v {
			return fmt.Errorf("%w: producer %q label %q=%q; labels are key=value without '=', ',' or surrounding spaces", ErrInvalid, p.ID, k, v)
		}
	}
	if p.Max == 0 || p.Max > sharing.MaxMagnitude {
		return fmt.Errorf("%w: producer %q max reading %d; declare the largest reading, 1 ≤ max ≤ (q−1)/2 = %d", ErrInvalid, p.ID, p.Max, sharing.MaxMagnitude)
	}
	if err := checkNKey("producer", p.ID, p.NKey); err != nil {
		return err
	}
	return checkKey("producer", p.ID, p.PublicKey)
}

// AddPPN enrols a PPN; its x-coordinate must differ from every PPN ever
// enrolled, retired ones included.
func (r *Registry) AddPPN(n PPN) error {
	if err := checkID("ppn", n.ID); err != nil {
		return err
	}
	if n.X == 0 || n.X >= sharing.Q {
		return fmt.Errorf("%w: ppn %q x = %d; x-coordinates lie in [1, 2^61−1)", ErrInvalid, n.ID, n.X)
	}
	if n.Capacity < 1 {
		return fmt.Errorf("%w: ppn %q capacity %d; give the sums per round it can add (≥ 1)", ErrInvalid, n.ID, n.Capacity)
	}
	if err := checkKey("ppn", n.ID, n.PublicKey); err != nil {
		return err
	}
	if err := checkNKey("ppn", n.ID, n.NKey); err != nil {
		return err
	}
	n.Enrolled, n.Retired = r.now().UTC(), nil
	return r.update(func(tx *bolt.Tx) error {
		idx, err := keyIndex(tx)
		if err != nil {
			return err
		}
		all, err := list[PPN](tx, bucketPPNs, "ppn")
		if err != nil {
			return err
		}
		for _, o := range all {
			if o.X == n.X {
				return fmt.Errorf("%w: x = %d belongs to ppn %q (x-coordinates are never reused); pick another x", ErrExists, n.X, o.ID)
			}
		}
		if err := put(tx, bucketPPNs, "ppn", n.ID, n, true); err != nil {
			return err
		}
		return claimKeys(idx, holder{"ppn", n.ID, n.PublicKey})
	})
}

// RetirePPN marks a PPN retired. Epochs already planned keep it; the next
// epoch planned leaves it out.
func (r *Registry) RetirePPN(id string) error {
	return r.update(func(tx *bolt.Tx) error {
		var n PPN
		if err := get(tx, bucketPPNs, "ppn", id, &n); err != nil {
			return err
		}
		if n.Retired != nil {
			return fmt.Errorf("%w: ppn %q was retired at %s already", ErrInvalid, id, n.Retired.Format(time.RFC3339))
		}
		t := r.now().UTC()
		n.Retired = &t
		return put(tx, bucketPPNs, "ppn", id, n, false)
	})
}

// AddConsumer enrols a consumer with its grant.
func (r *Registry) AddConsumer(c Consumer) error {
	if err := checkID("consumer", c.ID); err != nil {
		return err
	}
	g := c.Grant
	if g.MinWindow < 1 || g.MinCohort < 1 {
		return fmt.Errorf("%w: consumer %q min window %d, min cohort %d; both must be ≥ 1", ErrInvalid, c.ID, g.MinWindow, g.MinCohort)
	}
	if len(g.Kinds) == 0 {
		return fmt.Errorf("%w: consumer %q has no kinds granted; grant %q and/or %q", ErrInvalid, c.ID, policy.Sum, policy.PerProducer)
	}
	for _, k := range g.Kinds {
		if k != policy.Sum.String() && k != policy.PerProducer.String() {
			return fmt.Errorf("%w: consumer %q kind %q; use %q or %q", ErrInvalid, c.ID, k, policy.Sum, policy.PerProducer)
		}
	}
	if err := checkKey("consumer", c.ID, c.PublicKey); err != nil {
		return err
	}
	if err := checkNKey("consumer", c.ID, c.NKey); err != nil {
		return err
	}
	c.Grant.Kinds = slices.Compact(slices.Sorted(slices.Values(g.Kinds)))
	c.Enrolled = r.now().UTC()
	return r.update(func(tx *bolt.Tx) error {
		idx, err := keyIndex(tx)
		if err != nil {
			return err
		}
		if err := put(tx, bucketConsumers, "consumer", c.ID, c, true); err != nil {
			return err
		}
		return claimKeys(idx, holder{"consumer", c.ID, c.PublicKey})
	})
}

// Producers lists the producers by id.
func (r *Registry) Producers() (ps []Producer, err error) {
	err = r.view(func(tx *bolt.Tx) error {
		ps, err = list[Producer](tx, bucketProducers, "producer")
		return err
	})
	return ps, err
}

// PPNs lists the PPNs by id, retired ones included.
func (r *Registry) PPNs() (ns []PPN, err error) {
	err = r.view(func(tx *bolt.Tx) error {
		ns, err = list[PPN](tx, bucketPPNs, "ppn")
		return err
	})
	return ns, err
}

// Consumers lists the consumers by id.
func (r *Registry) Consumers() (cs []Consumer, err error) {
	err = r.view(func(tx *bolt.Tx) error {
		cs, err = list[Consumer](tx, bucketConsumers, "consumer")
		return err
	})
	return cs, err
}
