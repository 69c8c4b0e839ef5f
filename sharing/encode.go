package sharing

import (
	"fmt"
	"math"
	"math/bits"
)

// MaxMagnitude is (q−1)/2, the largest magnitude a value — or any aggregate
// of values — may have and still decode unambiguously as a signed integer.
const MaxMagnitude = (Q - 1) / 2

// FromUint64 encodes a non-negative integer reading. Values above
// MaxMagnitude are refused: they would decode as negative numbers.
func FromUint64(v uint64) (Element, error) {
	if v > MaxMagnitude {
		return Element{}, fmt.Errorf("%w: %d exceeds (q−1)/2 = %d; scale the unit down", ErrOutOfRange, v, MaxMagnitude)
	}
	return Element{v}, nil
}

// FromInt64 encodes a signed integer as two's complement around q: v ≥ 0
// maps to v, v < 0 to q + v. |v| must not exceed MaxMagnitude.
func FromInt64(v int64) (Element, error) {
	if v >= 0 {
		return FromUint64(uint64(v))
	}
	m := uint64(-(v + 1)) + 1 // |v| without overflow at MinInt64
	if m > MaxMagnitude {
		return Element{}, fmt.Errorf("%w: %d is below −(q−1)/2 = −%d; scale the unit down", ErrOutOfRange, v, MaxMagnitude)
	}
	return Element{Q - m}, nil
}

// Int64 decodes e as a signed integer: canonical values above MaxMagnitude
// are negative. It inverts FromInt64 and, for in-range sums, gives the sum.
func (e Element) Int64() int64 {
	if e.v > MaxMagnitude {
		return -int64(Q - e.v)
	}
	return int64(e.v)
}

// FromFixed encodes the real x as the signed integer round(x·2^frac).
// NaN, infinities and values whose scaled magnitude exceeds MaxMagnitude are
// refused. frac must be at most 60.
func FromFixed(x float64, frac uint) (Element, error) {
	if frac > 60 {
		return Element{}, fmt.Errorf("%w: %d fractional bits; use at most 60", ErrOutOfRange, frac)
	}
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return Element{}, fmt.Errorf("%w: %v is not a finite number", ErrOutOfRange, x)
	}
	s := math.Round(math.Ldexp(x, int(frac)))
	if math.Abs(s) > float64(MaxMagnitude) { // float64(MaxMagnitude) rounds up to 2^60
		return Element{}, fmt.Errorf("%w: %v·2^%d exceeds (q−1)/2; use fewer fractional bits", ErrOutOfRange, x, frac)
	}
	return FromInt64(int64(s))
}

// Fixed decodes e, as encoded by FromFixed with the same frac, to a real.
func (e Element) Fixed(frac uint) float64 {
	return math.Ldexp(float64(e.Int64()), -int(frac))
}

// SumFits reports whether the sum of n values, each of magnitude at most
// maxAbs, is guaranteed to stay within MaxMagnitude and so to decode exactly.
func SumFits(n, maxAbs uint64) bool {
	hi, lo := bits.Mul64(n, maxAbs)
	return hi == 0 && lo <= MaxMagnitude
}
