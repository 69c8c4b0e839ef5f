package ppn

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ppnet/ppnet/internal/daemon"
	"github.com/ppnet/ppnet/internal/epochs"
	"github.com/ppnet/ppnet/internal/natsauth"
	"github.com/ppnet/ppnet/internal/netconfig"
)

// Follower runs this PPN in every epoch published to a key-value bucket
// (cfg.KV, the --kv flag): one PPN instance per epoch that lists it, each
// with its state in DataDir/epoch-<n>, on one NATS connection
// (internal/epochs).
type Follower struct {
	*epochs.Supervisor
	nats *daemon.NATS // dialled here, nil when cfg.Conn was given
}

// Follow checks cfg (KV set, Network and Net not) and connects; Start then
// begins watching.
func Follow(cfg Config) (*Follower, error) {
	if cfg.KV == "" || cfg.Network != "" || cfg.Net != nil {
		return nil, errors.New("ppn: Follow needs a bucket (--kv) and no network file (programming error)")
	}
	if cfg.DataDir == "" {
		return nil, errors.New("ppn: no data directory; set --data")
	}
	if cfg.Key == nil {
		var err error
		if cfg.Key, err = daemon.ReadKey(cfg.KeyFile); err != nil {
			return nil, err
		}
	}
	f := &Follower{}
	nc := cfg.Conn
	if nc == nil {
		if cfg.NATS == "" {
			return nil, epochs.CheckFlags("ppn", "", cfg.KV, "")
		}
		log := cfg.logger()
		n, err := daemon.DialNATS(daemon.Dial{URL: cfg.NATS, Name: "ppn-" + cfg.ID, Log: log,
			Identity: natsauth.Identity{Role: natsauth.RolePPN, ID: cfg.ID}, Auth: cfg.NATSAuth, Rand: rand.Reader})
		if err != nil {
			return nil, err
		}
		f.nats, nc = n, n.Conn
	}
	build := func(n *netconfig.Network, dir string, reg *prometheus.Registry) (epochs.Instance, error) {
		if _, err := n.PPNIndex(cfg.ID); err != nil {
			return nil, nil // not a PPN of this epoch
		}
		c := cfg
		c.KV, c.Net, c.DataDir, c.Conn, c.Registry, c.NoHTTP = "", n, dir, nc, reg, true
		p, err := New(c)
		if err != nil {
			return nil, err
		}
		return p, nil
	}
	s, err := epochs.New(epochs.Config{Conn: nc, Bucket: cfg.KV, DataDir: cfg.DataDir, Build: build,
		Name: "ppn/" + cfg.ID, HTTP: cfg.HTTP, Registry: cfg.Registry, Logger: cfg.Logger})
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
		return fmt.Errorf("ppn: %w", err)
	}
	return nil
}

// Shutdown stops every epoch's instance and the connection it dialled.
func (f *Follower) Shutdown(ctx context.Context) error {
	err := f.Supervisor.Shutdown(ctx)
	f.close()
	return err
}

func (f *Follower) close() {
	if f.nats != nil {
		f.nats.Close()
		f.nats = nil
	}
}
