package fedavg

import (
	"fmt"

	"github.com/ppnet/ppnet/sharing"

	"github.com/ppnet/ppnet/internal/fddm/model"
)

// Adder is the producer side of an Aggregator: where a client hands its
// own encoded update.
type Adder interface {
	Add(r uint64, producer uint64, v []sharing.Element) error
}

// Summer is the coordinator side of an Aggregator: it yields only sums.
type Summer interface {
	Sum(r uint64) ([]sharing.Element, int, error)
}

// Client is a producer taking part in federated training. It trains, encodes
// and contributes its update itself: the coordinator never holds it.
type Client interface {
	// ID identifies the producer (once per round in an Aggregator).
	ID() uint64
	// Contribute trains locally from global, encodes the update with its
	// codec and adds it to round r of agg.
	Contribute(r uint64, global model.Logistic, agg Adder) error
}

// Local is a Client holding its own features and meter-computed labels.
type Local struct {
	Producer uint64
	X, Y     []float64   // rows (model.Dim per row) and labels
	Train    model.Train // local training per round
	Codec    *Codec      // fixed-point encoding of the update

	enc []sharing.Element
}

// ID returns l.Producer.
func (l *Local) ID() uint64 { return l.Producer }

// Update runs l.Train from global on l's data and returns the new weights
// and the number of samples they were trained on.
func (l *Local) Update(global model.Logistic) (model.Logistic, uint64, error) {
	m := global
	if err := m.Fit(l.X, l.Y, l.Train); err != nil {
		return global, 0, fmt.Errorf("fedavg: producer %d: %w", l.Producer, err)
	}
	return m, uint64(len(l.Y)), nil
}

// Encode trains from global and appends the encoded update
// (n_k·⌊w_k·2^f⌉, n_k) to dst.
func (l *Local) Encode(dst []sharing.Element, global model.Logistic) ([]sharing.Element, error) {
	if l.Codec == nil {
		return dst, fmt.Errorf("fedavg: producer %d has no codec", l.Producer)
	}
	w, n, err := l.Update(global)
	if err != nil {
		return dst, err
	}
	dst, err = l.Codec.Encode(dst, w.W[:], n)
	if err != nil {
		return dst, fmt.Errorf("fedavg: producer %d: %w", l.Producer, err)
	}
	return dst, nil
}

// Contribute implements Client.
func (l *Local) Contribute(r uint64, global model.Logistic, agg Adder) error {
	var err error
	if l.enc, err = l.Encode(l.enc[:0], global); err != nil {
		return err
	}
	return agg.Add(r, l.Producer, l.enc)
}

// Coordinator turns the recovered sums of FedAvg rounds into global models.
// It sees sums only.
type Coordinator struct {
	Codec *Codec
	Agg   Summer
}

// Finish recovers round r's sum and returns the new global model; want is
// the number of contributions expected (0: any number).
func (c *Coordinator) Finish(r uint64, want int) (model.Logistic, error) {
	sum, count, err := c.Agg.Sum(r)
	if err != nil {
		return model.Logistic{}, err
	}
	if want > 0 && count != want {
		return model.Logistic{}, fmt.Errorf("%w %d: %d contributions summed, %d expected", ErrRound, r, count, want)
	}
	return c.Codec.Model(sum, count)
}

// Round runs round r in process: every client trains from global, encodes
// its update and adds it to agg (the producer side of c.Agg); then the
// coordinator recovers the sum and returns the new global model.
func (c *Coordinator) Round(r uint64, global model.Logistic, clients []Client, agg Adder) (model.Logistic, error) {
	for _, cl := range clients {
		if err := cl.Contribute(r, global, agg); err != nil {
			return global, err
		}
	}
	next, err := c.Finish(r, len(clients))
	if err != nil {
		return global, err
	}
	return next, nil
}
