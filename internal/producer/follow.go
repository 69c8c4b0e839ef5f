package producer

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ppnet/ppnet/internal/daemon"
	"github.com/ppnet/ppnet/internal/epochs"
	"github.com/ppnet/ppnet/internal/natsauth"
	"github.com/ppnet/ppnet/internal/netconfig"
)

// Follower runs this producer in every epoch published to a key-value
// bucket (cfg.KV, the --kv flag): one producer instance per epoch that
// lists it, each with its history in DataDir/epoch-<n>, on one NATS
// connection (internal/epochs). Every instance reads the one source at
// global rounds (rounds.first + the epoch's round), so a meter's readings
// continue across epochs; cfg.From, when set, is a global round too.
type Follower struct {
	*epochs.Supervisor
	nats *daemon.NATS // dialled here, nil when cfg.Conn was given
}

// Follow checks cfg (KV set, Network and Net not) and connects; Start then
// begins watching.
func Follow(cfg Config) (*Follower, error) {
	if cfg.KV == "" || cfg.Network != "" || cfg.Net != nil {
		return nil, errors.New("producer: Follow needs a bucket (--kv) and no network file (programming error)")
	}
	if cfg.DataDir == "" {
		return nil, errors.New("producer: no data directory; set --data")
	}
	if cfg.Key == nil {
		var err error
		if cfg.Key, err = daemon.ReadKey(cfg.KeyFile); err != nil {
			return nil, err
		}
	}
	// Instances of two epochs run side by side around a switch: they share
	// a given source and readings writer only through a lock.
	var mu sync.Mutex
	if cfg.Source != nil {
		cfg.Source = &lockedSource{mu: &mu, s: cfg.Source}
	}
	if cfg.Readings != nil {
		cfg.Readings = &lockedWriter{mu: &mu, w: cfg.Readings}
	}
	f := &Follower{}
	nc := cfg.Conn
	if nc == nil {
		if cfg.NATS == "" {
			return nil, epochs.CheckFlags("producer", "", cfg.KV, "")
		}
		log := cfg.logger()
		n, err := daemon.DialNATS(daemon.Dial{URL: cfg.NATS, Name: "producer-" + cfg.ID, Log: log,
			Identity: natsauth.Identity{Role: natsauth.RoleProducer, ID: cfg.ID}, Auth: cfg.NATSAuth, Rand: rand.Reader})
		if err != nil {
			return nil, err
		}
		f.nats, nc = n, n.Conn
	}
	build := func(n *netconfig.Network, dir string, reg *prometheus.Registry) (epochs.Instance, error) {
		if _, err := n.ProducerIndex(cfg.ID); err != nil {
			return nil, nil // not a producer of this epoch
		}
		c := cfg
		c.KV, c.Net, c.DataDir, c.Conn, c.Registry, c.NoHTTP = "", n, dir, nc, reg, true
		c.From = localFrom(cfg.From, n.Config.Rounds.First)
		p, err := New(c)
		if err != nil {
			return nil, err
		}
		return p, nil
	}
	s, err := epochs.New(epochs.Config{Conn: nc, Bucket: cfg.KV, DataDir: cfg.DataDir, Build: build,
		Name: "producer/" + cfg.ID, HTTP: cfg.HTTP, Registry: cfg.Registry, Logger: cfg.Logger})
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
		return fmt.Errorf("producer: %w", err)
	}
	return nil
}

// Shutdown stops every epoch's instance and the connection it dialled.
func (f *Follower) Shutdown(ctx context.Context) error {
	err := f.Supervisor.Shutdown(ctx)
	f.close()
	return err
}

type lockedSource struct {
	mu *sync.Mutex
	s  Source
}

func (l *lockedSource) Read(round uint64, ids []uint64, dst []int64) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.s.Read(round, ids, dst)
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}

// localFrom maps a global first round (−1: the current one) to the
// epoch's own rounds: an epoch that starts after it starts at its round 0.
func localFrom(from int64, first uint64) int64 {
	if from < 0 {
		return from
	}
	return max(0, from-int64(first))
}

func (f *Follower) close() {
	if f.nats != nil {
		f.nats.Close()
		f.nats = nil
	}
}
