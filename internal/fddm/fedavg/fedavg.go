package fedavg

import (
	"fmt"

	"github.com/ppnet/ppnet/sharing"

	"github.com/ppnet/ppnet/internal/fddm/model"
)

// Client is a producer taking part in federated training.
type Client interface {
	// ID identifies the producer (once per round in an Aggregator).
	ID() uint64
	// Update trains locally from the global model and returns the new
	// weights and the number of samples they were trained on.
	Update(global model.Logistic) (model.Logistic, uint64, error)
}

// Local is a Client holding its own features and meter-computed labels.
type Local struct {
	Producer uint64
	X, Y     []float64   // rows (model.Dim per row) and labels
	Train    model.Train // local training per round
}

// ID returns l.Producer.
func (l *Local) ID() uint64 { return l.Producer }

// Update runs l.Train from global on l's data.
func (l *Local) Update(global model.Logistic) (model.Logistic, uint64, error) {
	m := global
	if err := m.Fit(l.X, l.Y, l.Train); err != nil {
		return global, 0, fmt.Errorf("fedavg: producer %d: %w", l.Producer, err)
	}
	return m, uint64(len(l.Y)), nil
}

// Coordinator runs FedAvg rounds through an Aggregator.
type Coordinator struct {
	Codec *Codec
	Agg   Aggregator
}

// Round runs round r: every client trains from global, encodes and adds its
// update; the coordinator recovers the sums and returns the new global model.
func (c *Coordinator) Round(r uint64, global model.Logistic, clients []Client) (model.Logistic, error) {
	var enc []sharing.Element
	for _, cl := range clients {
		w, n, err := cl.Update(global)
		if err != nil {
			return global, err
		}
		enc, err = c.Codec.Encode(enc[:0], w.W[:], n)
		if err != nil {
			return global, fmt.Errorf("fedavg: producer %d: %w", cl.ID(), err)
		}
		if err := c.Agg.Add(r, cl.ID(), enc); err != nil {
			return global, err
		}
	}
	sum, count, err := c.Agg.Sum(r)
	if err != nil {
		return global, err
	}
	if count != len(clients) {
		return global, fmt.Errorf("%w %d: %d contributions summed, %d clients", ErrRound, r, count, len(clients))
	}
	avg, _, err := c.Codec.Decode(sum)
	if err != nil {
		return global, err
	}
	if len(avg) != model.Dim {
		return global, fmt.Errorf("%w: %d weights, want %d", ErrSum, len(avg), model.Dim)
	}
	var next model.Logistic
	copy(next.W[:], avg)
	return next, nil
}
