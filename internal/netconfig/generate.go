package netconfig

import (
	"crypto/ecdh"
	"fmt"
	"io"
	"time"

	"github.com/ppnet/ppnet/internal/seal"
)

// Spec describes a generated network: what the devnet and tests run.
type Spec struct {
	PPNs      int           // N
	Threshold int           // t
	W         int           // PPNs per rule, t ≤ w ≤ N
	Meters    int           // meters, named m00001…
	Producers int           // producers sharing the meters evenly (1: one concentrator); 0 means one per meter
	Chunk     int           // meters per bundle (0: default)
	Start     time.Time     // start of round 0
	Round     time.Duration // D
	Grace     time.Duration // G
	Rounds    uint64        // rounds in the epoch
	PerDay    uint64        // rounds per day (rounds.per_day), needed by banded rules
	Rules     []RuleSpec
}

// RuleSpec is a generated rule over the first Fraction of the meters.
type RuleSpec struct {
	ID, Consumer, Kind string
	Window             uint64
	Fraction           float64 // share of the meters covered, in (0, 1]
	Band               *Band   // optional time-of-use band
}

// Keys are the private keys of a generated network, by index.
type Keys struct {
	PPNs, Consumers, Producers []*ecdh.PrivateKey
}

// Generate builds a configuration and fresh keys (from rnd) for a spec.
// Rule i is assigned PPNs i, i+1, …, i+w−1 (mod N).
func Generate(s Spec, rnd io.Reader) (*Config, *Keys, error) {
	if s.PPNs < 1 || s.W < s.Threshold || s.W > s.PPNs || s.Meters < 1 {
		return nil, nil, fmt.Errorf("netconfig: spec with %d PPNs, t = %d, w = %d, %d meters; need t ≤ w ≤ N and at least one meter", s.PPNs, s.Threshold, s.W, s.Meters)
	}
	c := &Config{Epoch: 1, Threshold: s.Threshold,
		Rounds: Rounds{Start: s.Start, Duration: s.Round, Grace: s.Grace, Count: s.Rounds, PerDay: s.PerDay}}
	keys := &Keys{}
	newKey := func() (string, *ecdh.PrivateKey, error) {
		k, err := seal.GenerateKey(rnd)
		if err != nil {
			return "", nil, err
		}
		return seal.EncodeKey(k.PublicKey().Bytes()), k, nil
	}
	for i := 0; i < s.PPNs; i++ {
		pub, k, err := newKey()
		if err != nil {
			return nil, nil, err
		}
		c.PPNs = append(c.PPNs, PPN{ID: fmt.Sprintf("ppn%d", i+1), X: uint64(i + 1), PublicKey: pub})
		keys.PPNs = append(keys.PPNs, k)
	}
	seen := map[string]bool{}
	for _, r := range s.Rules {
		if seen[r.Consumer] {
			continue
		}
		seen[r.Consumer] = true
		pub, k, err := newKey()
		if err != nil {
			return nil, nil, err
		}
		c.Consumers = append(c.Consumers, Consumer{ID: r.Consumer, PublicKey: pub})
		keys.Consumers = append(keys.Consumers, k)
	}
	meters := make([]string, s.Meters)
	for i := range meters {
		meters[i] = fmt.Sprintf("m%05d", i+1)
	}
	np := s.Producers
	if np <= 0 || np > s.Meters {
		np = s.Meters
	}
	for i := 0; i < np; i++ {
		pub, k, err := newKey()
		if err != nil {
			return nil, nil, err
		}
		lo, hi := i*s.Meters/np, (i+1)*s.Meters/np
		p := Producer{ID: fmt.Sprintf("c%d", i+1), PublicKey: pub, Chunk: s.Chunk, Meters: meters[lo:hi]}
		if np == s.Meters {
			p.ID, p.Meters = meters[i], nil
		}
		c.Producers = append(c.Producers, p)
		keys.Producers = append(keys.Producers, k)
	}
	for i, r := range s.Rules {
		n := int(r.Fraction * float64(s.Meters))
		n = max(1, min(n, s.Meters))
		rule := Rule{ID: r.ID, Consumer: r.Consumer, Kind: r.Kind, WindowRounds: r.Window, Meters: meters[:n], Band: r.Band}
		for j := 0; j < s.W; j++ {
			rule.PPNs = append(rule.PPNs, c.PPNs[(i+j)%s.PPNs].ID)
		}
		c.Rules = append(c.Rules, rule)
	}
	return c, keys, nil
}
