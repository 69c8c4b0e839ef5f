package sharing

import (
	"encoding/binary"
	"fmt"
	"io"
	"math/bits"
	"math/rand/v2"
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

	coef []uint64               // r_1 … r_{t−1} of the current polynomial
	raw  [randBufWords * 8]byte // random words, little-endian
	pos  int                    // next unused word of raw
}

// NewSplitter returns a Splitter for threshold t and the distinct, nonzero
// x-coordinates xs (1 ≤ t ≤ len(xs)). rnd must be a cryptographically strong
// source (crypto/rand.Reader, or a *math/rand/v2.ChaCha8 seeded from it); the
// Splitter reads it in blocks of 4 KiB (a ChaCha8 through its Uint64 method).
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
	if err := s.draw(); err != nil {
		return err
	}
	sec := secret.v
	c := s.coef
	dst = dst[:len(s.xs)]
	// Horner's rule, unrolled for t ≤ 4 (every deployment so far) with lazy
	// reduction: fold leaves a value below 2^62 … 2^64 that still fits the
	// next product, so only the last step reduces fully (bounds in fold's
	// comment).
	switch len(c) {
	case 0:
		for j := range dst {
			dst[j] = Element{sec}
		}
	case 1:
		c1 := c[0]
		for j, x := range s.xs {
			dst[j] = Element{reduce64(fold(c1, x.v) + sec)}
		}
	case 2:
		c1, c2 := c[0], c[1]
		for j, x := range s.xs {
			a := fold(c2, x.v) + c1
			dst[j] = Element{reduce64(fold(a, x.v) + sec)}
		}
	case 3:
		c1, c2, c3 := c[0], c[1], c[2]
		for j, x := range s.xs {
			a := fold(c3, x.v) + c2
			a = fold(a, x.v) + c1
			dst[j] = Element{reduce64(fold(a, x.v) + sec)}
		}
	default:
		top := len(c) - 1
		for j, x := range s.xs {
			acc := c[top]
			for k := top - 1; k >= 0; k-- {
				acc = addmod(mulmod(acc, x.v), c[k])
			}
			dst[j] = Element{addmod(mulmod(acc, x.v), sec)}
		}
	}
	return nil
}

// fold returns a value ≡ a·x (mod q) without the final conditional
// subtraction, for x < 2^61. With a < 2^62·k the product is below
// 2^123·k, its high word below 2^59·k, and the result below 2^61 + 2^62·k:
// starting from a canonical coefficient, three Horner steps (each adding a
// coefficient below 2^61) stay below 1.5·2^63, so the sums never wrap.
func fold(a, x uint64) uint64 {
	hi, lo := bits.Mul64(a, x)
	return (lo & Q) + (hi<<3 | lo>>61)
}

// draw fills s.coef with fresh uniform coefficients, taking them straight
// from the buffer when it holds enough.
func (s *Splitter) draw() error {
	n := len(s.coef)
	if s.pos+n <= randBufWords {
		raw := s.raw[8*s.pos : 8*(s.pos+n)]
		rejected := false
		for i := range s.coef {
			v := binary.LittleEndian.Uint64(raw[8*i:]) & Q
			s.coef[i] = v
			rejected = rejected || v == Q
		}
		if !rejected { // else (probability n·2^−61) redraw word by word
			s.pos += n
			return nil
		}
	}
	for i := range s.coef {
		c, err := s.uniform()
		if err != nil {
			return err
		}
		s.coef[i] = c
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
		v := binary.LittleEndian.Uint64(s.raw[8*s.pos:]) & Q
		s.pos++
		if v != Q {
			return v, nil
		}
	}
}

func (s *Splitter) refill() error {
	if c, ok := s.rnd.(*rand.ChaCha8); ok {
		// Uint64 skips Read's byte-wise copying: a third of the cost of a
		// split with ChaCha8 as the source.
		for i := 0; i < randBufWords; i++ {
			binary.LittleEndian.PutUint64(s.raw[8*i:], c.Uint64())
		}
		s.pos = 0
		return nil
	}
	if _, err := io.ReadFull(s.rnd, s.raw[:]); err != nil {
		return fmt.Errorf("%w: %v", ErrRandomness, err)
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
