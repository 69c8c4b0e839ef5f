// Package ppn is the Privacy Preserving Node daemon.
//
// A PPN reads the bundle stream in order with an ordered JetStream
// consumer, opens its part of each bundle (package seal: AES-128-GCM under
// the pairwise key of (producer, PPN), nonce bound to epoch, round and
// chunk, the bundle header as associated data) and adds each share to the
// accumulator of every (rule, window) the meter belongs to. It never sees a
// reading: a share f_m(x_n) of one polynomial of degree < t reveals nothing
// about µ_m = f_m(0) to fewer than t PPNs. A rule with a time-of-use band
// takes a share only for rounds in its band (netconfig.ResolvedRule.Row);
// its coverage counts in-band (meter, round) slots only, so a meter is not
// missing for a round outside the band.
//
// # Rounds and seals
//
// Round τ closes at the first authentic seal marker for any round ≥ τ in
// stream order. Every PPN whose clock passes the deadline (end of round
// plus grace) appends one; all PPNs read the same stream, so they agree on
// which bundles each round contains without agreeing on a clock. A seal is
// authentic for this PPN when it arrives on the seal subject and carries a
// valid tag for this PPN under the pairwise key of this PPN and the sealer
// (package seal, purpose seal; [SealMarker]); any other seal is rejected
// (reason forged_seal, subject or length) and does not count, so a forged
// seal earlier in the stream cannot stop the genuine one. Every PPN checks
// only its own tag, so PPNs agree on a seal exactly when its sealer tagged
// honestly for all of them, which any PPN of the epoch is trusted to do.
// A bundle for a sealed round whose part opens is late: counted (metric
// and log), never added; one whose part does not open is rejected as
// forged, whatever its round. A (meter,
// round) already added to a window is a duplicate: counted once. When the
// last round of a window is sealed, the PPN emits the window's aggregated
// share, sealed for the rule's consumer, with the coverage (missing (meter,
// round) slots as runs) and its digest (package wire).
//
// # Exactly once
//
// The accumulators, the seal point, the emitted aggregates and the last
// stream sequence applied are committed in one bbolt transaction, every
// CommitEvery messages, whenever the stream is idle, and at every seal. On
// restart the PPN loads the committed state and resumes the stream at
// sequence seq+1: messages after the last commit are applied again, onto
// the state from before them, so nothing is lost or counted twice.
// Aggregates leave through an outbox (package outbox) with message ids, so
// a crash between publish and delete cannot duplicate them either.
//
// # Stream gaps
//
// Messages removed from the bundle stream before the PPN applied them (a
// purge, or streams.max_age/max_bytes while it was down) show as a
// sequence past its position, at resume or on a delivery. The PPN reports
// the gap (log, metrics, /healthz) and withholds every window touching the
// rounds the lost messages may have carried, rather than emit a share that
// might combine into a wrong value; gap.go explains the bound and why.
package ppn

import (
	"context"
	"crypto/ecdh"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
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
	"github.com/ppnet/ppnet/sharing"
)

// Config configures a PPN. YAML fields can come from a file, flags
// override; yaml:"-" fields are for embedding and tests.
type Config struct {
	Network     string `yaml:"network"`      // network configuration file
	KV          string `yaml:"kv"`           // follow the epochs in this key-value bucket instead (needs NATS); see Follow
	ID          string `yaml:"id"`           // this PPN's id in the network configuration
	KeyFile     string `yaml:"key_file"`     // file holding the base64 X25519 private key
	NATS        string `yaml:"nats"`         // NATS URL; empty runs an embedded server
	NATSPort    int    `yaml:"nats_port"`    // embedded server port (−1: any)
	DataDir     string `yaml:"data_dir"`     // state (bbolt) and embedded NATS store
	SkipStreams bool   `yaml:"skip_streams"` // streams are declared by an admin (roles with NATS permissions cannot); do not declare them
	// NATSAuth are the NATS credentials (nats_key, nats_ca) and, for the
	// embedded server, its users and TLS files (docs/security.md).
	NATSAuth    daemon.NATSAuth `yaml:",inline"`
	HTTP        string          `yaml:"http"`         // metrics/healthz address (default 127.0.0.1:0)
	CommitEvery int             `yaml:"commit_every"` // messages per state commit under load (default 1024)

	Net      *netconfig.Network   `yaml:"-"`
	Key      *ecdh.PrivateKey     `yaml:"-"`
	Conn     *nats.Conn           `yaml:"-"`
	Logger   *slog.Logger         `yaml:"-"`
	Now      func() time.Time     `yaml:"-"`
	Registry *prometheus.Registry `yaml:"-"`
	// NoHTTP serves no HTTP endpoint: an epoch supervisor (internal/epochs)
	// serves /metrics and /healthz for all its instances.
	NoHTTP bool `yaml:"-"`
	// NoSealer disables this PPN's seal timer: it still applies seals
	// appended by others. Tests use it to place seals themselves.
	NoSealer bool `yaml:"-"`
	// Crash makes the PPN commit only at seals and every CommitEvery
	// messages (not when idle) and makes Shutdown drop what was applied
	// since the last commit, as a process killed between commits would:
	// for tests of exactly-once recovery.
	Crash bool `yaml:"-"`
	// Tamper, if set, may change the values of each aggregate before it is
	// sealed: fault injection for tests of a lying PPN. Never set it in
	// production.
	Tamper func(rule string, window uint64, vals []sharing.Element) `yaml:"-"`
}

// PPN is a running privacy preserving node.
type PPN struct {
	cfg        Config
	net        *netconfig.Network
	me         int
	log        *slog.Logger
	now        func() time.Time
	reg        *prometheus.Registry
	m          *metrics
	ring       *seal.Keyring
	rules      []int        // rules this PPN serves
	meterRules [][]ruleSlot // per meter: (rule, position) for the rules above

	nats *daemon.NATS
	js   jetstream.JetStream
	db   *bolt.DB
	http *daemon.HTTP

	st          *state // owned by the consume goroutine
	plain, aad  []byte
	macIn       []byte // seal MAC input, reused
	shares      []sharing.Element
	wins        []*window // per rule: the window of the bundle being added
	rows        []int64   // per rule: 0 unbound, −1 out of band, else 1 + the first slot of the bundle's row
	sealedNext  atomic.Uint64
	holdSeals   atomic.Int64  // unix nanoseconds before which no seal is appended (set on reconnect)
	applied     atomic.Uint64 // last stream sequence applied
	committed   atomic.Uint64 // last stream sequence committed
	sealedPoke  chan struct{}
	outboxPoke  chan struct{}
	ready, done chan struct{}
	cancel      context.CancelFunc
	wg          sync.WaitGroup
	gapReported uint64 // last sequence of a stream gap reported (owned by the consume goroutine)
	mu          sync.Mutex
	err         error
	gapErr      error // a stream gap, for /healthz (gap.go)
}

func (c *Config) logger() *slog.Logger {
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c.Logger
}

// New checks cfg and loads what it names; Start runs the PPN.
func New(cfg Config) (*PPN, error) {
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
	if cfg.CommitEvery <= 0 {
		cfg.CommitEvery = 1024
	}
	if cfg.DataDir == "" {
		return nil, errors.New("ppn: no data directory; set --data")
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
	me, err := cfg.Net.PPNIndex(cfg.ID)
	if err != nil {
		return nil, err
	}
	if !cfg.Key.PublicKey().Equal(cfg.Net.PPNKeys[me]) {
		return nil, fmt.Errorf("ppn: key file does not match PPN %q's public key in the network configuration", cfg.ID)
	}
	p := &PPN{cfg: cfg, net: cfg.Net, me: me, log: cfg.Logger.With("ppn", cfg.ID), now: cfg.Now, reg: cfg.Registry,
		sealedPoke: make(chan struct{}, 1), outboxPoke: make(chan struct{}, 1),
		ready: make(chan struct{}), done: make(chan struct{})}
	p.m = newMetrics(p.reg)
	p.ring = seal.NewKeyring(cfg.Key, cfg.Net.Config.Epoch)
	for i, k := range cfg.Net.ProducerKeys {
		p.ring.AddPeer(seal.PurposePart, i, k)
	}
	for i, k := range cfg.Net.ConsumerKeys {
		p.ring.AddPeer(seal.PurposeAggregate, i, k)
	}
	addSealPeers(p.ring, cfg.Net)
	p.meterRules = make([][]ruleSlot, len(cfg.Net.Meters))
	for ri, r := range cfg.Net.Rules {
		if !contains(r.PPNs, me) {
			continue
		}
		p.rules = append(p.rules, ri)
		for pos, m := range r.Meters {
			p.meterRules[m] = append(p.meterRules[m], ruleSlot{int32(ri), int32(pos)})
		}
	}
	return p, nil
}

func contains(s []int, v int) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// Start opens the state, connects, declares the streams and starts the
// stream reader, the seal timer and the aggregate sender.
func (p *PPN) Start(ctx context.Context) error {
	if err := os.MkdirAll(p.cfg.DataDir, 0o700); err != nil {
		return fmt.Errorf("ppn: %v", err)
	}
	db, err := openStore(filepath.Join(p.cfg.DataDir, "ppn-"+p.cfg.ID+".db"))
	if err != nil {
		return err
	}
	p.db = db
	p.st, err = load(db, func(rule int) (int, uint32, bool) {
		if !contains(p.rules, rule) {
			return 0, 0, false
		}
		return p.net.Rules[rule].Values, p.net.Rules[rule].Slots, true
	})
	if err != nil {
		db.Close()
		return err
	}
	if len(p.st.lost) > 0 {
		sp := p.st.lost[len(p.st.lost)-1]
		p.setGapErr(fmt.Errorf("ppn: a bundle stream gap found before this start lost bundles of rounds up to %d; this PPN withholds its aggregates for windows touching them (docs/network.md \"Retention\")", sp.hi-1))
	}
	p.sealedNext.Store(p.st.sealed)
	p.applied.Store(p.st.seq)
	p.committed.Store(p.st.seq)
	if p.cfg.Conn != nil {
		p.nats = &daemon.NATS{Conn: p.cfg.Conn}
	} else if p.nats, err = daemon.DialNATS(daemon.Dial{URL: p.cfg.NATS, DataDir: p.cfg.DataDir, Port: p.cfg.NATSPort,
		Name: "ppn-" + p.cfg.ID, Log: p.log, Identity: natsauth.Identity{Role: natsauth.RolePPN, ID: p.cfg.ID},
		Auth: p.cfg.NATSAuth, Network: p.net, Rand: rand.Reader}); err != nil {
		db.Close()
		return err
	}
	if p.js, err = jetstream.New(p.nats.Conn); err != nil {
		return p.fail(fmt.Errorf("ppn: jetstream: %v", err))
	}
	sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := p.ensureStreams(sctx); err != nil {
		return p.fail(err)
	}
	cons, err := p.js.OrderedConsumer(sctx, p.net.Config.Streams.Bundles, p.consumerConfig())
	if err != nil {
		return p.fail(fmt.Errorf("ppn: consumer on %s: %v%s", p.net.Config.Streams.Bundles, err, streamHint(err)))
	}
	it, err := cons.Messages(jetstream.PullMaxMessages(1024), jetstream.PullHeartbeat(time.Second))
	if err != nil {
		return p.fail(fmt.Errorf("ppn: consume %s: %v", p.net.Config.Streams.Bundles, err))
	}
	p.checkResume(cons.CachedInfo())
	if !p.cfg.NoHTTP {
		if p.http, err = daemon.ServeHTTP(p.cfg.HTTP, p.reg, p.healthy, nil); err != nil {
			it.Stop()
			return p.fail(err)
		}
	}
	// Logged before the goroutines start: p.st belongs to consume from then on.
	p.log.Info("ppn started", "rules", len(p.rules), "resume_seq", p.st.seq+1, "sealed_through", int64(p.st.sealed)-1, "http", p.HTTPAddr())
	rctx, rcancel := context.WithCancel(context.Background())
	p.cancel = rcancel
	daemon.OnReconnect(rctx, p.nats.Conn, p.holdAfterReconnect)
	p.wg.Add(3)
	go func() { defer p.wg.Done(); p.consume(rctx, it) }()
	go func() { defer p.wg.Done(); p.send(rctx) }()
	go func() {
		defer p.wg.Done()
		if !p.cfg.NoSealer {
			p.sealer(rctx)
		}
	}()
	close(p.ready)
	return nil
}

func (p *PPN) consumerConfig() jetstream.OrderedConsumerConfig {
	c := jetstream.OrderedConsumerConfig{DeliverPolicy: jetstream.DeliverAllPolicy}
	if p.st.seq > 0 {
		c.DeliverPolicy = jetstream.DeliverByStartSequencePolicy
		c.OptStartSeq = p.st.seq + 1
	}
	return c
}

func (p *PPN) fail(err error) error {
	if p.nats != nil && p.cfg.Conn == nil {
		p.nats.Close()
	}
	p.db.Close()
	return err
}

func (p *PPN) setErr(err error) {
	p.mu.Lock()
	p.err = err
	p.mu.Unlock()
}

func (p *PPN) healthy() error {
	select {
	case <-p.ready:
	default:
		return daemon.ErrNotReady
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.err != nil {
		return p.err
	}
	return p.gapErr
}

// Ready is closed once Start has succeeded.
func (p *PPN) Ready() <-chan struct{} { return p.ready }

// Done is closed once every round of a bounded epoch is sealed and every
// aggregate acknowledged.
func (p *PPN) Done() <-chan struct{} { return p.done }

// HTTPAddr returns the metrics/healthz address.
func (p *PPN) HTTPAddr() string {
	if p.http == nil {
		return ""
	}
	return p.http.Addr()
}

// Healthy returns nil while the daemon runs without error, [daemon.ErrNotReady]
// before Start has succeeded, else the error that stopped part of it.
func (p *PPN) Healthy() error { return p.healthy() }

// Position returns the last bundle-stream sequence applied and the last
// one committed; after a crash the PPN resumes at committed+1.
func (p *PPN) Position() (applied, committed uint64) { return p.applied.Load(), p.committed.Load() }

// Registry returns the PPN's metrics registry.
func (p *PPN) Registry() *prometheus.Registry { return p.reg }

// Shutdown stops reading (committing what was applied), stops the timers
// and the sender, and closes the state and connection.
func (p *PPN) Shutdown(ctx context.Context) error {
	if p.cancel != nil {
		p.cancel()
	}
	p.wg.Wait()
	if p.cancel != nil {
		// The stream reader's last commit is done: this is where a restart resumes.
		p.log.Info("ppn stopped", "committed_seq", p.committed.Load(), "sealed_through", int64(p.sealedNext.Load())-1)
	}
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

// Run starts a PPN from cfg and runs it until ctx ends.
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
func (p *PPN) ensureStreams(ctx context.Context) error {
	if p.cfg.SkipStreams || p.nats.StreamsDeclared {
		return nil
	}
	return natsx.EnsureStreams(ctx, p.js, p.net)
}

// streamHint explains a missing stream.
func streamHint(err error) string {
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		return "; declare the streams first (an admin, or any daemon started without --skip-streams)"
	}
	return ""
}
