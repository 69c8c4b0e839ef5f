// Package epochs runs a ppnet role across configuration epochs: a
// supervisor watches the JetStream key-value bucket the configurator
// publishes to (netconfig.Bucket, keys "epoch.<n>", each a network file
// decoded with netconfig.DecodeEntry) and runs one single-epoch instance of
// the role (a PPN, producer or consumer) per epoch the role belongs to.
//
// # Epoch switch
//
// Epoch e's file has round 0 at global round F_e. When epoch e+1 is
// published, the configurator first puts epoch e again with its round
// count ending at F_{e+1} (internal/registry Publish); the supervisor then
// restarts e's instance on the bounded file — a role resumes exactly once
// from its bbolt state, and only the count differs — and starts e+1's
// instance beside it, in its own data directory. Both read the same streams:
// bundles, seals and aggregates carry their epoch, so each instance takes
// its own epoch's messages and counts the other's as rejected (reason
// "epoch", logged at debug). Because the registry only accepts an F_{e+1}
// that is a multiple of every window of both epochs, no window spans the
// switch: every window of e ends by F_{e+1} and finishes under e. An
// instance whose bounded epoch is done (producer: every round
// acknowledged; PPN: every round sealed and every aggregate acknowledged;
// consumer: every window final) is shut down and its directory kept, with
// a "done" marker so a restarted supervisor does not run it again.
//
// # Layout
//
// Instance i of epoch n keeps its state in DataDir/epoch-<n>; the
// supervisor serves /metrics (its own registry, plus each instance's with
// the label epoch="<n>"), /healthz (failing while any running instance
// fails) and the extra handlers of its Config on one address.
package epochs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/ppnet/ppnet/internal/daemon"
	"github.com/ppnet/ppnet/internal/netconfig"
)

// Instance is one epoch's run of a role: *ppn.PPN, *producer.Producer and
// *consumer.Consumer implement it.
type Instance interface {
	Start(ctx context.Context) error
	Done() <-chan struct{}
	Healthy() error
	Shutdown(ctx context.Context) error
}

// Build makes the (not yet started) instance of epoch n.Config.Epoch with
// state in dir and metrics on reg. It returns a nil Instance and no error
// when the role has no part in that epoch.
type Build func(n *netconfig.Network, dir string, reg *prometheus.Registry) (Instance, error)

// Config configures a supervisor.
type Config struct {
	Conn     *nats.Conn // shared by the watcher and every instance (required)
	Bucket   string     // key-value bucket (default netconfig.Bucket)
	DataDir  string     // instance i of epoch n keeps its state in DataDir/epoch-<n> (required)
	Build    Build      // makes one epoch's instance (required)
	Name     string     // role/id, for logs and errors
	HTTP     string     // /metrics, /healthz and Extra (default 127.0.0.1:0)
	Extra    map[string]http.Handler
	Registry *prometheus.Registry // the supervisor's own metrics (default daemon.NewRegistry())
	Logger   *slog.Logger
}

// Errors callers may match.
var (
	ErrNoBucket = errors.New("epochs: no such key-value bucket")
)

// epoch is what the supervisor knows of one epoch.
type epoch struct {
	net  *netconfig.Network
	dir  string
	inst Instance // nil unless running
	reg  *prometheus.Registry
	stop context.CancelFunc // ends the instance's done watch
	gen  int
	done bool // finished (or found finished on disk)
}

type finished struct {
	n   uint32
	gen int
}

// Supervisor runs a role's instances for the epochs in the bucket.
type Supervisor struct {
	cfg  Config
	log  *slog.Logger
	reg  *prometheus.Registry
	m    *metrics
	kv   jetstream.KeyValue
	w    jetstream.KeyWatcher
	http *daemon.HTTP

	// life is held while an instance starts or stops and during Each, so
	// Each never sees an instance half started or half stopped; mu guards
	// the fields and is never held across an instance's Start or Shutdown.
	life   sync.Mutex
	mu     sync.Mutex
	epochs map[uint32]*epoch
	err    error // a watch or configuration problem, for /healthz

	finished chan finished
	synced   chan struct{}
	ready    chan struct{}
	cancel   context.CancelFunc
	wg       sync.WaitGroup
}

// New checks cfg; Start runs the supervisor.
func New(cfg Config) (*Supervisor, error) {
	switch {
	case cfg.Conn == nil:
		return nil, errors.New("epochs: no NATS connection; following epochs needs --nats")
	case cfg.DataDir == "":
		return nil, errors.New("epochs: no data directory; set --data")
	case cfg.Build == nil:
		return nil, errors.New("epochs: no instance builder (programming error)")
	}
	if cfg.Bucket == "" {
		cfg.Bucket = netconfig.Bucket
	}
	if cfg.HTTP == "" {
		cfg.HTTP = "127.0.0.1:0"
	}
	if cfg.Registry == nil {
		cfg.Registry = daemon.NewRegistry()
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Supervisor{cfg: cfg, log: cfg.Logger.With("epochs", cfg.Name), reg: cfg.Registry, epochs: map[uint32]*epoch{},
		finished: make(chan finished, 16), synced: make(chan struct{}), ready: make(chan struct{})}
	s.m = newMetrics(s.reg)
	return s, nil
}

// Start binds the bucket, starts watching epoch keys and serves HTTP. The
// instances start as their entries arrive.
func (s *Supervisor) Start(ctx context.Context) error {
	if err := os.MkdirAll(s.cfg.DataDir, 0o700); err != nil {
		return fmt.Errorf("epochs: %v", err)
	}
	js, err := jetstream.New(s.cfg.Conn)
	if err != nil {
		return fmt.Errorf("epochs: jetstream: %v", err)
	}
	sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if s.kv, err = js.KeyValue(sctx, s.cfg.Bucket); err != nil {
		if errors.Is(err, jetstream.ErrBucketNotFound) {
			return fmt.Errorf("%w %q on the NATS server; publish an epoch first (configurator epoch publish --nats) or pass the bucket it uses with --kv", ErrNoBucket, s.cfg.Bucket)
		}
		return fmt.Errorf("epochs: key-value bucket %q: %v; check that %s may read it (docs/security.md)", s.cfg.Bucket, err, s.cfg.Name)
	}
	rctx, rcancel := context.WithCancel(context.Background())
	if s.w, err = s.kv.Watch(rctx, netconfig.EpochKeyPrefix+"*"); err != nil {
		rcancel()
		return fmt.Errorf("epochs: watch %s* in %q: %v; check that %s may read the bucket (docs/security.md)", netconfig.EpochKeyPrefix, s.cfg.Bucket, err, s.cfg.Name)
	}
	if s.http, err = daemon.ServeHTTP(s.cfg.HTTP, gatherer{s}, s.Healthy, s.cfg.Extra); err != nil {
		_ = s.w.Stop()
		rcancel()
		return err
	}
	s.cancel = rcancel
	s.wg.Add(1)
	go func() { defer s.wg.Done(); s.run(rctx) }()
	close(s.ready)
	s.log.Info("following epochs", "bucket", s.cfg.Bucket, "data", s.cfg.DataDir, "http", s.http.Addr())
	return nil
}

// run applies watch entries and finished instances in one goroutine, so
// an epoch's instance is started, restarted and stopped in order.
func (s *Supervisor) run(ctx context.Context) {
	syncedOnce := sync.OnceFunc(func() { close(s.synced) })
	for {
		select {
		case <-ctx.Done():
			return
		case e, ok := <-s.w.Updates():
			if !ok {
				if ctx.Err() == nil {
					s.setErr(fmt.Errorf("epochs: the watch of bucket %q ended; restart %s", s.cfg.Bucket, s.cfg.Name))
				}
				return
			}
			if e == nil {
				syncedOnce()
				continue
			}
			s.apply(ctx, e)
		case f := <-s.finished:
			s.finish(f)
		}
	}
}

// apply acts on one entry of the bucket.
func (s *Supervisor) apply(ctx context.Context, e jetstream.KeyValueEntry) {
	if e.Operation() != jetstream.KeyValuePut {
		s.log.Warn("epoch entry deleted from the bucket; its instance, if any, keeps running", "key", e.Key(), "revision", e.Revision())
		return
	}
	n, err := netconfig.DecodeEntry(e.Key(), e.Value())
	if err != nil {
		s.m.bad.Inc()
		s.log.Error("epoch entry refused", "key", e.Key(), "revision", e.Revision(), "err", err)
		return
	}
	num := n.Config.Epoch
	s.mu.Lock()
	ep := s.epochs[num]
	if ep == nil {
		ep = &epoch{dir: filepath.Join(s.cfg.DataDir, "epoch-"+strconv.FormatUint(uint64(num), 10))}
		_, err := os.Stat(filepath.Join(ep.dir, doneMarker))
		ep.done = err == nil
		s.epochs[num] = ep
	}
	s.mu.Unlock()
	log := s.log.With("epoch", num, "revision", e.Revision())
	switch {
	case ep.done:
		log.Debug("epoch already done here; entry ignored")
		return
	case ep.inst != nil && !sameButCount(ep.net, n):
		s.setErr(fmt.Errorf("epochs: epoch %d was re-published with more changed than its round count; %s keeps the file it started with — publish changes as a new epoch", num, s.cfg.Name))
		log.Error("epoch changed beyond its round count; keeping the running instance")
		return
	case ep.inst != nil && ep.net.Config.Rounds.Count == n.Config.Rounds.Count:
		return // the same file again
	case ep.inst != nil:
		log.Info("epoch bounded: restarting its instance on the new round count", "count", n.Config.Rounds.Count)
		s.stopInstance(ep)
		s.m.restarts.Inc()
	}
	s.startInstance(ctx, num, ep, n, log)
}

// startInstance builds and starts epoch num's instance on network n.
func (s *Supervisor) startInstance(ctx context.Context, num uint32, ep *epoch, n *netconfig.Network, log *slog.Logger) {
	s.life.Lock()
	defer s.life.Unlock()
	reg := prometheus.NewRegistry()
	inst, err := s.cfg.Build(n, ep.dir, reg)
	if err != nil {
		s.setErr(fmt.Errorf("epochs: epoch %d: %w", num, err))
		log.Error("epoch instance not built", "err", err)
		return
	}
	s.mu.Lock()
	ep.net = n
	s.mu.Unlock()
	if inst == nil {
		log.Info("not a member of this epoch")
		return
	}
	if err := os.MkdirAll(ep.dir, 0o700); err != nil {
		s.setErr(fmt.Errorf("epochs: %v", err))
		return
	}
	if err := inst.Start(ctx); err != nil {
		s.setErr(fmt.Errorf("epochs: epoch %d: %w", num, err))
		log.Error("epoch instance not started", "err", err)
		return
	}
	wctx, stop := context.WithCancel(ctx)
	s.mu.Lock()
	ep.gen++
	ep.inst, ep.reg, ep.stop = inst, reg, stop
	gen := ep.gen
	s.mu.Unlock()
	s.m.running.Inc()
	go func() {
		select {
		case <-inst.Done():
			select {
			case s.finished <- finished{num, gen}:
			case <-wctx.Done():
			}
		case <-wctx.Done():
		}
	}()
	log.Info("epoch instance started", "first_round", n.Config.Rounds.First, "count", n.Config.Rounds.Count, "dir", ep.dir)
}

// stopInstance shuts epoch ep's instance down, keeping its state.
func (s *Supervisor) stopInstance(ep *epoch) {
	s.life.Lock()
	defer s.life.Unlock()
	s.mu.Lock()
	inst := ep.inst
	ep.inst = nil
	s.mu.Unlock()
	if inst == nil {
		return
	}
	ep.stop()
	s.m.running.Dec()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := inst.Shutdown(ctx); err != nil {
		s.log.Error("epoch instance shutdown", "err", err)
	}
}

const doneMarker = "done"

// finish stops an instance whose epoch is done and marks it so.
func (s *Supervisor) finish(f finished) {
	s.mu.Lock()
	ep := s.epochs[f.n]
	stale := ep == nil || ep.gen != f.gen || ep.inst == nil
	s.mu.Unlock()
	if stale {
		return
	}
	if err := ep.inst.Healthy(); err != nil {
		s.log.Warn("epoch instance done with an error", "epoch", f.n, "err", err)
	}
	s.stopInstance(ep)
	if err := os.WriteFile(filepath.Join(ep.dir, doneMarker), []byte("done\n"), 0o600); err != nil {
		s.setErr(fmt.Errorf("epochs: %v", err))
	}
	s.mu.Lock()
	ep.done = true
	s.mu.Unlock()
	s.m.done.Inc()
	s.log.Info("epoch done: instance stopped, state kept", "epoch", f.n, "dir", ep.dir)
}

// sameButCount reports whether a and b are the same file up to the round
// count (the one thing the configurator changes in a published epoch).
func sameButCount(a, b *netconfig.Network) bool {
	x, y := *a.Config, *b.Config
	x.Rounds.Count = y.Rounds.Count
	return reflect.DeepEqual(x, y)
}

func (s *Supervisor) setErr(err error) {
	s.mu.Lock()
	s.err = err
	s.mu.Unlock()
}

// Healthy returns nil while the watch runs and every running instance is
// healthy.
func (s *Supervisor) Healthy() error {
	select {
	case <-s.synced:
	default:
		return daemon.ErrNotReady
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	errs := []error{s.err}
	for _, n := range s.sorted() {
		if ep := s.epochs[n]; ep.inst != nil {
			if err := ep.inst.Healthy(); err != nil {
				errs = append(errs, fmt.Errorf("epoch %d: %w", n, err))
			}
		}
	}
	return errors.Join(errs...)
}

func (s *Supervisor) sorted() []uint32 {
	ns := make([]uint32, 0, len(s.epochs))
	for n := range s.epochs {
		ns = append(ns, n)
	}
	slices.Sort(ns)
	return ns
}

// Synced is closed once the entries in the bucket at Start have been
// applied.
func (s *Supervisor) Synced() <-chan struct{} { return s.synced }

// Ready is closed once Start has succeeded.
func (s *Supervisor) Ready() <-chan struct{} { return s.ready }

// HTTPAddr returns the address serving /metrics, /healthz and the extras.
func (s *Supervisor) HTTPAddr() string { return s.http.Addr() }

// Registry returns the supervisor's own metrics registry.
func (s *Supervisor) Registry() *prometheus.Registry { return s.reg }

// Epoch describes one epoch as the supervisor sees it.
type Epoch struct {
	Number   uint32
	Net      *netconfig.Network // the file the instance runs (nil if never started here)
	Dir      string             // the instance's data directory
	Instance Instance           // the running instance, nil once stopped or if not a member
	Done     bool               // the instance finished its bounded epoch
}

// Each calls f for every epoch seen, in order. No instance starts or
// stops during f, so f may read a stopped instance's files; f must not
// call the supervisor.
func (s *Supervisor) Each(f func(Epoch)) {
	s.life.Lock()
	defer s.life.Unlock()
	s.mu.Lock()
	var es []Epoch
	for _, n := range s.sorted() {
		ep := s.epochs[n]
		es = append(es, Epoch{Number: n, Net: ep.net, Dir: ep.dir, Instance: ep.inst, Done: ep.done})
	}
	s.mu.Unlock()
	for _, e := range es {
		f(e)
	}
}

// Shutdown stops the watch and every running instance (keeping their
// state) and the HTTP server. The NATS connection is the caller's.
func (s *Supervisor) Shutdown(ctx context.Context) error {
	var errs []error
	if s.w != nil {
		if err := s.w.Stop(); err != nil && !errors.Is(err, nats.ErrBadSubscription) {
			errs = append(errs, fmt.Errorf("epochs: stop watching: %v", err))
		}
	}
	if s.cancel != nil {
		s.cancel()
	}
	s.wg.Wait()
	s.mu.Lock()
	var eps []*epoch
	for _, n := range s.sorted() {
		eps = append(eps, s.epochs[n])
	}
	s.mu.Unlock()
	for _, ep := range eps {
		s.stopInstance(ep)
	}
	if s.http != nil {
		errs = append(errs, s.http.Shutdown(ctx))
	}
	return errors.Join(errs...)
}

// CheckFlags checks a daemon's choice between one static network file
// (--network) and following a bucket (--kv, which needs --nats): exactly
// one, with a message naming the fix. role prefixes the error.
func CheckFlags(role, network, kv, natsURL string) error {
	switch {
	case network != "" && kv != "":
		return fmt.Errorf("%s: both --network %s and --kv %s given; use --network FILE to run one static epoch, or --kv BUCKET (with --nats URL) to follow the configurator's epochs", role, network, kv)
	case network == "" && kv == "":
		return fmt.Errorf("%s: no network configuration; pass --network FILE (one static epoch) or --kv %s with --nats URL (follow the configurator's epochs)", role, netconfig.Bucket)
	case kv != "" && natsURL == "":
		return fmt.Errorf("%s: --kv %s needs --nats URL: epochs are published to a NATS server by the configurator, never to an embedded one", role, kv)
	}
	return nil
}
