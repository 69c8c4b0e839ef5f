package registry

import (
	"fmt"
	"strings"

	"github.com/nats-io/nkeys"
	bolt "go.etcd.io/bbolt"
)

// NATS users: every producer, PPN and consumer may enrol an NKey user
// public key ("U…", 56 characters) beside its X25519 key. The party keeps
// the seed; the registry, like the NATS server, holds public keys only.
// `configurator nats-config` renders the server's authorization block
// from these keys and an epoch's assignment (docs/deploy.md). Keys can be
// set or rotated after enrolment (SetNKey); a rendered configuration
// always takes the current key, not the one of the epoch's snapshot.

// checkNKey accepts an empty key (none enrolled) or a public user key.
func checkNKey(kind, id, key string) error {
	if key == "" || nkeys.IsValidPublicUserKey(key) {
		return nil
	}
	hint := "copy the public key (nk -inkey SEED -pubout, or natsauth key files' .pub), never the seed"
	if strings.HasPrefix(key, "S") {
		hint = "this looks like a seed: enrol the public key (\"U…\") and keep the seed secret"
	}
	return fmt.Errorf("%w: %s %q nkey %q is not a NATS user public key (\"U…\", 56 characters); %s", ErrInvalid, kind, id, key, hint)
}

// NKeys lists every enrolled NKey by holder ("producer h1" → key):
// producers, PPNs (retired ones included) and consumers.
func (r *Registry) NKeys() (map[string]string, error) {
	out := map[string]string{}
	ps, err := r.Producers()
	if err != nil {
		return nil, err
	}
	for _, p := range ps {
		if p.NKey != "" {
			out["producer "+p.ID] = p.NKey
		}
	}
	ns, err := r.PPNs()
	if err != nil {
		return nil, err
	}
	for _, n := range ns {
		if n.NKey != "" {
			out["ppn "+n.ID] = n.NKey
		}
	}
	cs, err := r.Consumers()
	if err != nil {
		return nil, err
	}
	for _, c := range cs {
		if c.NKey != "" {
			out["consumer "+c.ID] = c.NKey
		}
	}
	return out, nil
}

// SetNKey enrols or replaces the NKey of an enrolled producer, PPN or
// consumer (kind "producer", "ppn", "consumer"). A key held by another
// party is refused: the server could not tell the two apart.
func (r *Registry) SetNKey(kind, id, key string) error {
	if key == "" {
		return fmt.Errorf("%w: %s %q: empty nkey; give the public user key (\"U…\")", ErrInvalid, kind, id)
	}
	if err := checkNKey(kind, id, key); err != nil {
		return err
	}
	all, err := r.NKeys()
	if err != nil {
		return err
	}
	for h, k := range all {
		if k == key && h != kind+" "+id {
			return fmt.Errorf("%w: %s %q nkey %s is enrolled for %s already; every party needs its own NKey: generate one for %s %q", ErrExists, kind, id, key, h, kind, id)
		}
	}
	return r.update(func(tx *bolt.Tx) error {
		switch kind {
		case "producer":
			return setNKey[Producer](tx, bucketProducers, kind, id, func(p *Producer) { p.NKey = key })
		case "ppn":
			return setNKey[PPN](tx, bucketPPNs, kind, id, func(p *PPN) { p.NKey = key })
		case "consumer":
			return setNKey[Consumer](tx, bucketConsumers, kind, id, func(c *Consumer) { c.NKey = key })
		}
		return fmt.Errorf("%w: party kind %q; use producer, ppn or consumer", ErrInvalid, kind)
	})
}

func setNKey[T any](tx *bolt.Tx, bucket []byte, kind, id string, set func(*T)) error {
	var v T
	if err := get(tx, bucket, kind, id, &v); err != nil {
		return err
	}
	set(&v)
	return put(tx, bucket, kind, id, v, false)
}
