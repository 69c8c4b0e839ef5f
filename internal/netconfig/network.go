package netconfig

import (
	"crypto/ecdh"
	"fmt"
	"slices"
	"time"

	"github.com/ppnet/ppnet/internal/seal"
	"github.com/ppnet/ppnet/internal/wire"
	"github.com/ppnet/ppnet/sharing"
)

// MaxPPNs is the most PPNs one configuration may hold (a meter's PPN set is
// a 64-bit mask).
const MaxPPNs = 64

// Network is a checked configuration with the indexes every role needs.
// It is immutable after Resolve.
type Network struct {
	Config *Config

	X            []sharing.Element // x-coordinate per PPN
	PPNKeys      []*ecdh.PublicKey
	ConsumerKeys []*ecdh.PublicKey
	ProducerKeys []*ecdh.PublicKey

	Meters         []string   // meter ids by meter index
	MeterProducer  []uint32   // producer index per meter
	ProducerMeters [][]uint32 // meter indexes per producer, increasing
	MeterPPNs      []uint64   // bit n set: the meter serves PPN n

	Rules []ResolvedRule

	ppnIdx, consumerIdx, producerIdx, meterIdx, ruleIdx map[string]int
}

// ResolvedRule is a rule with indexes.
type ResolvedRule struct {
	Index      int               // position in Config.Rules: the rule index on the wire
	ID         string            // rule id
	Consumer   int               // consumer index
	Kind       string            // KindSum or KindPerProducer
	K          uint64            // window in rounds
	Meters     []uint32          // meter indexes, increasing; position in this list is p
	PPNs       []int             // PPN indexes, increasing
	Pos        map[uint32]int    // meter index → position p
	Slots      uint32            // len(Meters)·Rows
	Values     int               // shares per aggregate: 1 for sum, len(Meters) for per-producer
	Xs         []sharing.Element // x-coordinates of PPNs, in order
	ConsumerID string            // consumer id
	Band       *Band             // time-of-use band, nil for all rounds
	PerDay     uint64            // rounds per day when Band is set
	Rows       uint64            // in-band rounds per window: K without a band

	dayRow    []int32  // per round-of-day: its row among the day's in-band rounds, or −1
	dayRounds []uint32 // the in-band rounds-of-day, increasing
}

// Resolve checks c and builds its Network. Errors name the offending entry
// and what to change.
func (c *Config) Resolve() (*Network, error) {
	c.defaults()
	n := &Network{Config: c, ppnIdx: map[string]int{}, consumerIdx: map[string]int{}, producerIdx: map[string]int{}, meterIdx: map[string]int{}, ruleIdx: map[string]int{}}
	if err := c.checkScalars(); err != nil {
		return nil, err
	}
	if err := n.resolveParties(); err != nil {
		return nil, err
	}
	if err := n.resolveRules(); err != nil {
		return nil, err
	}
	return n, nil
}

func (c *Config) checkScalars() error {
	switch {
	case c.Epoch == 0:
		return fmt.Errorf("netconfig: epoch is 0; epochs start at 1")
	case c.Threshold < 1:
		return fmt.Errorf("netconfig: threshold %d; set threshold ≥ 1", c.Threshold)
	case c.Rounds.Duration <= 0:
		return fmt.Errorf("netconfig: rounds.duration %v; set a positive duration such as 15m", c.Rounds.Duration)
	case c.Rounds.Grace < 0:
		return fmt.Errorf("netconfig: rounds.grace %v is negative", c.Rounds.Grace)
	case c.Rounds.Start.IsZero():
		return fmt.Errorf("netconfig: rounds.start is missing; give the start of round 0 as an RFC 3339 time")
	case c.Rounds.Count > wire.MaxRound:
		return fmt.Errorf("netconfig: rounds.count %d exceeds 2^48−1", c.Rounds.Count)
	case c.Streams.Replicas < 1 || c.Streams.Replicas > 5:
		return fmt.Errorf("netconfig: streams.replicas %d; use 1, or 3 on a cluster", c.Streams.Replicas)
	case c.Streams.MaxAge > 0 && c.Rounds.Duration > 0 && c.Streams.MaxAge < 2*(c.Rounds.Duration+c.Rounds.Grace):
		return fmt.Errorf("netconfig: streams.max_age %v is shorter than two rounds with their grace (%v); bundles would age out before their round is sealed: raise it (default %v)",
			c.Streams.MaxAge, 2*(c.Rounds.Duration+c.Rounds.Grace), DefaultStreamMaxAge)
	case c.Streams.MaxBytes < 0:
		return fmt.Errorf("netconfig: streams.max_bytes %d is negative; give a size in bytes, or 0 for no cap", c.Streams.MaxBytes)
	case len(c.PPNs) == 0 || len(c.PPNs) > MaxPPNs:
		return fmt.Errorf("netconfig: %d PPNs; configure between 1 and %d", len(c.PPNs), MaxPPNs)
	case len(c.Rules) > 65535 || len(c.Consumers) > 65535:
		return fmt.Errorf("netconfig: %d rules and %d consumers; at most 65535 of each", len(c.Rules), len(c.Consumers))
	case c.MaxReading > sharing.MaxMagnitude:
		return fmt.Errorf("netconfig: max_reading %d exceeds (q−1)/2; use a smaller unit", c.MaxReading)
	}
	return nil
}

func addID(m map[string]int, kind, id string, i int) error {
	if !idPattern.MatchString(id) {
		return fmt.Errorf("netconfig: %s id %q; ids are 1–64 characters of A–Z a–z 0–9 _ -", kind, id)
	}
	if _, dup := m[id]; dup {
		return fmt.Errorf("netconfig: %s id %q appears twice; ids must be unique", kind, id)
	}
	m[id] = i
	return nil
}

func parseKey(kind, id, s string) (*ecdh.PublicKey, error) {
	k, err := seal.ParsePublicKey(s)
	if err != nil {
		return nil, fmt.Errorf("netconfig: %s %q public_key: %v", kind, id, err)
	}
	return k, nil
}

func (n *Network) resolveParties() error {
	c := n.Config
	for i, p := range c.PPNs {
		if err := addID(n.ppnIdx, "ppn", p.ID, i); err != nil {
			return err
		}
		if p.X == 0 || p.X >= sharing.Q {
			return fmt.Errorf("netconfig: ppn %q x = %d; x-coordinates must lie in [1, 2^61−1)", p.ID, p.X)
		}
		x := sharing.NewElement(p.X)
		if slices.Contains(n.X, x) {
			return fmt.Errorf("netconfig: ppn %q x = %d is used by another PPN; x-coordinates must be distinct", p.ID, p.X)
		}
		k, err := parseKey("ppn", p.ID, p.PublicKey)
		if err != nil {
			return err
		}
		n.X = append(n.X, x)
		n.PPNKeys = append(n.PPNKeys, k)
	}
	for i, cs := range c.Consumers {
		if err := addID(n.consumerIdx, "consumer", cs.ID, i); err != nil {
			return err
		}
		k, err := parseKey("consumer", cs.ID, cs.PublicKey)
		if err != nil {
			return err
		}
		if cs.Grant != nil {
			if err := cs.Grant.check(cs.ID); err != nil {
				return err
			}
		}
		n.ConsumerKeys = append(n.ConsumerKeys, k)
	}
	for i, p := range c.Producers {
		if err := addID(n.producerIdx, "producer", p.ID, i); err != nil {
			return err
		}
		k, err := parseKey("producer", p.ID, p.PublicKey)
		if err != nil {
			return err
		}
		n.ProducerKeys = append(n.ProducerKeys, k)
		meters := p.Meters
		if len(meters) == 0 {
			meters = []string{p.ID}
		}
		if p.Chunk < 1 {
			return fmt.Errorf("netconfig: producer %q chunk %d; use a positive number of meters per bundle", p.ID, p.Chunk)
		}
		var own []uint32
		for _, m := range meters {
			if len(n.Meters) == 1<<32-1 {
				return fmt.Errorf("netconfig: more than 2^32−1 meters")
			}
			if err := addID(n.meterIdx, "meter", m, len(n.Meters)); err != nil {
				return fmt.Errorf("%w (producer %q)", err, p.ID)
			}
			own = append(own, uint32(len(n.Meters)))
			n.Meters = append(n.Meters, m)
			n.MeterProducer = append(n.MeterProducer, uint32(i))
		}
		n.ProducerMeters = append(n.ProducerMeters, own)
	}
	n.MeterPPNs = make([]uint64, len(n.Meters))
	return nil
}

func (n *Network) resolveRules() error {
	c := n.Config
	for i, r := range c.Rules {
		if err := addID(n.ruleIdx, "rule", r.ID, i); err != nil {
			return err
		}
		rr := ResolvedRule{Index: i, ID: r.ID, Kind: r.Kind, K: r.WindowRounds, ConsumerID: r.Consumer, Pos: map[uint32]int{}}
		ci, ok := n.consumerIdx[r.Consumer]
		if !ok {
			return fmt.Errorf("netconfig: rule %q names consumer %q, which is not configured", r.ID, r.Consumer)
		}
		rr.Consumer = ci
		if r.Kind != KindSum && r.Kind != KindPerProducer {
			return fmt.Errorf("netconfig: rule %q kind %q; use %q or %q", r.ID, r.Kind, KindSum, KindPerProducer)
		}
		if r.WindowRounds < 1 {
			return fmt.Errorf("netconfig: rule %q window_rounds %d; use ≥ 1", r.ID, r.WindowRounds)
		}
		if c.Rounds.Count > 0 && c.Rounds.Count%r.WindowRounds != 0 {
			return fmt.Errorf("netconfig: rule %q window of %d rounds does not divide rounds.count %d; windows must not straddle the epoch end", r.ID, r.WindowRounds, c.Rounds.Count)
		}
		for _, id := range r.Meters {
			m, ok := n.meterIdx[id]
			if !ok {
				return fmt.Errorf("netconfig: rule %q names meter %q, which no producer has", r.ID, id)
			}
			rr.Meters = append(rr.Meters, uint32(m))
		}
		slices.Sort(rr.Meters)
		if len(rr.Meters) == 0 || len(slices.Compact(slices.Clone(rr.Meters))) != len(rr.Meters) {
			return fmt.Errorf("netconfig: rule %q has an empty or repeated meter list", r.ID)
		}
		for p, m := range rr.Meters {
			rr.Pos[m] = p
		}
		if err := c.resolveBand(&rr, r.Band); err != nil {
			return err
		}
		slots := uint64(len(rr.Meters)) * rr.Rows
		if slots >= 1<<32 {
			return fmt.Errorf("netconfig: rule %q covers %d (meter, round) pairs per window; keep it below 2^32", r.ID, slots)
		}
		rr.Slots = uint32(slots)
		if !sharing.SumFits(uint64(rr.Slots), c.MaxReading) {
			return fmt.Errorf("netconfig: rule %q could sum %d readings of up to %d, beyond (q−1)/2; shorten the window or lower max_reading", r.ID, rr.Slots, c.MaxReading)
		}
		rr.Values = 1
		if r.Kind == KindPerProducer {
			rr.Values = len(rr.Meters)
		}
		for _, id := range r.PPNs {
			p, ok := n.ppnIdx[id]
			if !ok {
				return fmt.Errorf("netconfig: rule %q names PPN %q, which is not configured", r.ID, id)
			}
			rr.PPNs = append(rr.PPNs, p)
		}
		slices.Sort(rr.PPNs)
		if len(slices.Compact(slices.Clone(rr.PPNs))) != len(rr.PPNs) || len(rr.PPNs) < c.Threshold {
			return fmt.Errorf("netconfig: rule %q has %d distinct PPNs; it needs w ≥ threshold %d distinct ones", r.ID, len(rr.PPNs), c.Threshold)
		}
		for _, p := range rr.PPNs {
			rr.Xs = append(rr.Xs, n.X[p])
			for _, m := range rr.Meters {
				n.MeterPPNs[m] |= 1 << p
			}
		}
		n.Rules = append(n.Rules, rr)
	}
	return nil
}

// PPNIndex returns the index of a PPN id.
func (n *Network) PPNIndex(id string) (int, error) { return lookup(n.ppnIdx, "ppn", id) }

// ConsumerIndex returns the index of a consumer id.
func (n *Network) ConsumerIndex(id string) (int, error) { return lookup(n.consumerIdx, "consumer", id) }

// ProducerIndex returns the index of a producer id.
func (n *Network) ProducerIndex(id string) (int, error) { return lookup(n.producerIdx, "producer", id) }

func lookup(m map[string]int, kind, id string) (int, error) {
	i, ok := m[id]
	if !ok {
		return 0, fmt.Errorf("netconfig: no %s %q in the network configuration; check --id", kind, id)
	}
	return i, nil
}

// RoundStart returns the start time of round r.
func (n *Network) RoundStart(r uint64) time.Time {
	return n.Config.Rounds.Start.Add(time.Duration(r) * n.Config.Rounds.Duration)
}

// Deadline returns the deadline of round r: its end plus the grace.
func (n *Network) Deadline(r uint64) time.Time {
	return n.RoundStart(r + 1).Add(n.Config.Rounds.Grace)
}

// RoundAt returns the round in progress at t, or −1 before round 0.
func (n *Network) RoundAt(t time.Time) int64 {
	d := t.Sub(n.Config.Rounds.Start)
	if d < 0 {
		return -1
	}
	return int64(d / n.Config.Rounds.Duration)
}

// InEpoch reports whether round r belongs to this epoch's rounds.
func (n *Network) InEpoch(r uint64) bool {
	return r <= wire.MaxRound && (n.Config.Rounds.Count == 0 || r < n.Config.Rounds.Count)
}

// BundleSubject is the subject a producer publishes its bundles on.
func (n *Network) BundleSubject(producer int) string {
	return n.Config.Streams.Prefix + ".bundle." + n.Config.Producers[producer].ID
}

// SealSubject is the subject of round seals (same stream as bundles).
func (n *Network) SealSubject() string { return n.Config.Streams.Prefix + ".seal" }

// AggregateSubject is the subject of aggregated shares for a consumer.
func (n *Network) AggregateSubject(consumer int) string {
	return n.Config.Streams.Prefix + ".agg." + n.Config.Consumers[consumer].ID
}

// BundleSubjects are the subjects of the bundle stream.
func (n *Network) BundleSubjects() []string {
	p := n.Config.Streams.Prefix
	return []string{p + ".bundle.>", p + ".seal"}
}

// AggregateSubjects are the subjects of the aggregate stream.
func (n *Network) AggregateSubjects() []string { return []string{n.Config.Streams.Prefix + ".agg.>"} }

// PPNsOf returns the PPN indexes a meter serves, increasing.
func (n *Network) PPNsOf(meter uint32) []int {
	var ps []int
	for p := 0; p < len(n.X); p++ {
		if n.MeterPPNs[meter]&(1<<p) != 0 {
			ps = append(ps, p)
		}
	}
	return ps
}

// MeterIndex returns the index of a meter id.
func (n *Network) MeterIndex(id string) (int, error) { return lookup(n.meterIdx, "meter", id) }
