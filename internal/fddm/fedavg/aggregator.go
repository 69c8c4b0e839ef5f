package fedavg

import (
	"errors"
	"fmt"
	"io"

	"github.com/ppnet/ppnet/sharing"
)

// ErrRound reports a contribution or a sum that does not fit the round.
var ErrRound = errors.New("fedavg: round")

// Aggregator sums producers' vectors for a round without revealing any one
// of them to the caller of Sum.
type Aggregator interface {
	// Add contributes producer's vector to round r. All vectors of a round
	// have the same length; a producer contributes at most once per round.
	Add(r uint64, producer uint64, v []sharing.Element) error
	// Sum closes round r and returns the sum of its vectors and how many
	// were added.
	Sum(r uint64) ([]sharing.Element, int, error)
}

// InProcess is an Aggregator that secret-shares every vector for w
// simulated PPNs with threshold t, accumulates share vectors per PPN and
// recovers only the sum. It is not safe for concurrent use.
type InProcess struct {
	xs       []sharing.Element
	t        int
	splitter *sharing.Splitter
	comb     sharing.Combiner
	rounds   map[uint64]*accum
	buf      []sharing.Element
	col      []sharing.Element
	// Faulty lists the x-coordinates of PPNs whose accumulators disagreed
	// with the others in the last Sum (corrected when w ≥ t+2).
	Faulty []sharing.Element
}

type accum struct {
	ppn  [][]sharing.Element // ppn[j]: PPN j's accumulated share vector
	seen map[uint64]bool
}

// NewInProcess returns an aggregator over PPNs at x = 1…w, threshold t,
// drawing share randomness from rnd (crypto/rand.Reader, or a ChaCha8 for
// reproducible simulations).
func NewInProcess(w, t int, rnd io.Reader) (*InProcess, error) {
	xs := make([]sharing.Element, w)
	for i := range xs {
		xs[i] = sharing.NewElement(uint64(i + 1))
	}
	s, err := sharing.NewSplitter(xs, t, rnd)
	if err != nil {
		return nil, fmt.Errorf("fedavg: %d PPNs, threshold %d: %w", w, t, err)
	}
	return &InProcess{xs: xs, t: t, splitter: s, rounds: map[uint64]*accum{}}, nil
}

// Add splits v and adds each PPN's share vector to that PPN's accumulator.
func (a *InProcess) Add(r uint64, producer uint64, v []sharing.Element) error {
	acc := a.rounds[r]
	if acc == nil {
		acc = &accum{ppn: make([][]sharing.Element, len(a.xs)), seen: map[uint64]bool{}}
		for j := range acc.ppn {
			acc.ppn[j] = make([]sharing.Element, len(v))
		}
		a.rounds[r] = acc
	}
	if len(v) != len(acc.ppn[0]) {
		return fmt.Errorf("%w %d: producer %d sent %d components, the round has %d", ErrRound, r, producer, len(v), len(acc.ppn[0]))
	}
	if acc.seen[producer] {
		return fmt.Errorf("%w %d: producer %d contributed twice", ErrRound, r, producer)
	}
	w := len(a.xs)
	a.buf = resize(a.buf, len(v)*w)
	if err := a.splitter.SplitBatch(v, a.buf); err != nil {
		return fmt.Errorf("fedavg: splitting producer %d's update: %w", producer, err)
	}
	a.col = resize(a.col, len(v))
	for j := range w {
		for i := range v {
			a.col[i] = a.buf[i*w+j]
		}
		if err := sharing.AddVec(acc.ppn[j], a.col); err != nil {
			return fmt.Errorf("fedavg: PPN %d accumulating: %w", j+1, err)
		}
	}
	acc.seen[producer] = true
	return nil
}

// Sum recovers the sum of round r from the PPNs' accumulators and forgets
// the round.
func (a *InProcess) Sum(r uint64) ([]sharing.Element, int, error) {
	acc := a.rounds[r]
	if acc == nil {
		return nil, 0, fmt.Errorf("%w %d: no contributions", ErrRound, r)
	}
	delete(a.rounds, r)
	res, err := a.comb.RobustRecoverVec(a.xs, acc.ppn, a.t)
	if err != nil {
		return nil, 0, fmt.Errorf("fedavg: recovering round %d: %w", r, err)
	}
	a.Faulty = res.Faulty
	return res.Secret, len(acc.seen), nil
}

// resize returns s with length n, reusing its storage when it can.
func resize(s []sharing.Element, n int) []sharing.Element {
	if cap(s) < n {
		return make([]sharing.Element, n)
	}
	return s[:n]
}

// tamper adds delta to PPN j's accumulated component i of round r: a lying
// PPN, for tests.
func (a *InProcess) tamper(r uint64, j, i int, delta sharing.Element) {
	a.rounds[r].ppn[j][i] = a.rounds[r].ppn[j][i].Add(delta)
}
