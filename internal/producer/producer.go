// Package producer is the ppnet producer daemon: one meter, or a
// concentrator for many meters.
//
// Per round τ, once the round has ended (t ≥ t0 + (τ+1)·D), it reads every
// meter's reading µ_m, draws one polynomial f_m of degree < t per meter
// (sharing.Splitter) and evaluates it at every PPN; for each PPN n it seals
// the shares f_m(x_n) of the meters serving n under the pairwise key of
// (producer, n) (package seal) and publishes one bundle per chunk of meters
// to the bundle stream (package wire). Readings and the encoded bundles are
// committed to the producer's bbolt history before anything is sent, so a
// resend after a crash or a NATS outage repeats the same bytes: the AEAD
// nonce (epoch, round, chunk) never seals two plaintexts. A sender goroutine
// publishes the outbox asynchronously with Nats-Msg-Id
// "b.<epoch>.<producer>.<round>.<chunk>" (the stream drops duplicates) and
// retries until JetStream acknowledges.
package producer

import (
	"context"
	"crypto/ecdh"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	bolt "go.etcd.io/bbolt"

	"github.com/ppnet/ppnet/internal/daemon"
	"github.com/ppnet/ppnet/internal/natsauth"
	"github.com/ppnet/ppnet/internal/natsx"
	"github.com/ppnet/ppnet/internal/netconfig"
	"github.com/ppnet/ppnet/internal/seal"
)

// Config configures a producer. The YAML fields can be set from a file;
// flags override them. The fields tagged yaml:"-" are for embedding.
type Config struct {
	Network     string `yaml:"network"`      // network configuration file
	KV          string `yaml:"kv"`           // follow the epochs in this key-value bucket instead (needs NATS); see Follow
	ID          string `yaml:"id"`           // producer id in the network configuration
	KeyFile     string `yaml:"key_file"`     // file holding the base64 X25519 private key
	NATS        string `yaml:"nats"`         // NATS URL; empty runs an embedded server
	NATSPort    int    `yaml:"nats_port"`    // embedded server port (−1: any)
	DataDir     string `yaml:"data_dir"`     // history (bbolt) and embedded NATS store
	SkipStreams bool   `yaml:"skip_streams"` // streams are declared by an admin (roles with NATS permissions cannot); do not declare them
	// NATSAuth are the NATS credentials (nats_key, nats_ca) and, for the
	// embedded server, its users and TLS files (docs/security.md).
	NATSAuth daemon.NATSAuth `yaml:",inline"`
	HTTP     string          `yaml:"http"` // metrics/healthz address (default 127.0.0.1:0)
	Seed     uint64          `yaml:"seed"` // household model seed for the synthetic source
	// ReadingsFile replays a meterdata CSV (meter,start,wh) instead of the
	// synthetic households; the interval starting at ReadingsStart (default:
	// the file's earliest) + τ·ReadingsInterval (default 15m) is global
	// round τ (rounds.first + the epoch's own round: see netconfig.Rounds).
	ReadingsFile     string        `yaml:"readings_file"`
	ReadingsStart    time.Time     `yaml:"readings_start"`
	ReadingsInterval time.Duration `yaml:"readings_interval"`
	From             int64         `yaml:"from"` // first round to produce; −1 (default) starts at the current round

	Net      *netconfig.Network   `yaml:"-"` // resolved network (else loaded from Network)
	Key      *ecdh.PrivateKey     `yaml:"-"` // private key (else read from KeyFile)
	Source   Source               `yaml:"-"` // readings (else the household model with Seed)
	Readings io.Writer            `yaml:"-"` // if set, "meter,round,wh" lines (global rounds: rounds.first + τ) are written here as readings are taken
	Conn     *nats.Conn           `yaml:"-"` // NATS connection to use (else dialled)
	Logger   *slog.Logger         `yaml:"-"`
	Now      func() time.Time     `yaml:"-"`
	Rand     io.Reader            `yaml:"-"` // share randomness (default crypto/rand)
	Registry *prometheus.Registry `yaml:"-"` // metrics registry (default a fresh one)
	// MaskingFile (`masking:`, or the --mask flags) turns the FDDM masking
	// job on from a file; Masking, set by an embedder, takes precedence.
	MaskingFile *MaskingConfig `yaml:"masking"`
	// FedAvg (`fedavg:`) makes the producer a FedAvg participant; it needs
	// Participate (cmd/producer sets fednet.Participate).
	FedAvg      *FedAvg     `yaml:"fedavg"`
	Participate Participate `yaml:"-"`
	// Masking, if set, runs the FDDM masking job (masking.go): after a
	// billing period's close, mask its rounds of the stored history.
	Masking *Masking `yaml:"-"`
	// NoHTTP serves no HTTP endpoint: an epoch supervisor (internal/epochs)
	// serves /metrics and /healthz for all its instances.
	NoHTTP bool `yaml:"-"`
}

// Producer is a running producer.
type Producer struct {
	cfg   Config
	net   *netconfig.Network
	idx   int
	log   *slog.Logger
	now   func() time.Time
	reg   *prometheus.Registry
	m     *metrics
	ring  *seal.Keyring
	build *builder

	nats *daemon.NATS
	js   jetstream.JetStream
	db   *bolt.DB
	http *daemon.HTTP

	ready, done    chan struct{}
	poke           chan struct{}
	cancel         context.CancelFunc
	wg             sync.WaitGroup
	mu             sync.Mutex
	finishedRounds atomic.Bool
	masker         masker // the masking job's state (masking.go)
	fedStop        func() // releases the FedAvg source, if any
	err            error
}

func (c *Config) logger() *slog.Logger {
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c.Logger
}

// New checks cfg and loads what it names; Start runs the producer.
func New(cfg Config) (*Producer, error) {
	cfg.logger()
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.Reader
	}
	if cfg.Registry == nil {
		cfg.Registry = daemon.NewRegistry()
	}
	if cfg.HTTP == "" {
		cfg.HTTP = "127.0.0.1:0"
	}
	if cfg.DataDir == "" {
		return nil, errors.New("producer: no data directory; set --data")
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
	idx, err := cfg.Net.ProducerIndex(cfg.ID)
	if err != nil {
		return nil, err
	}
	if !cfg.Key.PublicKey().Equal(cfg.Net.ProducerKeys[idx]) {
		return nil, fmt.Errorf("producer: key file does not match producer %q's public key in the network configuration", cfg.ID)
	}
	switch {
	case cfg.Source != nil:
	case cfg.ReadingsFile != "":
		if cfg.Source, err = LoadCSVSource(cfg.ReadingsFile, cfg.Net.Meters, cfg.ReadingsStart, cfg.ReadingsInterval); err != nil {
			return nil, err
		}
	default:
		if cfg.Source, err = NewHouseholdSource(nil, cfg.Seed); err != nil {
			return nil, err
		}
	}
	if cfg.Masking == nil && cfg.MaskingFile != nil {
		if cfg.Masking, err = cfg.MaskingFile.Masking(); err != nil {
			return nil, err
		}
	}
	p := &Producer{cfg: cfg, net: cfg.Net, idx: idx, log: cfg.Logger.With("producer", cfg.ID), now: cfg.Now,
		reg: cfg.Registry, ready: make(chan struct{}), done: make(chan struct{}), poke: make(chan struct{}, 1)}
	p.m = newMetrics(p.reg)
	p.ring = seal.NewKeyring(cfg.Key, cfg.Net.Config.Epoch)
	for i, k := range cfg.Net.PPNKeys {
		p.ring.AddPeer(seal.PurposePart, i, k)
	}
	if p.build, err = newBuilder(p.net, idx, p.ring, cfg.Rand); err != nil {
		return nil, err
	}
	return p, nil
}

// Start connects, declares the streams, opens the history and starts the
// round loop and the sender. It returns once they run.
func (p *Producer) Start(ctx context.Context) error {
	if err := os.MkdirAll(p.cfg.DataDir, 0o700); err != nil {
		return fmt.Errorf("producer: %v", err)
	}
	db, err := openStore(filepath.Join(p.cfg.DataDir, "producer-"+p.cfg.ID+".db"))
	if err != nil {
		return err
	}
	p.db = db
	if p.cfg.Conn != nil {
		p.nats = &daemon.NATS{Conn: p.cfg.Conn}
	} else if p.nats, err = daemon.DialNATS(daemon.Dial{URL: p.cfg.NATS, DataDir: p.cfg.DataDir, Port: p.cfg.NATSPort,
		Name: "producer-" + p.cfg.ID, Log: p.log, Identity: natsauth.Identity{Role: natsauth.RoleProducer, ID: p.cfg.ID},
		Auth: p.cfg.NATSAuth, Network: p.net, Rand: rand.Reader}); err != nil {
		p.db.Close()
		return err
	}
	if p.js, err = jetstream.New(p.nats.Conn, jetstream.WithPublishAsyncMaxPending(256)); err != nil {
		return p.fail(fmt.Errorf("producer: jetstream: %v", err))
	}
	sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	err = p.ensureStreams(sctx)
	cancel()
	if err != nil {
		return p.fail(err)
	}
	if !p.cfg.NoHTTP {
		if p.http, err = daemon.ServeHTTP(p.cfg.HTTP, p.reg, p.healthy, map[string]http.Handler{"/history": p.HistoryHandler()}); err != nil {
			return p.fail(err)
		}
	}
	if err := p.startFedAvg(ctx); err != nil {
		if p.http != nil {
			_ = p.http.Shutdown(ctx)
		}
		return p.fail(err)
	}
	p.runLoops()
	if err := p.startMasking(); err != nil {
		p.cancel()
		p.wg.Wait()
		if p.http != nil {
			_ = p.http.Shutdown(ctx)
		}
		return p.fail(err)
	}
	close(p.ready)
	p.log.Info("producer started", "meters", len(p.net.ProducerMeters[p.idx]), "http", p.HTTPAddr())
	return nil
}

// runLoops starts the round loop and the sender (again, after the masking
// job has compacted the history).
func (p *Producer) runLoops() {
	rctx, cancel := context.WithCancel(context.Background())
	p.cancel = cancel
	daemon.OnReconnect(rctx, p.nats.Conn, func() {
		select {
		case p.poke <- struct{}{}:
		default:
		}
	})
	p.wg.Add(2)
	go func() { defer p.wg.Done(); p.sender(rctx) }()
	go func() { defer p.wg.Done(); p.rounds(rctx) }()
}

func (p *Producer) fail(err error) error {
	if p.nats != nil && p.cfg.Conn == nil {
		p.nats.Close()
	}
	p.db.Close()
	return err
}

func (p *Producer) healthy() error {
	select {
	case <-p.ready:
	default:
		return daemon.ErrNotReady
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.err
}

// Ready is closed once Start has succeeded.
func (p *Producer) Ready() <-chan struct{} { return p.ready }

// Done is closed when every round of the epoch has been produced and
// acknowledged (never, for an unbounded epoch).
func (p *Producer) Done() <-chan struct{} { return p.done }

// HTTPAddr returns the metrics/healthz address.
func (p *Producer) HTTPAddr() string {
	if p.http == nil {
		return ""
	}
	return p.http.Addr()
}

// Healthy returns nil while the daemon runs without error, [daemon.ErrNotReady]
// before Start has succeeded, else the error that stopped part of it.
func (p *Producer) Healthy() error { return p.healthy() }

// Shutdown stops the loops, waits for them, and closes the history and the
// connection (and the embedded server, if this producer started one).
func (p *Producer) Shutdown(ctx context.Context) error {
	p.stopMasking()
	if p.cancel != nil {
		p.cancel()
	}
	if p.fedStop != nil {
		p.fedStop() // releases a round waiting for a global model
	}
	p.wg.Wait()
	var errs []error
	if p.http != nil {
		errs = append(errs, p.http.Shutdown(ctx))
	}
	if p.nats != nil && p.cfg.Conn == nil {
		p.nats.Close()
	}
	if p.db != nil {
		errs = append(errs, p.db.Close())
	}
	return errors.Join(errs...)
}

// Run starts a producer from cfg and runs it until ctx ends.
func Run(ctx context.Context, cfg Config) error {
	p, err := New(cfg)
	if err != nil {
		return err
	}
	if err := p.Start(ctx); err != nil {
		return err
	}
	<-ctx.Done()
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return p.Shutdown(sctx)
}

// ensureStreams declares the streams unless an admin does (SkipStreams).
func (p *Producer) ensureStreams(ctx context.Context) error {
	if p.cfg.SkipStreams || p.nats.StreamsDeclared {
		return nil
	}
	return natsx.EnsureStreams(ctx, p.js, p.net)
}
