package sharing

import (
	"fmt"
	"math/bits"
)

// Q is the field modulus 2^61 − 1, a Mersenne prime.
const Q uint64 = 1<<61 - 1

// Element is an element of Z_q, always held in canonical form [0, q).
// The zero value is the field's zero.
type Element struct{ v uint64 }

// NewElement returns v reduced modulo q. It accepts any uint64.
func NewElement(v uint64) Element { return Element{reduce64(v)} }

// ElementFromCanonical returns the element with canonical value v, or an
// error if v ≥ q. Decoders of untrusted input use it so that a non-canonical
// encoding is rejected rather than silently reduced.
func ElementFromCanonical(v uint64) (Element, error) {
	if v >= Q {
		return Element{}, fmt.Errorf("%w: %d ≥ q = 2^61−1", ErrNotCanonical, v)
	}
	return Element{v}, nil
}

// Uint64 returns the canonical value of e, in [0, q).
func (e Element) Uint64() uint64 { return e.v }

// IsZero reports whether e is the field's zero.
func (e Element) IsZero() bool { return e.v == 0 }

// String formats e as its canonical value.
func (e Element) String() string { return fmt.Sprint(e.v) }

// Add returns e + f mod q.
func (e Element) Add(f Element) Element {
	s := e.v + f.v // < 2^62, no overflow
	if s >= Q {
		s -= Q
	}
	return Element{s}
}

// Sub returns e − f mod q.
func (e Element) Sub(f Element) Element {
	if e.v >= f.v {
		return Element{e.v - f.v}
	}
	return Element{e.v + Q - f.v}
}

// Neg returns −e mod q.
func (e Element) Neg() Element {
	if e.v == 0 {
		return e
	}
	return Element{Q - e.v}
}

// Mul returns e · f mod q.
func (e Element) Mul(f Element) Element { return Element{mulmod(e.v, f.v)} }

// Exp returns e^k mod q (with 0^0 = 1).
func (e Element) Exp(k uint64) Element {
	r := uint64(1)
	b := e.v
	for k > 0 {
		if k&1 == 1 {
			r = mulmod(r, b)
		}
		b = mulmod(b, b)
		k >>= 1
	}
	return Element{r}
}

// Inverse returns e^−1 mod q, or ErrZeroInverse for e = 0.
func (e Element) Inverse() (Element, error) {
	if e.v == 0 {
		return Element{}, ErrZeroInverse
	}
	return e.Exp(Q - 2), nil // Fermat: e^(q−2) = e^−1 for prime q
}

// BatchInverse sets dst[i] = src[i]^−1 for every i with one field inversion
// and 3(n−1) multiplications (Montgomery's trick). dst and src may be the
// same slice. It fails, leaving dst unspecified, if any src[i] is zero or the
// lengths differ.
func BatchInverse(dst, src []Element) error {
	if len(dst) != len(src) {
		return fmt.Errorf("%w: batch inverse of %d elements into %d", ErrLength, len(src), len(dst))
	}
	if len(src) == 0 {
		return nil
	}
	// prefix[i] = src[0]·…·src[i−1]; kept in a local buffer so dst may alias src.
	var stack [16]uint64
	prefix := stack[:0]
	if len(src) > len(stack) {
		prefix = make([]uint64, 0, len(src))
	}
	acc := uint64(1)
	for i, s := range src {
		if s.v == 0 {
			return fmt.Errorf("%w (element %d)", ErrZeroInverse, i)
		}
		prefix = append(prefix, acc)
		acc = mulmod(acc, s.v)
	}
	inv := Element{acc}.Exp(Q - 2).v
	for i := len(src) - 1; i >= 0; i-- {
		s := src[i].v
		dst[i] = Element{mulmod(inv, prefix[i])}
		inv = mulmod(inv, s)
	}
	return nil
}

// reduce64 reduces any uint64 modulo q.
func reduce64(v uint64) uint64 {
	r := (v & Q) + (v >> 61) // ≤ q + 7
	if r >= Q {
		r -= Q
	}
	return r
}

// mulmod returns a·b mod q for a, b < q. The 122-bit product splits as
// hi·2^64 + lo = (hi·8 + lo>>61)·2^61 + (lo & q), and 2^61 ≡ 1 (mod q).
func mulmod(a, b uint64) uint64 {
	hi, lo := bits.Mul64(a, b)
	r := (lo & Q) + (hi<<3 | lo>>61) // each term < 2^61, sum < 2q
	if r >= Q {
		r -= Q
	}
	return r
}
