// Package billingd is the billing consumer daemon: a ppnet consumer whose
// per-producer rule results become customer bills.
//
// It embeds a consumer (package consumer) — or reads the results of one
// the caller runs — and, for every billing period P = [first, last] round,
// waits until each configured per-producer rule has a final result for
// every window inside P. It then sums each meter's windows into one
// bill.Totals per rule (Wh, rounds covered, rounds missing, and a digest of
// the windows' coverage digests) and calls billing.Service.IssuePeriod,
// which prices the bills, applies the missing-data policy (estimate at ≥ 75%
// coverage, else hold; never bill a missing reading as zero) and queues the
// notifications in the outbox. The daemon runs the outbox, serves the
// billing web UI (package billing/web), its JSON API, the period status at
// /api/billing/periods, /metrics and /healthz.
//
// Time-of-use: a per-producer rule with a band (netconfig.Band) yields
// bill.Totals for that band (its name is the tariff band, e.g. "peak"),
// with coverage counted over the band's rounds only. A customer on a
// time-of-use schedule is billed from one such total per band of the
// schedule; a flat-rate customer from the all-rounds rule. Both kinds are
// billed in one period when the consumer has both kinds of rule.
//
// Meters map to customers through the customer registry (each customer
// names its meter id). Windows of a rule must tile each period (a daily
// window of 96 rounds tiles a calendar month of 15-minute rounds); the
// default periods are the calendar months of the round clock in India time.
//
// Notifications go to the DLT SMS gateway and the SMTP server configured in
// Config.SMS and Config.Email (secrets read from files), or to senders an
// embedder passes in; for demos SinkDir writes each one as a file instead
// (FileSender), clearly labelled as not sent. A channel without a sender is
// logged as a warning at start and shows as 0 in
// ppnet_billing_notification_channel. docs/billing.md describes the running daemon and the devnet
// demo.
package billingd

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	bolt "go.etcd.io/bbolt"

	"github.com/ppnet/ppnet/internal/billing"
	"github.com/ppnet/ppnet/internal/billing/bill"
	"github.com/ppnet/ppnet/internal/billing/notify"
	"github.com/ppnet/ppnet/internal/billing/web"
	"github.com/ppnet/ppnet/internal/consumer"
	"github.com/ppnet/ppnet/internal/daemon"
	"github.com/ppnet/ppnet/internal/netconfig"
)

// Source is what the daemon bills from: a consumer's stored results.
// *consumer.Consumer implements it.
type Source interface {
	Results() ([]consumer.Result, error)
}

// Config configures the billing daemon; yaml:"-" fields are for embedding.
type Config struct {
	Consumer  consumer.Config          `yaml:"consumer"`  // the embedded ppnet consumer (unless Source is set)
	DataDir   string                   `yaml:"data_dir"`  // billing.db, pay.key, contact.key, officers/
	HTTP      string                   `yaml:"http"`      // UI, API, /metrics, /healthz (default 127.0.0.1:0)
	Rules     []RuleBand               `yaml:"rules"`     // default: the consumer's per-producer rules, each billed as its band (all rounds without one)
	Periods   []Period                 `yaml:"periods"`   // default: calendar months of the round clock (IST)
	Utility   string                   `yaml:"utility"`   // issuer printed on bills
	PayBase   string                   `yaml:"pay_base"`  // payment link base URL (default http://<HTTP address>)
	Tariff    string                   `yaml:"tariff"`    // tariff of synthetic customers (default kerc-lt2a-fy2025-26)
	Customers string                   `yaml:"customers"` // customer CSV imported on first start (registry empty)
	Synthetic int                      `yaml:"synthetic"` // else: this many fictitious customers for the first meters, on first start
	SinkDir   string                   `yaml:"sink_dir"`  // demo: write SMS and e-mail as files here instead of sending
	Poll      time.Duration            `yaml:"poll"`      // how often results and the outbox are checked (default 1s)
	Officers  int                      `yaml:"officers"`  // PII reveal key shares made on first start (default 5)
	Quorum    int                      `yaml:"quorum"`    // shares needed to reveal (default 3)
	Policy    bill.Policy              `yaml:"policy"`    // missing-data policy
	Peers     []Peer                   `yaml:"peers"`     // other consumers shown on /network (health, latest aggregates)
	SMS       SMSSettings              `yaml:"sms"`       // DLT SMS HTTP gateway; on when url is set
	Email     EmailSettings            `yaml:"email"`     // SMTP e-mail with the PDF; on when host is set
	OutboxCfg *notify.Options          `yaml:"-"`         // outbox retry settings (nil: defaults)
	Source    Source                   `yaml:"-"`         // results to bill from; nil starts the consumer in Consumer
	Net       *netconfig.Network       `yaml:"-"`
	Senders   map[string]notify.Sender `yaml:"-"` // an embedder's senders, before SMS and Email; SinkDir adds file senders for channels still missing
	Logger    *slog.Logger             `yaml:"-"`
	Now       func() time.Time         `yaml:"-"`
	Rand      io.Reader                `yaml:"-"` // key and nonce randomness (default crypto/rand)
	Registry  *prometheus.Registry     `yaml:"-"`
	// PeriodCloser, if set, is told each issued period (KVCloser: the FDDM
	// bulletin bucket), so meters mask it (periodclose.go).
	PeriodCloser PeriodCloser `yaml:"-"`
	// CloseBucket, if set (--close-bucket, e.g. ppnet_fddm), publishes each
	// final period's close to this FDDM bulletin bucket on the consumer's
	// connection (KVCloser), so that meters with the masking job mask it.
	CloseBucket string `yaml:"close_bucket"`
	// HistoryURL is where the UI fetches a customer's meter's residual
	// (FDDM-masked) history: the producer's GET /history, {meter} replaced
	// by the meter id, e.g. http://producer-c1:9101/history?meter={meter}
	// (--history-url). History, set by an embedder, takes precedence.
	HistoryURL string            `yaml:"history_url"`
	History    web.HistorySource `yaml:"-"`
}

// PeriodStatus is the state of one billing period.
type PeriodStatus struct {
	Period
	State  string          `json:"state"` // "waiting", "issued" or "error"
	Detail string          `json:"detail,omitempty"`
	Report *billing.Report `json:"report,omitempty"`
	Issued time.Time       `json:"issued,omitzero"`
}

// Daemon is a running billing consumer.
type Daemon struct {
	cfg  Config
	net  *netconfig.Network
	log  *slog.Logger
	m    *metrics
	cons *consumer.Consumer // when the daemon runs its own
	src  Source
	db   *bolt.DB
	svc  *billing.Service
	ui   http.Handler
	http *daemon.HTTP

	senders  map[string]notify.Sender // per channel, from Config.Senders, SMS, Email and SinkDir
	channels []Channel

	mu     sync.Mutex
	status []PeriodStatus
	done   chan struct{}
	ready  chan struct{}
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// New checks cfg; Start runs the daemon.
func New(cfg Config) (*Daemon, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
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
	if cfg.Poll <= 0 {
		cfg.Poll = time.Second
	}
	if cfg.Tariff == "" {
		cfg.Tariff = "kerc-lt2a-fy2025-26"
	}
	if cfg.Officers == 0 {
		cfg.Officers, cfg.Quorum = 5, 3
	}
	if cfg.Utility == "" {
		cfg.Utility = "ppnet demo utility"
	}
	if cfg.DataDir == "" {
		return nil, errors.New("billingd: no data directory; set --data")
	}
	d := &Daemon{cfg: cfg, log: cfg.Logger.With("role", "billing"), src: cfg.Source, ready: make(chan struct{}), done: make(chan struct{})}
	var err error
	if d.senders, d.channels, err = cfg.senders(); err != nil {
		return nil, err
	}
	d.checkChannels()
	if cfg.Source == nil {
		cc := cfg.Consumer
		if cc.DataDir == "" {
			cc.DataDir = filepath.Join(cfg.DataDir, "consumer")
		}
		if cc.Net == nil {
			cc.Net = cfg.Net
		}
		if cc.Net == nil {
			n, err := netconfig.Load(cc.Network)
			if err != nil {
				return nil, err
			}
			cc.Net = n
		}
		cc.Logger, cc.Now, cc.Registry = cfg.Logger, cfg.Now, cfg.Registry
		c, err := consumer.New(cc)
		if err != nil {
			return nil, err
		}
		d.cons, d.src, cfg.Consumer = c, c, cc
		cfg.Net = cc.Net
	}
	if cfg.Net == nil {
		return nil, errors.New("billingd: Config.Net is required with Config.Source")
	}
	d.net, d.cfg = cfg.Net, cfg
	if err := d.resolveRules(); err != nil {
		return nil, err
	}
	ps := cfg.Periods
	if len(ps) == 0 {
		var err error
		if ps, err = CalendarPeriods(d.net); err != nil {
			return nil, err
		}
	}
	for _, p := range ps {
		if err := bill.CheckPeriod(p.Name); err != nil {
			return nil, fmt.Errorf("billingd: %w", err)
		}
		if p.LastRound < p.FirstRound {
			return nil, fmt.Errorf("billingd: period %s ends (round %d) before it starts (round %d); fix: last_round ≥ first_round", p.Name, p.LastRound, p.FirstRound)
		}
		for _, rb := range d.cfg.Rules {
			k := d.net.Rules[ruleIndex(d.net, rb.Rule)].K
			starts, straddle := windowsIn(k, p)
			if straddle || len(starts) == 0 {
				return nil, tileError(rb.Rule, k, p)
			}
			if len(starts) > 1 {
				d.log.Warn("billing rule's window is finer than the period: the utility receives more per-meter totals than the bill needs (DESIGN §7: one per-producer window per period)",
					"rule", rb.Rule, "window_rounds", k, "period", p.Name, "windows", len(starts), "fix", fmt.Sprintf("a window of %d rounds", p.LastRound-p.FirstRound+1))
			}
		}
		d.status = append(d.status, PeriodStatus{Period: p, State: "waiting"})
	}
	d.m = newMetrics(cfg.Registry)
	return d, nil
}

// bandName is the tariff band a rule measures: "" for all rounds.
func bandName(r *netconfig.ResolvedRule) string {
	if r.Band == nil {
		return ""
	}
	return r.Band.Name
}

// resolveRules defaults the rules to the consumer's per-producer rules and
// checks each named one is a per-producer rule of the consumer.
func (d *Daemon) resolveRules() error {
	id := d.cfg.Consumer.ID
	if len(d.cfg.Rules) == 0 {
		for _, r := range d.net.Rules {
			if r.Kind == netconfig.KindPerProducer && (id == "" || r.ConsumerID == id) {
				d.cfg.Rules = append(d.cfg.Rules, RuleBand{Rule: r.ID, Band: bandName(&r)})
			}
		}
		if len(d.cfg.Rules) == 0 {
			return fmt.Errorf("billingd: consumer %q has no per-producer rule in the network configuration; fix: add one (kind per-producer, a window dividing the month)", id)
		}
	}
	for k, rb := range d.cfg.Rules {
		i := ruleIndex(d.net, rb.Rule)
		if i < 0 || d.net.Rules[i].Kind != netconfig.KindPerProducer {
			return fmt.Errorf("billingd: rule %q is not a per-producer rule of the network; fix: bill from a per-producer rule", rb.Rule)
		}
		r := &d.net.Rules[i]
		switch {
		case rb.Band == "" && r.Band != nil:
			if d.cfg.Rules[k].Band = bandName(r); d.cfg.Rules[k].Band == "" {
				return fmt.Errorf("billingd: rule %q has a time-of-use band without a name; fix: name the tariff band it measures (band: in the billing rules, or band.name in the network file)", rb.Rule)
			}
		case rb.Band != "" && r.Band == nil:
			return fmt.Errorf("billingd: rule %q covers every round but is billed as band %q; fix: bill band %q from a rule with that time-of-use band", rb.Rule, rb.Band, rb.Band)
		}
		if id != "" && d.net.Rules[i].ConsumerID != id {
			return fmt.Errorf("billingd: rule %q belongs to consumer %q, not %q; fix: run the billing daemon as that consumer", rb.Rule, d.net.Rules[i].ConsumerID, id)
		}
	}
	return nil
}

// Start opens the billing state, registers customers on first start,
// starts the consumer (if it owns one) and the HTTP server, and begins
// billing.
func (d *Daemon) Start(ctx context.Context) error {
	if err := os.MkdirAll(d.cfg.DataDir, 0o700); err != nil {
		return fmt.Errorf("billingd: %v", err)
	}
	var err error
	if d.http, err = daemon.ServeHTTP(d.cfg.HTTP, d.cfg.Registry, d.healthy, map[string]http.Handler{
		"/":                    http.HandlerFunc(d.serveUI),
		"/api/billing/periods": http.HandlerFunc(d.servePeriods),
	}); err != nil {
		return err
	}
	if err := d.open(); err != nil {
		d.stopHTTP()
		return err
	}
	if d.cons != nil {
		if err := d.cons.Start(ctx); err != nil {
			d.stopHTTP()
			d.db.Close()
			return err
		}
	}
	if err := d.bindCloser(ctx); err != nil {
		if d.cons != nil {
			_ = d.cons.Shutdown(ctx)
		}
		d.stopHTTP()
		d.db.Close()
		return err
	}
	d.log.Info("billing consumer started", "ui", "http://"+d.http.Addr()+"/", "periods", len(d.status), "rules", len(d.cfg.Rules))
	rctx, cancel := context.WithCancel(context.Background())
	d.cancel = cancel
	d.wg.Add(1)
	go func() { defer d.wg.Done(); d.loop(rctx) }()
	close(d.ready)
	return nil
}

func (d *Daemon) stopHTTP() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = d.http.Shutdown(ctx)
}

func (d *Daemon) healthy() error {
	select {
	case <-d.ready:
		return nil
	default:
		return daemon.ErrNotReady
	}
}

func (d *Daemon) serveUI(w http.ResponseWriter, r *http.Request) {
	select {
	case <-d.ready:
		d.ui.ServeHTTP(w, r)
	default:
		http.Error(w, "billing: starting", http.StatusServiceUnavailable)
	}
}

// Ready is closed once Start has succeeded.
func (d *Daemon) Ready() <-chan struct{} { return d.ready }

// Done is closed once every configured period is issued and the outbox
// holds no pending notification.
func (d *Daemon) Done() <-chan struct{} { return d.done }

// HTTPAddr is the address of the UI, API, /metrics and /healthz.
func (d *Daemon) HTTPAddr() string { return d.http.Addr() }

// Service is the billing service the daemon runs.
func (d *Daemon) Service() *billing.Service { return d.svc }

// Consumer is the embedded consumer, or nil when the results come from a
// Source the caller runs.
func (d *Daemon) Consumer() *consumer.Consumer { return d.cons }

// Periods returns the state of every billing period.
func (d *Daemon) Periods() []PeriodStatus {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]PeriodStatus(nil), d.status...)
}

// Shutdown stops billing, the consumer and the HTTP server, and closes the
// store.
func (d *Daemon) Shutdown(ctx context.Context) error {
	if d.cancel != nil {
		d.cancel()
	}
	d.wg.Wait()
	var errs []error
	if d.http != nil {
		errs = append(errs, d.http.Shutdown(ctx))
	}
	if d.cons != nil {
		errs = append(errs, d.cons.Shutdown(ctx))
	}
	if d.db != nil {
		errs = append(errs, d.db.Close())
	}
	return errors.Join(errs...)
}

// Run starts a daemon from cfg and runs it until ctx ends.
func Run(ctx context.Context, cfg Config) error {
	d, err := New(cfg)
	if err != nil {
		return err
	}
	if err := d.Start(ctx); err != nil {
		return err
	}
	<-ctx.Done()
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return d.Shutdown(sctx)
}

var _ Source = (*consumer.Consumer)(nil)
