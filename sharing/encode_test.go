package sharing

import (
	"errors"
	"math"
	"testing"
)

func TestFromUint64(t *testing.T) {
	tests := []struct {
		v    uint64
		want uint64
		ok   bool
	}{
		{0, 0, true}, {1, 1, true}, {MaxMagnitude, MaxMagnitude, true},
		{MaxMagnitude + 1, 0, false}, {Q - 1, 0, false}, {Q, 0, false}, {math.MaxUint64, 0, false},
	}
	for _, tc := range tests {
		e, err := FromUint64(tc.v)
		if tc.ok != (err == nil) || (err != nil && !errors.Is(err, ErrOutOfRange)) {
			t.Fatalf("FromUint64(%d): err = %v, want ok = %v", tc.v, err, tc.ok)
		}
		if tc.ok && e.v != tc.want {
			t.Fatalf("FromUint64(%d) = %d, want %d", tc.v, e.v, tc.want)
		}
	}
}

func TestFromInt64(t *testing.T) {
	m := int64(MaxMagnitude)
	tests := []struct {
		v    int64
		want uint64
		ok   bool
	}{
		{0, 0, true}, {1, 1, true}, {-1, Q - 1, true}, {m, MaxMagnitude, true},
		{-m, Q - MaxMagnitude, true}, {m + 1, 0, false}, {-m - 1, 0, false},
		{math.MaxInt64, 0, false}, {math.MinInt64, 0, false},
	}
	for _, tc := range tests {
		e, err := FromInt64(tc.v)
		if tc.ok != (err == nil) || (err != nil && !errors.Is(err, ErrOutOfRange)) {
			t.Fatalf("FromInt64(%d): err = %v, want ok = %v", tc.v, err, tc.ok)
		}
		if !tc.ok {
			continue
		}
		if e.v != tc.want {
			t.Fatalf("FromInt64(%d) = %d, want %d", tc.v, e.v, tc.want)
		}
		if e.Int64() != tc.v {
			t.Fatalf("FromInt64(%d).Int64() = %d", tc.v, e.Int64())
		}
	}
}

func TestFromFixed(t *testing.T) {
	tests := []struct {
		x    float64
		frac uint
		want int64
		ok   bool
	}{
		{0, 0, 0, true},
		{1.5, 1, 3, true},
		{-1.5, 1, -3, true},
		{0.1, 10, 102, true}, // 102.4 rounds to 102
		{-0.3, 4, -5, true},  // −4.8 rounds to −5
		{2.5, 0, 3, true},    // halves round away from zero
		{1 << 40, 19, 1 << 59, true},
		{1 << 40, 20, 0, false}, // 2^60 > (q−1)/2
		{math.NaN(), 8, 0, false},
		{math.Inf(1), 8, 0, false},
		{math.Inf(-1), 8, 0, false},
		{1, 61, 0, false}, // too many fractional bits
	}
	for _, tc := range tests {
		e, err := FromFixed(tc.x, tc.frac)
		if tc.ok != (err == nil) || (err != nil && !errors.Is(err, ErrOutOfRange)) {
			t.Fatalf("FromFixed(%v, %d): err = %v, want ok = %v", tc.x, tc.frac, err, tc.ok)
		}
		if !tc.ok {
			continue
		}
		if e.Int64() != tc.want {
			t.Fatalf("FromFixed(%v, %d) = %d, want %d", tc.x, tc.frac, e.Int64(), tc.want)
		}
		if got, want := e.Fixed(tc.frac), math.Ldexp(float64(tc.want), -int(tc.frac)); got != want {
			t.Fatalf("FromFixed(%v, %d).Fixed = %v, want %v", tc.x, tc.frac, got, want)
		}
	}
}

// TestSignedSumsDecode checks that sums of signed readings decode to the
// integer sum while SumFits holds.
func TestSignedSumsDecode(t *testing.T) {
	r := newRand(t)
	const n, maxAbs = 1000, int64(1) << 50
	if !SumFits(n, uint64(maxAbs)) {
		t.Fatalf("SumFits(%d, %d) = false", n, maxAbs)
	}
	var acc Element
	var want int64
	for range n {
		v := int64(r.Uint64()%uint64(2*maxAbs+1)) - maxAbs
		e, err := FromInt64(v)
		if err != nil {
			t.Fatal(err)
		}
		acc = acc.Add(e)
		want += v
	}
	if acc.Int64() != want {
		t.Fatalf("sum decodes to %d, want %d", acc.Int64(), want)
	}
}

func TestSumFits(t *testing.T) {
	tests := []struct {
		n, maxAbs uint64
		want      bool
	}{
		{0, math.MaxUint64, true},
		{1, MaxMagnitude, true},
		{1, MaxMagnitude + 1, false},
		{2, MaxMagnitude / 2, true},
		{2, MaxMagnitude/2 + 1, false},
		{1 << 32, 1 << 28, false},  // 2^60 > (q−1)/2 = 2^60 − 1
		{1 << 32, 1 << 27, true},   // 2^59
		{math.MaxUint64, 2, false}, // overflows 64 bits
		{10_000_000, 100_000_000, true},
	}
	for _, tc := range tests {
		if got := SumFits(tc.n, tc.maxAbs); got != tc.want {
			t.Fatalf("SumFits(%d, %d) = %v, want %v", tc.n, tc.maxAbs, got, tc.want)
		}
	}
}

func FuzzInt64RoundTrip(f *testing.F) {
	for _, v := range []int64{0, 1, -1, int64(MaxMagnitude), -int64(MaxMagnitude), int64(MaxMagnitude) + 1, math.MinInt64, math.MaxInt64} {
		f.Add(v)
	}
	f.Fuzz(func(t *testing.T, v int64) {
		e, err := FromInt64(v)
		inRange := v >= -int64(MaxMagnitude) && v <= int64(MaxMagnitude)
		if inRange != (err == nil) {
			t.Fatalf("FromInt64(%d): err = %v, in range = %v", v, err, inRange)
		}
		if err == nil && e.Int64() != v {
			t.Fatalf("FromInt64(%d).Int64() = %d", v, e.Int64())
		}
		if v >= 0 {
			u, err := FromUint64(uint64(v))
			if inRange != (err == nil) || (err == nil && u != e) {
				t.Fatalf("FromUint64(%d) = %v, %v; FromInt64 = %v", v, u, err, e)
			}
		}
	})
}

func FuzzFixedRoundTrip(f *testing.F) {
	f.Add(0.0, uint8(0))
	f.Add(1234.5678, uint8(16))
	f.Add(-0.001, uint8(30))
	f.Add(math.Ldexp(1, 40), uint8(20))
	f.Add(math.Inf(-1), uint8(3))
	f.Add(math.NaN(), uint8(3))
	f.Add(1e300, uint8(60))
	f.Fuzz(func(t *testing.T, x float64, frac uint8) {
		e, err := FromFixed(x, uint(frac))
		if err != nil {
			if !errors.Is(err, ErrOutOfRange) {
				t.Fatalf("FromFixed(%v, %d): err = %v, want ErrOutOfRange", x, frac, err)
			}
			finite := !math.IsNaN(x) && !math.IsInf(x, 0)
			if finite && frac <= 60 && math.Abs(math.Round(math.Ldexp(x, int(frac)))) < float64(MaxMagnitude)/2 {
				t.Fatalf("FromFixed(%v, %d) refused an in-range value: %v", x, frac, err)
			}
			return
		}
		got := e.Fixed(uint(frac))
		if want := math.Ldexp(math.Round(math.Ldexp(x, int(frac))), -int(frac)); got != want {
			t.Fatalf("FromFixed(%v, %d).Fixed = %v, want %v", x, frac, got, want)
		}
		if d := math.Abs(got - x); d > math.Ldexp(1, -int(frac)-1) {
			t.Fatalf("FromFixed(%v, %d) is off by %v, more than half a unit", x, frac, d)
		}
	})
}
