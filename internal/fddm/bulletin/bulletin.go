package fednet

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/ppnet/ppnet/internal/fddm/model"
)

// Bucket is the default key-value bucket of the global models; model r is
// at key "model.<r>".
const Bucket = "ppnet_fddm"

// ErrModel reports a stored model that does not decode.
var ErrModel = errors.New("fednet: invalid global model")

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
		return nil, fmt.Errorf("fednet: models bucket %s: %v", bucket, err)
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

// Models follows the published global models of a bucket.
type Models struct {
	mu      sync.Mutex
	models  map[uint64]Global
	changed chan struct{} // closed and replaced on every update
	err     error
	cancel  context.CancelFunc
	done    chan struct{}
}

// WatchModels starts following kv's models until Close.
func WatchModels(ctx context.Context, kv jetstream.KeyValue) (*Models, error) {
	wctx, cancel := context.WithCancel(context.Background())
	w, err := kv.Watch(wctx, "model.*")
	if err != nil {
		cancel()
		return nil, fmt.Errorf("fednet: watch models: %v", err)
	}
	m := &Models{models: map[uint64]Global{}, changed: make(chan struct{}), cancel: cancel, done: make(chan struct{})}
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
				r, err := strconv.ParseUint(strings.TrimPrefix(e.Key(), "model."), 10, 64)
				g, gerr := decodeGlobal(e.Value())
				m.mu.Lock()
				if err == nil && gerr == nil {
					m.models[r] = g
				} else if m.err == nil {
					m.err = fmt.Errorf("fednet: key %s: %v", e.Key(), errors.Join(err, gerr))
				}
				close(m.changed)
				m.changed = make(chan struct{})
				m.mu.Unlock()
			}
		}
	}()
	return m, nil
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
			return Global{}, fmt.Errorf("fednet: global model of round %d not published: %w", r, ctx.Err())
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
