package fednet

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/ppnet/ppnet/internal/fddm/bulletin"
	"github.com/ppnet/ppnet/internal/fddm/fedavg"
	"github.com/ppnet/ppnet/internal/fddm/model"
	"github.com/ppnet/ppnet/internal/netconfig"
	"github.com/ppnet/ppnet/internal/producer"
	"github.com/ppnet/ppnet/sharing"
)

// Rounds maps FedAvg rounds onto data-plane rounds: FedAvg round r is
// carried by round First + r·Stride.
type Rounds struct {
	First  uint64
	Stride uint64 // default 1
	Count  uint64 // FedAvg rounds (0: unbounded); later data-plane rounds carry none
}

func (m Rounds) stride() uint64 { return max(1, m.Stride) }

// Of returns the FedAvg round carried by data-plane round τ, and false if τ
// carries none.
func (m Rounds) Of(tau uint64) (uint64, bool) {
	if tau < m.First || (tau-m.First)%m.stride() != 0 {
		return 0, false
	}
	r := (tau - m.First) / m.stride()
	if m.Count > 0 && r >= m.Count {
		return 0, false
	}
	return r, true
}

// Tau returns the data-plane round carrying FedAvg round r.
func (m Rounds) Tau(r uint64) uint64 { return m.First + r*m.stride() }

// SourceConfig configures a producer's FedAvg source.
type SourceConfig struct {
	Net      *netconfig.Network
	Producer string           // producer id
	Client   *fedavg.Local    // local data, training and codec
	Models   *bulletin.Models // published global models
	Rounds   Rounds
	Initial  model.Logistic   // the model round 0 trains from
	Now      func() time.Time // default time.Now
	// Readings, if set, supplies the producer's other meters (those that
	// are not update components).
	Readings producer.Source
	// Encoded, if set, is told every update this producer encodes, for
	// tests that compare with the in-process aggregator.
	Encoded func(r uint64, v []sharing.Element)
}

// Source is a producer.Source whose component meters read the producer's
// own encoded update of the FedAvg round a data-plane round carries.
type Source struct {
	cfg  SourceConfig
	comp map[uint64]int // meter index → component

	mu    sync.Mutex
	cache map[uint64][]sharing.Element // FedAvg round → encoded update
	skip  map[uint64]bool              // rounds the producer sat out
	ctx   context.Context
	stop  context.CancelFunc
}

// NewSource returns a source for producer cfg.Producer, whose component
// meters must be ComponentMeter(id, j) for j < the codec's length.
func NewSource(cfg SourceConfig) (*Source, error) {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Client == nil || cfg.Client.Codec == nil || cfg.Models == nil || cfg.Net == nil {
		return nil, fmt.Errorf("fednet: source for %q needs a network, a client with a codec and the models", cfg.Producer)
	}
	idx, err := cfg.Net.ProducerIndex(cfg.Producer)
	if err != nil {
		return nil, err
	}
	s := &Source{cfg: cfg, comp: map[uint64]int{}, cache: map[uint64][]sharing.Element{}, skip: map[uint64]bool{}}
	s.ctx, s.stop = context.WithCancel(context.Background())
	n := cfg.Client.Codec.Len(model.Dim)
	for j := range n {
		m, err := cfg.Net.MeterIndex(ComponentMeter(cfg.Producer, j))
		if err != nil || cfg.Net.MeterProducer[m] != uint32(idx) {
			return nil, fmt.Errorf("fednet: producer %q has no component meter %q; add the FedAvg rules (fednet.AddRules)", cfg.Producer, ComponentMeter(cfg.Producer, j))
		}
		s.comp[uint64(m)] = j
	}
	return s, nil
}

// Close releases a Read waiting for a model.
func (s *Source) Close() { s.stop() }

// Read implements producer.Source.
func (s *Source) Read(round uint64, ids []uint64, dst []int64) error {
	if len(ids) != len(dst) {
		return fmt.Errorf("fednet: %d meters, %d slots", len(ids), len(dst))
	}
	var others []int
	for i, id := range ids {
		if _, ok := s.comp[id]; !ok {
			others = append(others, i)
		}
		dst[i] = producer.NoReading
	}
	if len(others) > 0 {
		if err := s.readOthers(round, ids, dst, others); err != nil {
			return err
		}
	}
	r, ok := s.cfg.Rounds.Of(round)
	if !ok {
		return nil
	}
	enc, err := s.update(r, round)
	if err != nil || enc == nil {
		return err
	}
	for i, id := range ids {
		if j, ok := s.comp[id]; ok {
			dst[i] = enc[j].Int64()
		}
	}
	return nil
}

func (s *Source) readOthers(round uint64, ids []uint64, dst []int64, idx []int) error {
	if s.cfg.Readings == nil {
		return nil
	}
	sub := make([]uint64, len(idx))
	val := make([]int64, len(idx))
	for k, i := range idx {
		sub[k] = ids[i]
	}
	if err := s.cfg.Readings.Read(round, sub, val); err != nil {
		return err
	}
	for k, i := range idx {
		dst[i] = val[k]
	}
	return nil
}

// update returns the encoded update of FedAvg round r (carried by τ),
// training it once; nil when the producer sits the round out.
func (s *Source) update(r, tau uint64) ([]sharing.Element, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if enc, ok := s.cache[r]; ok {
		return enc, nil
	}
	if s.skip[r] {
		return nil, nil
	}
	global := s.cfg.Initial
	if r > 0 {
		n := s.cfg.Net
		end := n.RoundStart(tau + 1)
		now := s.cfg.Now()
		g, ok := s.cfg.Models.Get(r - 1)
		switch {
		case ok:
		case now.Before(end):
			// A prefetch (the producer reads ahead of the round's end):
			// do not hold the producer's loop; the reading that counts is
			// taken at the end of the round.
			return nil, nil
		default:
			// The reading counts only if it reaches the stream before
			// the round's deadline: wait until half the grace after its end.
			limit := end.Add(n.Config.Rounds.Grace / 2)
			ctx, cancel := context.WithTimeout(s.ctx, limit.Sub(now))
			var err error
			g, err = s.cfg.Models.Wait(ctx, r-1)
			cancel()
			if err != nil {
				if !s.cfg.Now().Before(limit) {
					s.skip[r] = true // too late for this round
				}
				return nil, nil
			}
		}
		global = g.Model
	}
	enc, err := s.cfg.Client.Encode(nil, global)
	if err != nil {
		return nil, err
	}
	s.cache[r] = enc
	delete(s.cache, r-2)
	if s.cfg.Encoded != nil {
		s.cfg.Encoded(r, enc)
	}
	return enc, nil
}
