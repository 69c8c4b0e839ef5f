// Package consumer is the information-consumer daemon: it collects the
// aggregated shares of its rules from the aggregate stream, recovers each
// (rule, window) aggregate, and stores, serves and streams the results.
//
// # Recovery
//
// Shares of one (rule, window) are grouped by coverage digest: only PPNs
// that covered exactly the same (meter, round) set hold shares of the same
// sum. From the largest group, once it has t shares, the aggregate is
// recovered with sharing.Combiner.RobustRecover (RobustRecoverVec for
// per-producer rules): with w ≥ t+1 shares a wrong share is detected, with
// w ≥ t+2e up to e wrong shares are corrected and their PPNs named. The
// result is stored (bbolt) with its coverage, and updated as more shares
// arrive; it becomes final when all w PPNs have answered or the settle
// time has passed since it first formed. Final results are written as JSON
// lines to the configured writer and served at /results.
//
// The stream position and each verified share are committed in one
// transaction, so a restarted consumer resumes exactly where it stopped.
package consumer

import (
	"context"
	"crypto/ecdh"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	bolt "go.etcd.io/bbolt"

	"github.com/ppnet/ppnet/internal/daemon"
	"github.com/ppnet/ppnet/internal/fddm/fedavg"
	"github.com/ppnet/ppnet/internal/natsauth"
	"github.com/ppnet/ppnet/internal/natsx"
	"github.com/ppnet/ppnet/internal/netconfig"
	"github.com/ppnet/ppnet/internal/seal"
	"github.com/ppnet/ppnet/sharing"
)

// Config configures a consumer; yaml:"-" fields are for embedding.
type Config struct {
	Network     string `yaml:"network"`      // network configuration file
	KV          string `yaml:"kv"`           // follow the epochs in this key-value bucket instead (needs NATS); see Follow
	ID          string `yaml:"id"`           // consumer id in the network configuration
	KeyFile     string `yaml:"key_file"`     // file holding the base64 X25519 private key
	NATS        string `yaml:"nats"`         // NATS URL; empty runs an embedded server
	NATSPort    int    `yaml:"nats_port"`    // embedded server port (−1: any)
	DataDir     string `yaml:"data_dir"`     // results store (bbolt) and embedded NATS store
	SkipStreams bool   `yaml:"skip_streams"` // streams are declared by an admin (roles with NATS permissions cannot); do not declare them
	// NATSAuth are the NATS credentials (nats_key, nats_ca) and, for the
	// embedded server, its users and TLS files (docs/security.md).
	NATSAuth daemon.NATSAuth `yaml:",inline"`
	HTTP     string          `yaml:"http"`   // results/metrics/healthz address (default 127.0.0.1:0)
	Settle   time.Duration   `yaml:"settle"` // how long to wait for the last of w shares (default 2s)
	// FedAvg (`fedavg:`) runs the FedAvg coordinator on the consumer's
	// component rules (docs/fddm.md); it needs Coordinate (cmd/consumer
	// sets fednet.Coordinate).
	FedAvg     *fedavg.Settings `yaml:"fedavg"`
	Coordinate Coordinate       `yaml:"-"`

	Net      *netconfig.Network   `yaml:"-"`
	Key      *ecdh.PrivateKey     `yaml:"-"`
	Conn     *nats.Conn           `yaml:"-"`
	Out      io.Writer            `yaml:"-"` // final results as JSON lines (nil: none)
	Logger   *slog.Logger         `yaml:"-"`
	Now      func() time.Time     `yaml:"-"`
	Registry *prometheus.Registry `yaml:"-"`
	// NoHTTP serves no HTTP endpoint: an epoch supervisor (internal/epochs)
	// serves /metrics and /healthz for all its instances.
	NoHTTP bool `yaml:"-"`
	// TagEpoch sets Epoch and FirstRound in every result (an epoch
	// supervisor serves the results of several epochs together).
	TagEpoch bool `yaml:"-"`
}

// Consumer is a running consumer.
type Consumer struct {
	cfg   Config
	net   *netconfig.Network
	me    int
	log   *slog.Logger
	now   func() time.Time
	reg   *prometheus.Registry
	m     *metrics
	ring  *seal.Keyring
	comb  sharing.Combiner
	rules []int
	gate  *gate // release-time policy check (gate.go)

	nats *daemon.NATS
	js   jetstream.JetStream
	db   *bolt.DB
	http *daemon.HTTP

	seq     uint64
	pending map[wkey]time.Time // results formed, not final: when they formed
	outMu   sync.Mutex

	finals, expected int           // final results stored; windows of a bounded epoch
	done             chan struct{} // closed when finals reaches expected
	ready            chan struct{}
	cancel           context.CancelFunc
	wg               sync.WaitGroup
	mu               sync.Mutex
	err              error
}

type wkey struct {
	rule   uint16
	window uint64
}

func (c *Config) logger() *slog.Logger {
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c.Logger
}

// New checks cfg and loads what it names; Start runs the consumer.
func New(cfg Config) (*Consumer, error) {
	cfg.logger()
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Registry == nil {
		cfg.Registry = daemon.NewRegistry()
	}
	if cfg.HTTP == "" {
		cfg.HTTP = "127.0.0.1:0"
	}
	if cfg.Settle <= 0 {
		cfg.Settle = 2 * time.Second
	}
	if cfg.DataDir == "" {
		return nil, errors.New("consumer: no data directory; set --data")
	}
	var err error
	if cfg.Net == nil {
		if cfg.Net, err = netconfig.Load(cfg.Network); err != nil {
			return nil, err
		}
	}
	if cfg.Key == nil {
		if cfg.Key, err = daemon.ReadKey(cfg.KeyFile); err != nil {
			return nil, err
		}
	}
	me, err := cfg.Net.ConsumerIndex(cfg.ID)
	if err != nil {
		return nil, err
	}
	if !cfg.Key.PublicKey().Equal(cfg.Net.ConsumerKeys[me]) {
		return nil, fmt.Errorf("consumer: key file does not match consumer %q's public key in the network configuration", cfg.ID)
	}
	c := &Consumer{cfg: cfg, net: cfg.Net, me: me, log: cfg.Logger.With("consumer", cfg.ID), now: cfg.Now,
		reg: cfg.Registry, pending: map[wkey]time.Time{}, ready: make(chan struct{}), done: make(chan struct{})}
	c.m = newMetrics(c.reg)
	c.ring = seal.NewKeyring(cfg.Key, cfg.Net.Config.Epoch)
	for i, k := range cfg.Net.PPNKeys {
		c.ring.AddPeer(seal.PurposeAggregate, i, k)
	}
	for i, r := range cfg.Net.Rules {
		if r.Consumer == me {
			c.rules = append(c.rules, i)
			c.expected += int(cfg.Net.Config.Rounds.Count / r.K)
		}
	}
	c.gate = newGate(cfg.Net, me, c.rules, c.reg)
	if c.gate.off != "" {
		c.log.Warn("release-time policy check off: results missing producers are released unchecked", "why", c.gate.off)
	}
	return c, nil
}

// Start opens the store, connects, and starts reading aggregates.
func (c *Consumer) Start(ctx context.Context) error {
	if err := os.MkdirAll(c.cfg.DataDir, 0o700); err != nil {
		return fmt.Errorf("consumer: %v", err)
	}
	db, err := openStore(filepath.Join(c.cfg.DataDir, "consumer-"+c.cfg.ID+".db"))
	if err != nil {
		return err
	}
	c.db = db
	if c.seq, err = loadSeq(db); err != nil {
		db.Close()
		return fmt.Errorf("consumer: %v", err)
	}
	if err := c.loadPending(); err != nil {
		db.Close()
		return err
	}
	if c.cfg.Conn != nil {
		c.nats = &daemon.NATS{Conn: c.cfg.Conn}
	} else if c.nats, err = daemon.DialNATS(daemon.Dial{URL: c.cfg.NATS, DataDir: c.cfg.DataDir, Port: c.cfg.NATSPort,
		Name: "consumer-" + c.cfg.ID, Log: c.log, Identity: natsauth.Identity{Role: natsauth.RoleConsumer, ID: c.cfg.ID},
		Auth: c.cfg.NATSAuth, Network: c.net, Rand: rand.Reader}); err != nil {
		db.Close()
		return err
	}
	if c.js, err = jetstream.New(c.nats.Conn); err != nil {
		return c.fail(fmt.Errorf("consumer: jetstream: %v", err))
	}
	sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := c.ensureStreams(sctx); err != nil {
		return c.fail(err)
	}
	if err := c.startCoordinator(sctx); err != nil {
		return c.fail(err)
	}
	occ := jetstream.OrderedConsumerConfig{FilterSubjects: []string{c.net.AggregateSubject(c.me)}, DeliverPolicy: jetstream.DeliverAllPolicy}
	if c.seq > 0 {
		occ.DeliverPolicy, occ.OptStartSeq = jetstream.DeliverByStartSequencePolicy, c.seq+1
	}
	cons, err := c.js.OrderedConsumer(sctx, c.net.Config.Streams.Aggregates, occ)
	if err != nil {
		return c.fail(fmt.Errorf("consumer: consumer on %s: %v%s", c.net.Config.Streams.Aggregates, err, streamHint(err)))
	}
	it, err := cons.Messages(jetstream.PullHeartbeat(time.Second))
	if err != nil {
		return c.fail(fmt.Errorf("consumer: consume: %v", err))
	}
	extra := map[string]http.Handler{"/results": http.HandlerFunc(c.serveResults)}
	if !c.cfg.NoHTTP {
		if c.http, err = daemon.ServeHTTP(c.cfg.HTTP, c.reg, c.healthy, extra); err != nil {
			it.Stop()
			return c.fail(err)
		}
	}
	c.log.Info("consumer started", "rules", len(c.rules), "resume_seq", c.seq+1, "http", c.HTTPAddr())
	rctx, rcancel := context.WithCancel(context.Background())
	c.cancel = rcancel
	c.wg.Add(1)
	go func() { defer c.wg.Done(); c.consume(rctx, it) }()
	close(c.ready)
	return nil
}

func (c *Consumer) fail(err error) error {
	if c.nats != nil && c.cfg.Conn == nil {
		c.nats.Close()
	}
	c.db.Close()
	return err
}

func (c *Consumer) setErr(err error) {
	c.mu.Lock()
	c.err = err
	c.mu.Unlock()
}

func (c *Consumer) healthy() error {
	select {
	case <-c.ready:
	default:
		return daemon.ErrNotReady
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// Ready is closed once Start has succeeded.
func (c *Consumer) Ready() <-chan struct{} { return c.ready }

// Done is closed once every window of this consumer's rules has a final
// result (never, for an unbounded epoch).
func (c *Consumer) Done() <-chan struct{} { return c.done }

// HTTPAddr returns the address serving /results, /metrics and /healthz.
func (c *Consumer) HTTPAddr() string {
	if c.http == nil {
		return ""
	}
	return c.http.Addr()
}

// Healthy returns nil while the daemon runs without error, [daemon.ErrNotReady]
// before Start has succeeded, else the error that stopped part of it.
func (c *Consumer) Healthy() error { return c.healthy() }

// Shutdown stops reading and closes the store and connection.
func (c *Consumer) Shutdown(ctx context.Context) error {
	if c.cancel != nil {
		c.cancel()
	}
	c.wg.Wait()
	var errs []error
	if c.http != nil {
		errs = append(errs, c.http.Shutdown(ctx))
	}
	if c.nats != nil && c.cfg.Conn == nil {
		c.nats.Close()
	}
	if c.db != nil {
		errs = append(errs, c.db.Close())
	}
	return errors.Join(errs...)
}

func (c *Consumer) serveResults(w http.ResponseWriter, r *http.Request) {
	res, err := c.Results()
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	writeResults(w, r, res)
}

// writeResults writes res as JSON, filtered by ?rule=.
func writeResults(w http.ResponseWriter, r *http.Request, res []Result) {
	if rule := r.URL.Query().Get("rule"); rule != "" {
		kept := res[:0]
		for _, x := range res {
			if x.Rule == rule {
				kept = append(kept, x)
			}
		}
		res = kept
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(res)
}

// Run starts a consumer from cfg and runs it until ctx ends.
func Run(ctx context.Context, cfg Config) error {
	c, err := New(cfg)
	if err != nil {
		return err
	}
	if err := c.Start(ctx); err != nil {
		return err
	}
	<-ctx.Done()
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return c.Shutdown(sctx)
}

// ensureStreams declares the streams unless an admin does (SkipStreams).
func (c *Consumer) ensureStreams(ctx context.Context) error {
	if c.cfg.SkipStreams || c.nats.StreamsDeclared {
		return nil
	}
	return natsx.EnsureStreams(ctx, c.js, c.net)
}

// streamHint explains a missing stream.
func streamHint(err error) string {
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		return "; declare the streams first (an admin, or any daemon started without --skip-streams)"
	}
	return ""
}
