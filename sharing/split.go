package sharing

import (
	"encoding/binary"
	"fmt"
	"io"
)

// Share is one party's share: the polynomial evaluated at its x-coordinate.
type Share struct {
	X Element // public x-coordinate of the holder, nonzero
	Y Element // f(X)
}

// randBufWords is how many 64-bit words a Splitter draws from its source at
// once, so a split costs no system call and no allocation.
const randBufWords = 512

// Splitter splits secrets into shares for a fixed set of x-coordinates and
// threshold. It is not safe for concurrent use; give each goroutine its own.
type Splitter struct {
	xs  []Element
	t   int
	rnd io.Reader

	coef []uint64 // r_1 … r_{t−1} of the current polynomial
	buf  [randBufWords]uint64
	raw  [randBufWords * 8]byte
	pos  int
}

// NewSplitter returns a Splitter for threshold t and the distinct, nonzero
// x-coordinates xs (1 ≤ t ≤ len(xs)). rnd must be a cryptographically strong
// source (crypto/rand.Reader, or a *math/rand/v2.ChaCha8 seeded from it); the
// Splitter reads it in blocks of 4 KiB.
func NewSplitter(xs []Element, t int, rnd io.Reader) (*Splitter, error) {
	if err := checkXs(xs); err != nil {
		return nil, err
	}
	if t < 1 || t > len(xs) {
		return nil, fmt.Errorf("%w: t = %d with %d x-coordinates; need 1 ≤ t ≤ %d", ErrThreshold, t, len(xs), len(xs))
	}
	if rnd == nil {
		return nil, fmt.Errorf("%w: nil source; pass crypto/rand.Reader", ErrRandomness)
	}
	return &Splitter{
		xs:   append([]Element(nil), xs...),
		t:    t,
		rnd:  rnd,
		coef: make([]uint64, t-1),
		pos:  randBufWords,
	}, nil
}

// Threshold returns t.
func (s *Splitter) Threshold() int { return s.t }

// Xs returns the x-coordinates, in the order shares are written.
func (s *Splitter) Xs() []Element { return append([]Element(nil), s.xs...) }

// Split writes into dst[i] the share of secret for s.Xs()[i], from a fresh
// random polynomial. len(dst) must equal the number of x-coordinates.
func (s *Splitter) Split(secret Element, dst []Element) error {
	if len(dst) != len(s.xs) {
		return fmt.Errorf("%w: %d shares requested for %d x-coordinates", ErrLength, len(dst), len(s.xs))
	}
	return s.split(secret, dst)
}

// SplitBatch splits every secret, writing the shares row-major:
// dst[i·w + j] is the share of secrets[i] for x-coordinate j, w = len(Xs()).
// It allocates nothing.
func (s *Splitter) SplitBatch(secrets, dst []Element) error {
	w := len(s.xs)
	if len(dst) != len(secrets)*w {
		return fmt.Errorf("%w: %d secrets × %d x-coordinates need %d slots, got %d", ErrLength, len(secrets), w, len(secrets)*w, len(dst))
	}
	for i, sec := range secrets {
		if err := s.split(sec, dst[i*w:(i+1)*w]); err != nil {
			return err
		}
	}
	return nil
}

func (s *Splitter) split(secret Element, dst []Element) error {
	for i := range s.coef {
		c, err := s.uniform()
		if err != nil {
			return err
		}
		s.coef[i] = c
	}
	top := len(s.coef) - 1
	for j, x := range s.xs {
		// Horner from the highest coefficient down to the secret.
		acc := uint64(0)
		if top >= 0 {
			acc = s.coef[top]
			for k := top - 1; k >= 0; k-- {
				acc = addmod(mulmod(acc, x.v), s.coef[k])
			}
			acc = mulmod(acc, x.v)
		}
		dst[j] = Element{addmod(acc, secret.v)}
	}
	return nil
}

// uniform returns a uniform element of Z_q by rejection: 61 random bits are
// uniform on [0, 2^61) and the single value q is redrawn.
func (s *Splitter) uniform() (uint64, error) {
	for {
		if s.pos == randBufWords {
			if err := s.refill(); err != nil {
				return 0, err
			}
		}
		v := s.buf[s.pos] & Q
		s.pos++
		if v != Q {
			return v, nil
		}
	}
}

func (s *Splitter) refill() error {
	if _, err := io.ReadFull(s.rnd, s.raw[:]); err != nil {
		return fmt.Errorf("%w: %v", ErrRandomness, err)
	}
	for i := range s.buf {
		s.buf[i] = binary.LittleEndian.Uint64(s.raw[8*i:])
	}
	s.pos = 0
	return nil
}

func addmod(a, b uint64) uint64 {
	s := a + b
	if s >= Q {
		s -= Q
	}
	return s
}

// checkXs validates a set of x-coordinates: nonzero and distinct.
func checkXs(xs []Element) error {
	if len(xs) == 0 {
		return fmt.Errorf("%w: no x-coordinates", ErrTooFewShares)
	}
	for i, x := range xs {
		if x.v == 0 {
			return fmt.Errorf("%w (position %d)", ErrZeroX, i)
		}
		for _, y := range xs[:i] {
			if x == y {
				return fmt.Errorf("%w %d", ErrDuplicateX, x.v)
			}
		}
	}
	return nil
}
