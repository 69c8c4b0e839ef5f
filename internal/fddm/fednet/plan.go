package fednet

import (
	"fmt"
	"io"
	"time"

	"github.com/ppnet/ppnet/internal/fddm/fedavg"
	"github.com/ppnet/ppnet/internal/netconfig"
	"github.com/ppnet/ppnet/internal/seal"
)

// Spec describes a FedAvg network: N producers, PPNs and one coordinator.
type Spec struct {
	Producers  int           // FedAvg producers, named f001, f002, …
	PPNs       int           // PPNs, all of which serve every component rule
	Threshold  int           // t
	Components int           // d+1, the length of an encoded update
	Consumer   string        // the coordinator's consumer id (default "fedavg")
	Prefix     string        // component rule prefix (default "fedavg")
	Codec      *fedavg.Codec // bounds max_reading
	Start      time.Time     // start of round 0
	Round      time.Duration // D
	Grace      time.Duration // G
	Rounds     uint64        // rounds of the epoch (0: unbounded)
}

// Generate builds a network configuration and fresh keys (from rnd) for s.
func Generate(s Spec, rnd io.Reader) (*netconfig.Config, *netconfig.Keys, error) {
	if s.Consumer == "" {
		s.Consumer = "fedavg"
	}
	if s.Prefix == "" {
		s.Prefix = "fedavg"
	}
	if s.Codec == nil || s.Components < 1 || s.Producers < 1 {
		return nil, nil, fmt.Errorf("fednet: spec needs a codec, at least one component and one producer")
	}
	if s.Producers > s.Codec.Producers() {
		return nil, nil, fmt.Errorf("%w: %d producers, the codec was built for N = %d", fedavg.ErrBound, s.Producers, s.Codec.Producers())
	}
	c := &netconfig.Config{Epoch: 1, Threshold: s.Threshold, MaxReading: s.Codec.MaxComponent(),
		Rounds: netconfig.Rounds{Start: s.Start, Duration: s.Round, Grace: s.Grace, Count: s.Rounds}}
	keys := &netconfig.Keys{}
	newKey := func() (string, error) {
		k, err := seal.GenerateKey(rnd)
		if err != nil {
			return "", err
		}
		switch {
		case len(keys.PPNs) < s.PPNs:
			keys.PPNs = append(keys.PPNs, k)
		case len(keys.Consumers) < 1:
			keys.Consumers = append(keys.Consumers, k)
		default:
			keys.Producers = append(keys.Producers, k)
		}
		return seal.EncodeKey(k.PublicKey().Bytes()), nil
	}
	var ppns []string
	for i := range s.PPNs {
		pub, err := newKey()
		if err != nil {
			return nil, nil, err
		}
		id := fmt.Sprintf("ppn%d", i+1)
		c.PPNs = append(c.PPNs, netconfig.PPN{ID: id, X: uint64(i + 1), PublicKey: pub})
		ppns = append(ppns, id)
	}
	pub, err := newKey()
	if err != nil {
		return nil, nil, err
	}
	c.Consumers = append(c.Consumers, netconfig.Consumer{ID: s.Consumer, PublicKey: pub})
	var ids []string
	for i := range s.Producers {
		pub, err := newKey()
		if err != nil {
			return nil, nil, err
		}
		id := fmt.Sprintf("f%03d", i+1)
		ids = append(ids, id)
		c.Producers = append(c.Producers, netconfig.Producer{ID: id, PublicKey: pub})
	}
	AddRules(c, ids, s.Components, s.Consumer, s.Prefix, ppns)
	return c, keys, nil
}

// AddRules gives each producer of ids the component meters
// ComponentMeter(id, j), j < components, and appends one `sum` rule per
// component (window 1, consumer, served by ppns) to c. A producer listed
// with meters of its own keeps them: the components are added beside.
func AddRules(c *netconfig.Config, ids []string, components int, consumer, prefix string, ppns []string) {
	rules := make([]netconfig.Rule, components)
	for j := range rules {
		rules[j] = netconfig.Rule{ID: RuleID(prefix, j), Consumer: consumer, Kind: netconfig.KindSum, WindowRounds: 1, PPNs: ppns}
	}
	for i := range c.Producers {
		p := &c.Producers[i]
		if !contains(ids, p.ID) {
			continue
		}
		if len(p.Meters) == 0 && !onlyComponents(c, p.ID) {
			p.Meters = []string{p.ID}
		}
		for j := range rules {
			m := ComponentMeter(p.ID, j)
			p.Meters = append(p.Meters, m)
			rules[j].Meters = append(rules[j].Meters, m)
		}
	}
	c.Rules = append(c.Rules, rules...)
}

// onlyComponents reports whether producer id is a pure FedAvg producer:
// no rule names the meter id itself.
func onlyComponents(c *netconfig.Config, id string) bool {
	for _, r := range c.Rules {
		if contains(r.Meters, id) {
			return false
		}
	}
	return true
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// ComponentMeter is the meter id carrying component j of producer id's
// update.
func ComponentMeter(id string, j int) string { return fmt.Sprintf("%s-c%d", id, j) }

// RuleID is the id of the sum rule over component j.
func RuleID(prefix string, j int) string { return fmt.Sprintf("%s-c%d", prefix, j) }
