// Package bulletin is the FDDM bulletin board: a JetStream key-value bucket
// (default ppnet_fddm) holding what the FDDM parties publish for everyone —
// the global sensitivity model of each FedAvg round (key model.<r>, written
// by the FedAvg coordinator) and the close of each billing period (key
// period.<name>, written by the billing daemon once its bills are final).
// Producers watch it: they train from the newest model and mask a period's
// stored history only after its close appears.
package bulletin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/ppnet/ppnet/internal/fddm/model"
)

// Bucket is the default key-value bucket of the global models; model r is
// at key "model.<r>".
const Bucket = "ppnet_fddm"

var (
	// ErrModel reports a stored model that does not decode.
	ErrModel = errors.New("bulletin: invalid global model")
	// ErrClose reports a stored period close that does not decode.
	ErrClose = errors.New("bulletin: invalid period close")
)

// PeriodClose says that a billing period's bills are final: the rounds it
// covers may now be masked in every meter's stored history.
type PeriodClose struct {
	Period     string    `json:"period"`      // e.g. 2026-01
	FirstRound uint64    `json:"first_round"` // rounds covered, inclusive
	LastRound  uint64    `json:"last_round"`
	Bills      int       `json:"bills"`  // bills of the period (issued, estimated, held, unchanged)
	Digest     string    `json:"digest"` // SHA-256 over the sorted bill list, hex
	Closed     time.Time `json:"closed"`
}

// CloseKey is the key of a period's close.
func CloseKey(period string) string { return "period." + period }

// PublishClose writes a period close (idempotent: the same period again
// overwrites it with the same content).
func PublishClose(ctx context.Context, kv jetstream.KeyValue, pc PeriodClose) error {
	b, err := json.Marshal(pc)
	if err != nil {
		return fmt.Errorf("bulletin: %v", err)
	}
	if _, err := kv.Put(ctx, CloseKey(pc.Period), b); err != nil {
		return fmt.Errorf("bulletin: publishing close of period %s: %v", pc.Period, err)
	}
	return nil
}

// PublishModel writes round g.Round's global model.
func PublishModel(ctx context.Context, kv jetstream.KeyValue, g Global) error {
	g.Weights = g.Model.W[:]
	b, err := json.Marshal(g)
	if err != nil {
		return fmt.Errorf("bulletin: %v", err)
	}
	if _, err := kv.Put(ctx, ModelKey(g.Round), b); err != nil {
		return fmt.Errorf("bulletin: publishing model of round %d: %v", g.Round, err)
	}
	return nil
}

// Global is a published global model.
type Global struct {
	Round        uint64         `json:"round"`        // FedAvg round that produced it
	Weights      []float64      `json:"weights"`      // model.Logistic.W
	Contributors int            `json:"contributors"` // updates in the sum (0: carried over)
	Samples      uint64         `json:"samples"`      // Σ n_k
	Carried      bool           `json:"carried,omitempty"`
	Model        model.Logistic `json:"-"`
}

// ModelKey is the key of round r's global model.
func ModelKey(r uint64) string { return "model." + strconv.FormatUint(r, 10) }

// OpenBucket creates (or opens) the models bucket. Every role that watches
// it needs it to exist; whoever declares the streams declares it too.
func OpenBucket(ctx context.Context, js jetstream.JetStream, bucket string, replicas int) (jetstream.KeyValue, error) {
	if bucket == "" {
		bucket = Bucket
	}
	kv, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: bucket, History: 1, Storage: jetstream.FileStorage, Replicas: max(1, replicas)})
	if err != nil {
		return nil, fmt.Errorf("bulletin: models bucket %s: %v", bucket, err)
	}
	return kv, nil
}

// Bind returns the bucket (default Bucket), creating it first when create
// is set (a role that declares the streams declares it too). A missing
// bucket that the caller may not create is an error naming the fix.
func Bind(ctx context.Context, js jetstream.JetStream, bucket string, create bool) (jetstream.KeyValue, error) {
	if bucket == "" {
		bucket = Bucket
	}
	if create {
		return OpenBucket(ctx, js, bucket, 1)
	}
	kv, err := js.KeyValue(ctx, bucket)
	if err != nil {
		return nil, fmt.Errorf("bulletin: bucket %s: %v; an admin creates it (or run a role without skip_streams once)", bucket, err)
	}
	return kv, nil
}

func decodeGlobal(b []byte) (Global, error) {
	var g Global
	if err := json.Unmarshal(b, &g); err != nil {
		return g, fmt.Errorf("%w: %v", ErrModel, err)
	}
	if len(g.Weights) != model.Dim {
		return g, fmt.Errorf("%w: %d weights, want %d", ErrModel, len(g.Weights), model.Dim)
	}
	copy(g.Model.W[:], g.Weights)
	return g, nil
}

// Models follows the published global models and period closes of a bucket.
type Models struct {
	mu      sync.Mutex
	models  map[uint64]Global
	closes  map[string]PeriodClose
	changed chan struct{} // closed and replaced on every update
	err     error
	cancel  context.CancelFunc
	done    chan struct{}
}

// WatchModels starts following kv's models and period closes until Close.
func WatchModels(ctx context.Context, kv jetstream.KeyValue) (*Models, error) {
	wctx, cancel := context.WithCancel(context.Background())
	w, err := kv.WatchAll(wctx)
	if err != nil {
		cancel()
		return nil, fmt.Errorf("bulletin: watch models: %v", err)
	}
	m := &Models{models: map[uint64]Global{}, closes: map[string]PeriodClose{}, changed: make(chan struct{}), cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(m.done)
		defer w.Stop()
		for {
			select {
			case <-wctx.Done():
				return
			case e, ok := <-w.Updates():
				if !ok {
					return
				}
				if e == nil || e.Operation() != jetstream.KeyValuePut {
					continue // nil marks the end of the initial values
				}
				m.mu.Lock()
				if err := m.take(e.Key(), e.Value()); err != nil && m.err == nil {
					m.err = err
				}
				close(m.changed)
				m.changed = make(chan struct{})
				m.mu.Unlock()
			}
		}
	}()
	return m, nil
}

func (m *Models) take(key string, val []byte) error {
	switch {
	case strings.HasPrefix(key, "model."):
		r, err := strconv.ParseUint(strings.TrimPrefix(key, "model."), 10, 64)
		if err != nil {
			return fmt.Errorf("%w: key %s", ErrModel, key)
		}
		g, err := decodeGlobal(val)
		if err != nil {
			return fmt.Errorf("key %s: %w", key, err)
		}
		m.models[r] = g
	case strings.HasPrefix(key, "period."):
		var pc PeriodClose
		if err := json.Unmarshal(val, &pc); err != nil || pc.Period == "" || pc.LastRound < pc.FirstRound {
			return fmt.Errorf("%w: key %s: %s", ErrClose, key, val)
		}
		m.closes[pc.Period] = pc
	}
	return nil
}

// Closes returns the period closes seen, by period name.
func (m *Models) Closes() map[string]PeriodClose {
	m.mu.Lock()
	defer m.mu.Unlock()
	return maps.Clone(m.closes)
}

// Changed returns a channel closed at the next update.
func (m *Models) Changed() <-chan struct{} {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.changed
}

// Wait returns the global model of round r once it is published, or an
// error when ctx ends first.
func (m *Models) Wait(ctx context.Context, r uint64) (Global, error) {
	for {
		m.mu.Lock()
		g, ok := m.models[r]
		ch := m.changed
		m.mu.Unlock()
		if ok {
			return g, nil
		}
		select {
		case <-ctx.Done():
			return Global{}, fmt.Errorf("bulletin: global model of round %d not published: %w", r, ctx.Err())
		case <-ch:
		}
	}
}

// Get returns the global model of round r if it has been published.
func (m *Models) Get(r uint64) (Global, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	g, ok := m.models[r]
	return g, ok
}

// Latest returns the newest model seen, and false if there is none.
func (m *Models) Latest() (Global, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var best Global
	found := false
	for r, g := range m.models {
		if !found || r > best.Round {
			best, found = g, true
		}
	}
	return best, found
}

// Err returns the first undecodable key seen, if any.
func (m *Models) Err() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.err
}

// Close stops following.
func (m *Models) Close() {
	m.cancel()
	<-m.done
}
