// Package devnet runs a whole ppnet network in one process: the embedded
// NATS server, N PPNs, a concentrator of M synthetic meters (the household
// model of sim/household) and three consumers — a feeder-level 15-minute
// `sum`, a daily neighbourhood `sum` and a `per-producer` total over the
// whole run (the billing month) — on a fast clock. After R rounds it
// checks every result against the plain sum of the readings it covers,
// computed separately from the meters' own history, and reports coverage,
// latency per round and throughput.
//
// Tests drive the same network through [Start] and the [Net] handle, to
// stop, crash and restart PPNs mid-run.
package devnet

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/ppnet/ppnet/internal/consumer"
	"github.com/ppnet/ppnet/internal/natsauth"
	"github.com/ppnet/ppnet/internal/natsx"
	"github.com/ppnet/ppnet/internal/netconfig"
	"github.com/ppnet/ppnet/internal/ppn"
	"github.com/ppnet/ppnet/internal/producer"
	"github.com/ppnet/ppnet/sharing"
)

// Options configures a devnet run.
type Options struct {
	Meters    int           // M synthetic meters (default 1000)
	PPNs      int           // N (default 5)
	T         int           // threshold t (default 3)
	W         int           // PPNs per rule w (default 5)
	Rounds    uint64        // R (default 96)
	Producers int           // concentrators sharing the meters (default 1; M means one producer per meter)
	Chunk     int           // meters per bundle (default 4096)
	Round     time.Duration // fast-clock round length D (default 100ms)
	Grace     time.Duration // seal grace G (default 2·D)
	Settle    time.Duration // consumer wait for missing shares (default 1s)
	Seed      uint64        // household model seed (default 1)
	NATSPort  int           // embedded NATS port (default: any free port)
	NATSURL   string        // external NATS instead of the embedded server
	Secure    bool          // embedded server with one NKey user per role and its permissions (internal/natsauth)
	DataDir   string        // where state goes (default a temporary directory, removed after)
	Out       string        // if set: write readings.csv, rules.json, results.jsonl here
	Logger    *slog.Logger  // daemon logs (default discarded)

	// Down lists PPN indexes never started (fault tests).
	Down []int
	// Tamper, by PPN index, falsifies that PPN's aggregates (fault tests).
	Tamper map[int]func(rule string, window uint64, vals []sharing.Element)
	// CommitEvery is passed to every PPN (0: default).
	CommitEvery int
	// FDDM, if set, adds FedAvg participants and the coordinator to the
	// network (fddm.go); RunWithBilling then masks the meters' history
	// after the billing month's close.
	FDDM *FDDM
	// Extra rules are appended to the devnet's three (time-of-use bands,
	// say). Round-of-day counts in the devnet's day: 96 rounds, or the
	// whole run when R is not a multiple of 96.
	Extra []netconfig.RuleSpec
}

func (o *Options) defaults() {
	def := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	def(&o.Meters, 1000)
	def(&o.PPNs, 5)
	def(&o.T, 3)
	def(&o.W, 5)
	def(&o.Producers, 1)
	if o.Rounds == 0 {
		o.Rounds = 96
	}
	if o.Round == 0 {
		o.Round = 100 * time.Millisecond
	}
	if o.Grace == 0 {
		o.Grace = 2 * o.Round
	}
	if o.Settle == 0 {
		o.Settle = time.Second
	}
	if o.Seed == 0 {
		o.Seed = 1
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
}

// Rules of the devnet: a 15-minute feeder sum over the first half of the
// meters, a daily neighbourhood sum, and the utility's per-meter total over
// all meters in one window of the whole run — the demo month (DESIGN §7:
// per-producer monthly rules), so the utility learns one total per meter
// per bill, not a daily series.
func rules(rounds uint64) []netconfig.RuleSpec {
	day := dayRounds(rounds)
	return []netconfig.RuleSpec{
		{ID: "feeder-F1-15min", Consumer: "dso", Kind: netconfig.KindSum, Window: 1, Fraction: 0.5},
		{ID: "neighbourhood-daily", Consumer: "planner", Kind: netconfig.KindSum, Window: day, Fraction: 1},
		{ID: BillingRule, Consumer: "utility", Kind: netconfig.KindPerProducer, Window: rounds, Fraction: 1},
	}
}

// BillingRule is the utility's per-producer rule: one window of the run.
const BillingRule = "billing-monthly"

// dayRounds is the devnet's day: 96 rounds, or a short run's whole length
// (one "day" window spanning the run).
func dayRounds(rounds uint64) uint64 {
	if rounds%96 != 0 {
		return rounds
	}
	return 96
}

func (o *Options) spec(start time.Time) netconfig.Spec {
	return netconfig.Spec{PPNs: o.PPNs, Threshold: o.T, W: o.W, Meters: o.Meters, Producers: o.Producers, Chunk: o.Chunk,
		Round: o.Round, Grace: o.Grace, Rounds: o.Rounds, PerDay: dayRounds(o.Rounds), Rules: append(rules(o.Rounds), o.Extra...), Start: start}
}

// Net is a running devnet.
type Net struct {
	Opts Options
	Cfg  *netconfig.Config
	Net  *netconfig.Network
	Keys *netconfig.Keys
	URL  string

	dir       string
	server    *server.Server
	auth      *natsauth.Keys                   // NATS users, with Options.Secure
	conns     map[natsauth.Identity]*nats.Conn // per-role connections, with Options.Secure
	mu        sync.Mutex
	ppns      []*ppn.PPN
	producers []*producer.Producer
	consumers []*consumer.Consumer
	arrivals  *arrivals
	readings  *lockedWriter
	started   time.Time
	fed       *fedState    // with Options.FDDM
	extra     []*nats.Conn // connections the devnet itself uses (FDDM bulletin)
}

// Start generates the network, starts the NATS server (unless NATSURL is
// set) and every daemon, and returns once all are ready. Round 0 starts
// shortly after.
func Start(ctx context.Context, o Options) (*Net, error) {
	o.defaults()
	d := &Net{Opts: o, arrivals: newArrivals(), conns: map[natsauth.Identity]*nats.Conn{}}
	d.dir = o.DataDir
	if d.dir == "" {
		dir, err := os.MkdirTemp("", "ppnet-devnet-")
		if err != nil {
			return nil, fmt.Errorf("devnet: %v", err)
		}
		d.dir = dir
	}
	var err error
	if d.Cfg, d.Keys, err = netconfig.Generate(o.spec(time.Now().Add(2*time.Second)), rand.Reader); err != nil {
		return nil, err
	}
	if d.Net, err = d.Cfg.Resolve(); err != nil {
		return nil, err
	}
	if o.FDDM != nil {
		if err := d.addFedAvg(); err != nil {
			return nil, err
		}
	}
	if err := newAuth(d); err != nil {
		return nil, err
	}
	d.URL = o.NATSURL
	if d.URL == "" {
		if d.server, err = natsx.StartServer(d.serverOptions(o.NATSPort)); err != nil {
			return nil, err
		}
		d.URL = d.server.ClientURL()
	}
	if d.auth != nil {
		if err := d.declareStreams(ctx); err != nil {
			d.Close()
			return nil, err
		}
	}
	if d.fed != nil {
		if err := d.declareBulletin(ctx); err != nil {
			d.Close()
			return nil, err
		}
	}
	if o.Out != "" {
		if err := d.openOut(); err != nil {
			d.Close()
			return nil, err
		}
	}
	if err := d.startAll(ctx); err != nil {
		d.Close()
		return nil, err
	}
	d.started = time.Now()
	return d, nil
}

func (d *Net) startAll(ctx context.Context) error {
	o := d.Opts
	for i, c := range d.Cfg.Consumers {
		nc, err := d.dial(natsauth.Identity{Role: natsauth.RoleConsumer, ID: c.ID})
		if err != nil {
			return err
		}
		out := d.arrivals.writer(c.ID)
		if d.fed != nil && c.ID == FedAvgConsumer {
			coord, err := d.coordinatorOut(ctx)
			if err != nil {
				return err
			}
			out = io.MultiWriter(out, coord)
		}
		cs, err := consumer.New(consumer.Config{ID: c.ID, NATS: d.URL, DataDir: filepath.Join(d.dir, "consumer-"+c.ID),
			Settle: o.Settle, Net: d.Net, Key: d.Keys.Consumers[i], Out: out, Logger: o.Logger,
			Conn: nc, SkipStreams: nc != nil})
		if err != nil {
			return err
		}
		if err := cs.Start(ctx); err != nil {
			return err
		}
		d.consumers = append(d.consumers, cs)
	}
	d.ppns = make([]*ppn.PPN, len(d.Cfg.PPNs))
	for i := range d.Cfg.PPNs {
		if isDown(o.Down, i) {
			continue
		}
		if err := d.StartPPN(ctx, i, false); err != nil {
			return err
		}
	}
	for i, p := range d.Cfg.Producers {
		var src producer.Source
		var err error
		if d.fed != nil && d.fed.participant(p.ID) {
			src, err = d.fedSource(ctx, p.ID)
		} else {
			src, err = producer.NewHouseholdSource(nil, o.Seed)
		}
		if err != nil {
			return err
		}
		nc, err := d.dial(natsauth.Identity{Role: natsauth.RoleProducer, ID: p.ID})
		if err != nil {
			return err
		}
		cfg := producer.Config{ID: p.ID, NATS: d.URL, DataDir: filepath.Join(d.dir, "producer-"+p.ID), From: 0,
			Net: d.Net, Key: d.Keys.Producers[i], Source: src, Logger: o.Logger, Conn: nc, SkipStreams: nc != nil}
		if d.readings != nil && (d.fed == nil || !d.fed.participant(p.ID)) {
			cfg.Readings = d.readings
		}
		pr, err := producer.New(cfg)
		if err != nil {
			return err
		}
		if err := pr.Start(ctx); err != nil {
			return err
		}
		d.producers = append(d.producers, pr)
	}
	return nil
}

func isDown(down []int, i int) bool {
	for _, x := range down {
		if x == i {
			return true
		}
	}
	return false
}

// StartPPN starts (or restarts, on its existing state) PPN i. With crash
// set, a later StopPPN drops uncommitted work as a killed process would.
func (d *Net) StartPPN(ctx context.Context, i int, crash bool) error {
	o := d.Opts
	id := d.Cfg.PPNs[i].ID
	nc, err := d.dial(natsauth.Identity{Role: natsauth.RolePPN, ID: id})
	if err != nil {
		return err
	}
	p, err := ppn.New(ppn.Config{ID: id, NATS: d.URL, DataDir: filepath.Join(d.dir, "ppn-"+id), CommitEvery: o.CommitEvery,
		Net: d.Net, Key: d.Keys.PPNs[i], Logger: o.Logger, Tamper: o.Tamper[i], Crash: crash, Conn: nc, SkipStreams: nc != nil})
	if err != nil {
		return err
	}
	if err := p.Start(ctx); err != nil {
		return err
	}
	d.mu.Lock()
	d.ppns[i] = p
	d.mu.Unlock()
	return nil
}

// StopPPN stops PPN i.
func (d *Net) StopPPN(ctx context.Context, i int) error {
	d.mu.Lock()
	p := d.ppns[i]
	d.ppns[i] = nil
	d.mu.Unlock()
	if p == nil {
		return fmt.Errorf("devnet: PPN %d is not running", i)
	}
	err := p.Shutdown(ctx)
	d.closeConn(natsauth.Identity{Role: natsauth.RolePPN, ID: d.Cfg.PPNs[i].ID})
	return err
}

// RestartNATS shuts the embedded server down, waits pause, and starts it
// again on the same port and store: clients reconnect by themselves.
func (d *Net) RestartNATS(pause time.Duration) error {
	if d.server == nil {
		return errors.New("devnet: no embedded server to restart (external --nats)")
	}
	port := d.server.Addr().(*net.TCPAddr).Port
	d.server.Shutdown()
	d.server.WaitForShutdown()
	time.Sleep(pause) // the outage itself: time passing, not a synchronisation
	s, err := natsx.StartServer(d.serverOptions(port))
	if err != nil {
		return err
	}
	d.server = s
	return nil
}

// PPN returns running PPN i, or nil.
func (d *Net) PPN(i int) *ppn.PPN {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.ppns[i]
}

// Consumers returns the running consumers.
func (d *Net) Consumers() []*consumer.Consumer { return d.consumers }

// Wait blocks until every producer has delivered every round and every
// consumer holds a final result for every window, or ctx ends.
func (d *Net) Wait(ctx context.Context) error {
	for _, p := range d.producers {
		select {
		case <-p.Done():
		case <-ctx.Done():
			return fmt.Errorf("devnet: producers not done: %w", ctx.Err())
		}
	}
	want := 0
	for _, r := range d.Net.Rules {
		want += int(d.Opts.Rounds / r.K)
	}
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		got := 0
		for _, c := range d.consumers {
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
			return fmt.Errorf("devnet: %d of %d results final: %w", got, want, ctx.Err())
		case <-tick.C:
		}
	}
}

// Close stops every daemon and the server, and removes a temporary data
// directory.
func (d *Net) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var errs []error
	for _, p := range d.producers {
		errs = append(errs, p.Shutdown(ctx))
	}
	for i := range d.ppns {
		if p := d.PPN(i); p != nil {
			errs = append(errs, d.StopPPN(ctx, i))
		}
	}
	for _, c := range d.consumers {
		errs = append(errs, c.Shutdown(ctx))
	}
	d.producers, d.consumers = nil, nil
	d.fed.close()
	d.closeConns()
	d.mu.Lock()
	for _, nc := range d.extra {
		nc.Close()
	}
	d.extra = nil
	d.mu.Unlock()
	if d.server != nil {
		d.server.Shutdown()
		d.server.WaitForShutdown()
		d.server = nil
	}
	if d.readings != nil {
		errs = append(errs, d.readings.Close())
		d.readings = nil
	}
	if d.Opts.DataDir == "" && d.dir != "" {
		errs = append(errs, os.RemoveAll(d.dir))
		d.dir = ""
	}
	return errors.Join(errs...)
}

// lockedWriter serializes writes from several producers into one file.
type lockedWriter struct {
	mu sync.Mutex
	w  io.WriteCloser
}

func (l *lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}

func (l *lockedWriter) Close() error { return l.w.Close() }
