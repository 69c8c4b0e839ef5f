package registry

import (
	"fmt"
	"time"

	"github.com/ppnet/ppnet/internal/netconfig"
)

// RenderOptions tune Render; nil means netconfig's defaults.
type RenderOptions struct {
	// Replicas of the JetStream streams: 1, or 3 on a cluster.
	Replicas int
	// Prefix is the subject prefix (default "ppnet").
	Prefix string
}

// Render returns the epoch as the static network configuration the data
// plane reads, checked by netconfig's own resolver. Round 0 of the result
// is global round F_e; when next (the following epoch) is given, the
// result's round count ends the epoch where next begins.
func (e *Epoch) Render(next *Epoch, opts *RenderOptions) (*netconfig.Config, error) {
	c := &netconfig.Config{
		Epoch:     e.Number,
		Threshold: e.Threshold,
		Rounds: netconfig.Rounds{
			Start:    e.Clock.Start.Add(time.Duration(e.FirstRound) * e.Clock.Round).UTC(),
			Duration: e.Clock.Round,
			Grace:    e.Clock.Grace,
			PerDay:   uint64(e.RoundsPerDay),
			First:    e.FirstRound,
		},
	}
	if opts != nil {
		c.Streams.Replicas, c.Streams.Prefix = opts.Replicas, opts.Prefix
	}
	if next != nil {
		if next.FirstRound <= e.FirstRound {
			return nil, fmt.Errorf("registry: epoch %d starts at round %d, not after epoch %d's %d", next.Number, next.FirstRound, e.Number, e.FirstRound)
		}
		c.Rounds.Count = next.FirstRound - e.FirstRound
	}
	for _, n := range e.PPNs {
		c.PPNs = append(c.PPNs, netconfig.PPN{ID: n.ID, X: n.X, PublicKey: n.PublicKey})
	}
	for _, cs := range e.Consumers {
		g := cs.Grant
		c.Consumers = append(c.Consumers, netconfig.Consumer{ID: cs.ID, PublicKey: cs.PublicKey,
			Grant: &netconfig.Grant{Kinds: g.Kinds, MinWindow: g.MinWindow, MinCohort: g.MinCohort}})
	}
	for _, p := range e.Producers {
		c.Producers = append(c.Producers, netconfig.Producer{ID: p.ID, PublicKey: p.PublicKey})
		c.MaxReading = max(c.MaxReading, p.Max)
	}
	for _, r := range e.Rules {
		nr := netconfig.Rule{ID: r.ID, Consumer: r.Consumer, Kind: r.Kind,
			WindowRounds: uint64(r.Window), Meters: r.Producers, PPNs: r.PPNs}
		if len(r.Band) > 0 {
			nr.Band = &netconfig.Band{}
			for _, b := range r.Band {
				nr.Band.Rounds = append(nr.Band.Rounds, [2]uint64{uint64(b[0]), uint64(b[1])})
			}
		}
		c.Rules = append(c.Rules, nr)
	}
	if _, err := c.Resolve(); err != nil {
		return nil, fmt.Errorf("registry: epoch %d does not render to a valid network file: %w", e.Number, err)
	}
	return c, nil
}

// RenderFile renders epoch n as netconfig YAML and records it as
// published: from then on a new plan starts epoch n+1.
func (r *Registry) RenderFile(n uint32, opts *RenderOptions) ([]byte, error) {
	e, next, err := r.Epoch(n)
	if err != nil {
		return nil, err
	}
	c, err := e.Render(next, opts)
	if err != nil {
		return nil, err
	}
	b, err := c.Marshal()
	if err != nil {
		return nil, fmt.Errorf("registry: encoding epoch %d: %v", n, err)
	}
	return b, r.markPublished(n)
}
