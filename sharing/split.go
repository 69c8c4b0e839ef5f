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
	xs   []Element
	pows []uint64 // pows[j·(t−1) + k−1] = xs[j]^k for k = 1 … t−1
	t    int
	rnd  io.Reader

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
	d := t - 1
	pows := make([]uint64, len(xs)*d)
	for j, x := range xs {
		p := uint64(1)
		for k := 0; k < d; k++ {
			p = mulmod(p, x.v)
			pows[j*d+k] = p
		}
	}
	return &Splitter{
		xs:   append([]Element(nil), xs...),
		pows: pows,
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

// split evaluates f(x) = µ + Σ c_k·x^k at every x from precomputed powers:
// the products are independent (no Horner chain), so they overlap in the
// pipeline, and with lazy reduction each share is reduced once.
func (s *Splitter) split(secret Element, dst []Element) error {
	dst = dst[:len(s.xs)]
	sec := secret.v
	d := len(s.coef)
	// Fast path for t ≤ 4: coefficients go from the buffer straight to
	// registers. Words beyond the first d stay in the buffer for the next
	// split; a word equal to q (probability 2^−61) takes the slow path.
	if d <= 3 && s.pos+3 <= randBufWords {
		r := (*[24]byte)(s.raw[8*s.pos:])
		c1 := binary.LittleEndian.Uint64(r[0:8]) & Q
		c2 := binary.LittleEndian.Uint64(r[8:16]) & Q
		c3 := binary.LittleEndian.Uint64(r[16:24]) & Q
		if (d < 1 || c1 != Q) && (d < 2 || c2 != Q) && (d < 3 || c3 != Q) {
			s.pos += d
			switch d {
			case 0:
				for j := range dst {
					dst[j] = Element{sec}
				}
			case 1:
				pw := s.pows[:len(dst)]
				for j := range dst {
					dst[j] = Element{reduce64(sec + fold(c1, pw[j]))}
				}
			case 2:
				pw := s.pows[:2*len(dst)]
				for j := range dst {
					p := pw[2*j : 2*j+2]
					dst[j] = Element{reduce64(sec + fold(c1, p[0]) + fold(c2, p[1]))}
				}
			case 3:
				pw := s.pows[:3*len(dst)]
				for j := range dst {
					p := pw[3*j : 3*j+3]
					dst[j] = Element{reduce64(sec + fold(c1, p[0]) + fold(c2, p[1]) + fold(c3, p[2]))}
				}
			}
			return nil
		}
	}
	if err := s.draw(); err != nil {
		return err
	}
	c := s.coef
	for j := range dst {
		p := s.pows[j*d : (j+1)*d]
		acc := sec
		k := 0
		for ; k+3 <= d; k += 3 {
			acc = reduce64(acc + fold(c[k], p[k]) + fold(c[k+1], p[k+1]) + fold(c[k+2], p[k+2]))
		}
		for ; k < d; k++ {
			acc = reduce64(acc + fold(c[k], p[k]))
		}
		dst[j] = Element{acc}
	}
	return nil
}

// fold returns a value ≡ a·x (mod q) without the final conditional
// subtraction, for x < 2^61 and any a < 2^64: the product splits as
// (a·x mod 2^61) + (a·x >> 61)·2^61 with 2^61 ≡ 1, and a·x >> 61 < a, so the
// result is below 2^61 + a. For canonical a it is below 2^62, so a
// canonical value plus three such products, or four products, stay below 2^64.
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
			return fmt.Errorf("%w (position %d); give every node an x-coordinate in 1 … q−1", ErrZeroX, i)
		}
		for k, y := range xs[:i] {
			if x == y {
				return fmt.Errorf("%w %d at positions %d and %d; every node needs its own x-coordinate", ErrDuplicateX, x.v, k, i)
			}
		}
	}
	return nil
}
