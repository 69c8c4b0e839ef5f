package consumer

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ppnet/ppnet/internal/daemon"
	"github.com/ppnet/ppnet/internal/epochs"
	"github.com/ppnet/ppnet/internal/natsauth"
	"github.com/ppnet/ppnet/internal/netconfig"
)

// Follower runs this consumer in every epoch published to a key-value
// bucket (cfg.KV, the --kv flag): one consumer instance per epoch in which
// it has a rule, each with its store in DataDir/epoch-<n>, on one NATS
// connection (internal/epochs). Its /results serves the results of every
// epoch, each tagged with its epoch and first round; final results of
// every epoch go to cfg.Out as JSON lines.
type Follower struct {
	*epochs.Supervisor
	nats *daemon.NATS // dialled here, nil when cfg.Conn was given
	id   string
}

// lockedWriter serialises the JSON lines of several epochs' instances.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}

// Follow checks cfg (KV set, Network and Net not) and connects; Start then
// begins watching.
func Follow(cfg Config) (*Follower, error) {
	if cfg.KV == "" || cfg.Network != "" || cfg.Net != nil {
		return nil, errors.New("consumer: Follow needs a bucket (--kv) and no network file (programming error)")
	}
	if cfg.DataDir == "" {
		return nil, errors.New("consumer: no data directory; set --data")
	}
	if cfg.Key == nil {
		var err error
		if cfg.Key, err = daemon.ReadKey(cfg.KeyFile); err != nil {
			return nil, err
		}
	}
	f := &Follower{id: cfg.ID}
	nc := cfg.Conn
	if nc == nil {
		if cfg.NATS == "" {
			return nil, epochs.CheckFlags("consumer", "", cfg.KV, "")
		}
		log := cfg.logger()
		n, err := daemon.DialNATS(daemon.Dial{URL: cfg.NATS, Name: "consumer-" + cfg.ID, Log: log,
			Identity: natsauth.Identity{Role: natsauth.RoleConsumer, ID: cfg.ID}, Auth: cfg.NATSAuth, Rand: rand.Reader})
		if err != nil {
			return nil, err
		}
		f.nats, nc = n, n.Conn
	}
	out := &lockedWriter{w: cfg.Out}
	build := func(n *netconfig.Network, dir string, reg *prometheus.Registry) (epochs.Instance, error) {
		me, err := n.ConsumerIndex(cfg.ID)
		if err != nil || !slices.ContainsFunc(n.Rules, func(r netconfig.ResolvedRule) bool { return r.Consumer == me }) {
			return nil, nil // no rule of this consumer in this epoch
		}
		c := cfg
		c.KV, c.Net, c.DataDir, c.Conn, c.Registry, c.NoHTTP, c.TagEpoch = "", n, dir, nc, reg, true, true
		if cfg.Out != nil {
			c.Out = out
		}
		p, err := New(c)
		if err != nil {
			return nil, err
		}
		return p, nil
	}
	s, err := epochs.New(epochs.Config{Conn: nc, Bucket: cfg.KV, DataDir: cfg.DataDir, Build: build,
		Name: "consumer/" + cfg.ID, HTTP: cfg.HTTP, Registry: cfg.Registry, Logger: cfg.Logger,
		Extra: map[string]http.Handler{"/results": http.HandlerFunc(f.serveResults)}})
	if err != nil {
		f.close()
		return nil, err
	}
	f.Supervisor = s
	return f, nil
}

// Start begins watching the bucket.
func (f *Follower) Start(ctx context.Context) error {
	if err := f.Supervisor.Start(ctx); err != nil {
		f.close()
		return fmt.Errorf("consumer: %w", err)
	}
	return nil
}

// Shutdown stops every epoch's instance and the connection it dialled.
func (f *Follower) Shutdown(ctx context.Context) error {
	err := f.Supervisor.Shutdown(ctx)
	f.close()
	return err
}

// Results returns the stored results of every epoch, in epoch order and
// (rule, window) order within one, each tagged with its epoch.
func (f *Follower) Results() ([]Result, error) {
	var all []Result
	var errs []error
	f.Each(func(e epochs.Epoch) {
		var res []Result
		var err error
		switch c, ok := e.Instance.(*Consumer); {
		case ok:
			res, err = c.Results()
		default: // stopped: its store is closed
			path := filepath.Join(e.Dir, "consumer-"+f.id+".db")
			if _, serr := os.Stat(path); serr != nil {
				return // never ran here
			}
			res, err = ReadResults(path)
		}
		all = append(all, res...)
		errs = append(errs, err)
	})
	return all, errors.Join(errs...)
}

func (f *Follower) serveResults(w http.ResponseWriter, r *http.Request) {
	res, err := f.Results()
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	writeResults(w, r, res)
}

func (f *Follower) close() {
	if f.nats != nil {
		f.nats.Close()
		f.nats = nil
	}
}
