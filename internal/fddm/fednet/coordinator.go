package fednet

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/ppnet/ppnet/internal/consumer"
	"github.com/ppnet/ppnet/internal/fddm/bulletin"
	"github.com/ppnet/ppnet/internal/fddm/fedavg"
	"github.com/ppnet/ppnet/internal/fddm/model"
	"github.com/ppnet/ppnet/internal/netconfig"
	"github.com/ppnet/ppnet/sharing"
)

// CoordinatorConfig configures the FedAvg coordinator.
type CoordinatorConfig struct {
	Net     *netconfig.Network
	Prefix  string // component rule prefix (default "fedavg")
	Codec   *fedavg.Codec
	KV      jetstream.KeyValue // where global models are published
	Rounds  Rounds
	Initial model.Logistic // carried over when round 0 has no contributions
	Logger  *slog.Logger
	Now     func() time.Time
}

// RoundResult is what the coordinator learned of one FedAvg round.
type RoundResult struct {
	bulletin.Global
	Published time.Time     // when the model was written to the bucket
	Latency   time.Duration // from the carrying round's deadline to Published
	Err       error         // why the round's sums were not used (the model carried over)
}

// Coordinator is the consumer-side end of FedAvg over the network: plugged
// in as a consumer's Out, it reads the final results of the component sum
// rules, and for each FedAvg round whose d+1 sums are all final, checks that
// they cover the same producers, decodes the average (fedavg.Codec.Model),
// and publishes it to the bucket. It never sees a producer's update: only
// the recovered sums.
type Coordinator struct {
	cfg   CoordinatorConfig
	rules map[string]int // rule id → component
	n     int            // components

	mu      sync.Mutex
	buf     []byte
	pending map[uint64][]*consumer.Result // FedAvg round → results per component
	last    model.Logistic
	next    uint64 // next round to publish, in order
	results []RoundResult
	changed chan struct{}
}

// NewCoordinator checks that the network has the component rules.
func NewCoordinator(cfg CoordinatorConfig) (*Coordinator, error) {
	if cfg.Prefix == "" {
		cfg.Prefix = "fedavg"
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Codec == nil || cfg.KV == nil || cfg.Net == nil {
		return nil, fmt.Errorf("fednet: coordinator needs a network, a codec and a bucket")
	}
	c := &Coordinator{cfg: cfg, rules: map[string]int{}, n: cfg.Codec.Len(model.Dim), pending: map[uint64][]*consumer.Result{},
		last: cfg.Initial, changed: make(chan struct{})}
	for j := range c.n {
		id := RuleID(cfg.Prefix, j)
		found := false
		for _, r := range cfg.Net.Rules {
			if r.ID == id {
				if r.Kind != netconfig.KindSum || r.K != 1 {
					return nil, fmt.Errorf("fednet: rule %q is %s over %d rounds; FedAvg needs a sum over 1 round", id, r.Kind, r.K)
				}
				if len(r.Meters) > cfg.Codec.Producers() {
					return nil, fmt.Errorf("%w: rule %q sums %d producers, the codec was built for N = %d", fedavg.ErrBound, id, len(r.Meters), cfg.Codec.Producers())
				}
				found = true
			}
		}
		if !found {
			return nil, fmt.Errorf("fednet: the network has no rule %q; add the FedAvg rules (fednet.AddRules)", id)
		}
		c.rules[id] = j
	}
	return c, nil
}

// Write takes the consumer's final results as JSON lines (consumer.Config.Out).
func (c *Coordinator) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.buf = append(c.buf, p...)
	for {
		i := bytes.IndexByte(c.buf, '\n')
		if i < 0 {
			break
		}
		line := c.buf[:i]
		var res consumer.Result
		if err := json.Unmarshal(line, &res); err != nil {
			c.cfg.Logger.Warn("result line not understood", "err", err)
		} else {
			c.take(&res)
		}
		c.buf = c.buf[i+1:]
	}
	return len(p), nil
}

func (c *Coordinator) take(res *consumer.Result) {
	j, ok := c.rules[res.Rule]
	if !ok || !res.Final {
		return
	}
	r, ok := c.cfg.Rounds.Of(res.WindowStart)
	if !ok || r < c.next {
		return
	}
	rs := c.pending[r]
	if rs == nil {
		rs = make([]*consumer.Result, c.n)
		c.pending[r] = rs
	}
	rs[j] = res
	for c.ready(c.next) {
		c.publish(c.next)
		delete(c.pending, c.next)
		c.next++
	}
}

func (c *Coordinator) ready(r uint64) bool {
	rs := c.pending[r]
	return rs != nil && !slices.Contains(rs, nil)
}

// publish decodes round r (or carries the last model over) and writes it.
func (c *Coordinator) publish(r uint64) {
	rr := RoundResult{Global: bulletin.Global{Round: r}}
	m, count, total, err := c.decode(c.pending[r])
	if err != nil {
		rr.Err = err
		rr.Carried = true
		m = c.last
		c.cfg.Logger.Warn("FedAvg round not averaged; global model carried over", "round", r, "err", err)
	} else {
		rr.Contributors, rr.Samples = count, total
	}
	rr.Model = m
	rr.Weights = m.W[:]
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	perr := bulletin.PublishModel(ctx, c.cfg.KV, rr.Global)
	cancel()
	if perr != nil {
		rr.Err = perr
		c.cfg.Logger.Error("global model not published", "round", r, "err", perr)
	}
	rr.Published = c.cfg.Now()
	rr.Latency = rr.Published.Sub(c.cfg.Net.Deadline(c.cfg.Rounds.Tau(r)))
	if perr == nil {
		c.cfg.Logger.Info("global model published", "round", r, "contributors", rr.Contributors, "samples", rr.Samples, "carried", rr.Carried, "latency", rr.Latency)
	}
	c.last = m
	c.results = append(c.results, rr)
	close(c.changed)
	c.changed = make(chan struct{})
}

// decode checks that the d+1 sums cover the same producers and decodes them.
func (c *Coordinator) decode(rs []*consumer.Result) (model.Logistic, int, uint64, error) {
	sum := make([]sharing.Element, c.n)
	var producers []string
	for j, res := range rs {
		switch {
		case res.Error != "":
			return model.Logistic{}, 0, 0, fmt.Errorf("fednet: rule %s: %s", res.Rule, res.Error)
		case res.Value == nil:
			return model.Logistic{}, 0, 0, fmt.Errorf("fednet: rule %s: no value", res.Rule)
		}
		e, err := sharing.FromInt64(*res.Value)
		if err != nil {
			return model.Logistic{}, 0, 0, fmt.Errorf("fednet: rule %s: %v", res.Rule, err)
		}
		sum[j] = e
		covered := c.coveredProducers(res)
		if j == 0 {
			producers = covered
		} else if !slices.Equal(covered, producers) {
			return model.Logistic{}, 0, 0, fmt.Errorf("fednet: component sums cover different producers (%v in %s, %v in %s); not decoded", producers, rs[0].Rule, covered, res.Rule)
		}
	}
	if len(producers) == 0 {
		return model.Logistic{}, 0, 0, fmt.Errorf("fednet: no contributions")
	}
	avg, total, err := c.cfg.Codec.Decode(sum, len(producers))
	if err != nil {
		return model.Logistic{}, 0, 0, err
	}
	var m model.Logistic
	copy(m.W[:], avg)
	return m, len(producers), total, nil
}

// coveredProducers lists the producers whose component meter a result
// covers, from the rule's meters and the result's missing list.
func (c *Coordinator) coveredProducers(res *consumer.Result) []string {
	missing := map[string]bool{}
	for _, mr := range res.Missing {
		if id, ok := mr[0].(string); ok {
			missing[id] = true
		}
	}
	var out []string
	for _, r := range c.cfg.Net.Rules {
		if r.ID != res.Rule {
			continue
		}
		for _, m := range r.Meters {
			if id := c.cfg.Net.Meters[m]; !missing[id] {
				out = append(out, c.cfg.Net.Config.Producers[c.cfg.Net.MeterProducer[m]].ID)
			}
		}
	}
	return out
}

// Results returns what the coordinator has published so far, in round order.
func (c *Coordinator) Results() []RoundResult {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.results)
}

// WaitRounds blocks until n rounds are published or ctx ends.
func (c *Coordinator) WaitRounds(ctx context.Context, n int) ([]RoundResult, error) {
	for {
		c.mu.Lock()
		got, ch := len(c.results), c.changed
		c.mu.Unlock()
		if got >= n {
			return c.Results(), nil
		}
		select {
		case <-ctx.Done():
			return c.Results(), fmt.Errorf("fednet: %d of %d rounds published: %w", got, n, ctx.Err())
		case <-ch:
		}
	}
}
