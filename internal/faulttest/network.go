package faulttest

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/ppnet/ppnet/internal/consumer"
	"github.com/ppnet/ppnet/internal/daemon"
	"github.com/ppnet/ppnet/internal/natsx"
	"github.com/ppnet/ppnet/internal/netconfig"
	"github.com/ppnet/ppnet/internal/ppn"
	"github.com/ppnet/ppnet/internal/producer"
)

// Options configures a network run against servers the caller controls.
type Options struct {
	URL       string        // NATS URL, or several separated by commas (required)
	Dir       string        // state directory of every daemon (required; t.TempDir())
	Meters    int           // M synthetic meters (default 30)
	Producers int           // concentrators sharing the meters (default 3)
	PPNs      int           // N (default 5)
	T         int           // threshold t (default 3)
	W         int           // PPNs per rule (default N)
	Rounds    uint64        // R (default 10)
	Round     time.Duration // D (default 100ms)
	Grace     time.Duration // G (default 1s)
	Settle    time.Duration // consumer wait for missing shares (default 2s)
	Margin    time.Duration // time from Start to the start of round 0 (default 1.5s)
	Replicas  int           // stream replicas (default 1; 3 on a cluster)
	Seed      uint64        // household model seed (default 1)
	Logger    *slog.Logger  // daemon logs (default discarded)
	// Crash lists PPN indexes run in crash mode (ppn.Config.Crash): they
	// commit only at seals, and StopPPN drops what they applied since, as
	// a killed process would.
	Crash []int
}

func (o *Options) defaults() {
	def := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	def(&o.Meters, 30)
	def(&o.Producers, 3)
	def(&o.PPNs, 5)
	def(&o.T, 3)
	def(&o.W, o.PPNs)
	def(&o.Replicas, 1)
	if o.Rounds == 0 {
		o.Rounds = 10
	}
	if o.Round == 0 {
		o.Round = 100 * time.Millisecond
	}
	if o.Grace == 0 {
		o.Grace = time.Second
	}
	if o.Settle == 0 {
		o.Settle = 2 * time.Second
	}
	if o.Margin == 0 {
		o.Margin = 1500 * time.Millisecond
	}
	if o.Seed == 0 {
		o.Seed = 1
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
}

// Net is a running network: every daemon with its own NATS connection,
// held here so a test can see that the fault reached each of them.
type Net struct {
	Opts Options
	Cfg  *netconfig.Config
	Net  *netconfig.Network
	Keys *netconfig.Keys

	conns     []*nats.Conn
	regs      map[string]*prometheus.Registry // by daemon name
	producers []*producer.Producer
	ppns      []*ppn.PPN
	ppnConns  []*nats.Conn // by PPN index: the running PPN's connection
	consumers []*consumer.Consumer
}

// Rules of a faulttest network: a per-round sum over half the meters, a
// sum and a per-producer total over all meters and the whole run.
func rules(rounds uint64) []netconfig.RuleSpec {
	return []netconfig.RuleSpec{
		{ID: "feeder-round", Consumer: "dso", Kind: netconfig.KindSum, Window: 1, Fraction: 0.5},
		{ID: "all-run", Consumer: "planner", Kind: netconfig.KindSum, Window: rounds, Fraction: 1},
		{ID: "bill-run", Consumer: "utility", Kind: netconfig.KindPerProducer, Window: rounds, Fraction: 1},
	}
}

// Start generates the network (fresh keys), and starts its consumers, PPNs
// and producers on o.URL. Round 0 starts o.Margin after the call.
func Start(ctx context.Context, o Options) (*Net, error) {
	o.defaults()
	if o.URL == "" || o.Dir == "" {
		return nil, errors.New("faulttest: Options.URL and Options.Dir are required")
	}
	n := &Net{Opts: o, regs: map[string]*prometheus.Registry{}}
	spec := netconfig.Spec{PPNs: o.PPNs, Threshold: o.T, W: o.W, Meters: o.Meters, Producers: o.Producers,
		Start: time.Now().Add(o.Margin), Round: o.Round, Grace: o.Grace, Rounds: o.Rounds, Rules: rules(o.Rounds)}
	var err error
	if n.Cfg, n.Keys, err = netconfig.Generate(spec, rand.Reader); err != nil {
		return nil, err
	}
	n.Cfg.Streams.Replicas = o.Replicas
	if n.Net, err = n.Cfg.Resolve(); err != nil {
		return nil, err
	}
	if err := n.startAll(ctx); err != nil {
		n.Close()
		return nil, err
	}
	return n, nil
}

// conn dials a connection for one daemon and a registry for its metrics.
func (n *Net) conn(name string) (*nats.Conn, *prometheus.Registry, error) {
	nc, err := natsx.Connect(n.Opts.URL, name, n.Opts.Logger)
	if err != nil {
		return nil, nil, err
	}
	n.conns = append(n.conns, nc)
	reg := daemon.NewRegistry()
	n.regs[name] = reg
	return nc, reg, nil
}

func (n *Net) startAll(ctx context.Context) error {
	o := n.Opts
	for i, c := range n.Cfg.Consumers {
		nc, reg, err := n.conn("consumer-" + c.ID)
		if err != nil {
			return err
		}
		cs, err := consumer.New(consumer.Config{ID: c.ID, DataDir: filepath.Join(o.Dir, "consumer-"+c.ID), Settle: o.Settle,
			Net: n.Net, Key: n.Keys.Consumers[i], Conn: nc, Logger: o.Logger, Registry: reg})
		if err != nil {
			return err
		}
		if err := cs.Start(ctx); err != nil {
			return err
		}
		n.consumers = append(n.consumers, cs)
	}
	n.ppns = make([]*ppn.PPN, len(n.Cfg.PPNs))
	n.ppnConns = make([]*nats.Conn, len(n.Cfg.PPNs))
	for i := range n.Cfg.PPNs {
		if err := n.StartPPN(ctx, i); err != nil {
			return err
		}
	}
	for i, p := range n.Cfg.Producers {
		nc, reg, err := n.conn("producer-" + p.ID)
		if err != nil {
			return err
		}
		src, err := producer.NewHouseholdSource(nil, o.Seed)
		if err != nil {
			return err
		}
		pr, err := producer.New(producer.Config{ID: p.ID, DataDir: filepath.Join(o.Dir, "producer-"+p.ID), From: 0,
			Net: n.Net, Key: n.Keys.Producers[i], Source: src, Conn: nc, Logger: o.Logger, Registry: reg})
		if err != nil {
			return err
		}
		if err := pr.Start(ctx); err != nil {
			return err
		}
		n.producers = append(n.producers, pr)
	}
	return nil
}

// StartPPN starts PPN i on its data directory (resuming its committed
// state after StopPPN) with a fresh connection and metrics registry.
func (n *Net) StartPPN(ctx context.Context, i int) error {
	if n.ppns[i] != nil {
		return fmt.Errorf("faulttest: PPN %d is running", i)
	}
	o := n.Opts
	p := n.Cfg.PPNs[i]
	nc, reg, err := n.conn(fmt.Sprintf("ppn-%s-%d", p.ID, len(n.conns)))
	if err != nil {
		return err
	}
	pn, err := ppn.New(ppn.Config{ID: p.ID, DataDir: filepath.Join(o.Dir, "ppn-"+p.ID), Net: n.Net,
		Key: n.Keys.PPNs[i], Conn: nc, Logger: o.Logger, Registry: reg, Crash: slices.Contains(o.Crash, i)})
	if err != nil {
		return err
	}
	if err := pn.Start(ctx); err != nil {
		return err
	}
	n.ppns[i], n.ppnConns[i] = pn, nc
	return nil
}

// StopPPN stops PPN i and closes its connection; in crash mode it loses
// what it applied since its last commit. It returns the last stream
// sequences applied and committed when it was stopped.
func (n *Net) StopPPN(ctx context.Context, i int) (applied, committed uint64, err error) {
	p := n.ppns[i]
	if p == nil {
		return 0, 0, fmt.Errorf("faulttest: PPN %d is not running", i)
	}
	applied, committed = p.Position()
	n.ppns[i] = nil
	err = p.Shutdown(ctx)
	n.ppnConns[i].Close()
	return applied, committed, err
}

// Reconnects returns, per daemon connection, how often it reconnected.
func (n *Net) Reconnects() map[string]uint64 {
	out := map[string]uint64{}
	for _, nc := range n.conns {
		out[nc.Opts.Name] = nc.Stats().Reconnects
	}
	return out
}

// Counter sums a counter (all label values) over every daemon whose
// registry has it, such as "ppnet_ppn_bundles_late_total".
func (n *Net) Counter(name string) (float64, error) {
	var sum float64
	for _, reg := range n.regs {
		mfs, err := reg.Gather()
		if err != nil {
			return 0, fmt.Errorf("faulttest: gather metrics: %v", err)
		}
		for _, mf := range mfs {
			if mf.GetName() != name {
				continue
			}
			for _, m := range mf.GetMetric() {
				sum += m.GetCounter().GetValue()
			}
		}
	}
	return sum, nil
}

// Wait blocks until every producer has had every round acknowledged and
// every consumer holds a final result for every window, or ctx ends.
func (n *Net) Wait(ctx context.Context) error {
	for _, p := range n.producers {
		select {
		case <-p.Done():
		case <-ctx.Done():
			return fmt.Errorf("faulttest: producers not done: %w", ctx.Err())
		}
	}
	want := n.WantResults()
	for {
		got := 0
		for _, c := range n.consumers {
			res, err := c.Results()
			if err != nil {
				return err
			}
			for _, r := range res {
				if r.Final {
					got++
				}
			}
		}
		if got == want {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("faulttest: %d of %d results final: %w", got, want, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// WantResults is the number of (rule, window) results a full run yields.
func (n *Net) WantResults() int {
	want := 0
	for _, r := range n.Net.Rules {
		want += int(n.Opts.Rounds / r.K)
	}
	return want
}

// Close stops every daemon and closes their connections.
func (n *Net) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var errs []error
	for _, p := range n.producers {
		errs = append(errs, p.Shutdown(ctx))
	}
	for _, p := range n.ppns {
		if p != nil {
			errs = append(errs, p.Shutdown(ctx))
		}
	}
	for _, c := range n.consumers {
		errs = append(errs, c.Shutdown(ctx))
	}
	n.producers, n.ppns, n.consumers = nil, nil, nil
	for _, nc := range n.conns {
		nc.Close()
	}
	n.conns = nil
	return errors.Join(errs...)
}
