package sharing

import (
	"errors"
	"math"
	"math/big"
	"testing"
)

var bigQ = new(big.Int).SetUint64(Q)

func bigMod(x *big.Int) uint64 { return new(big.Int).Mod(x, bigQ).Uint64() }

func bigU(v uint64) *big.Int { return new(big.Int).SetUint64(v) }

// edgeInputs are the values that stress reduction: around 0, q, 2^61, 2^62
// and 2^64.
var edgeInputs = []uint64{
	0, 1, 2, 7, 8, Q - 2, Q - 1, Q, Q + 1, Q + 7, Q + 8, 1 << 61, 1<<61 + 1,
	2 * Q, 2*Q - 1, 2*Q + 1, 1 << 62, 1<<63 - 1, 1 << 63, math.MaxUint64 - 1, math.MaxUint64,
}

func TestNewElementReducesLikeBig(t *testing.T) {
	r := newRand(t)
	in := append([]uint64(nil), edgeInputs...)
	for range 10000 {
		in = append(in, r.Uint64())
	}
	for _, v := range in {
		if got, want := NewElement(v).Uint64(), bigMod(bigU(v)); got != want {
			t.Fatalf("NewElement(%d) = %d, want %d", v, got, want)
		}
	}
}

func TestFieldOpsMatchBig(t *testing.T) {
	r := newRand(t)
	var vals []Element
	for _, v := range edgeInputs {
		vals = append(vals, NewElement(v))
	}
	for range 200 {
		vals = append(vals, randElement(r))
	}
	for _, a := range vals {
		for _, b := range vals {
			ab, bb := bigU(a.v), bigU(b.v)
			checks := []struct {
				op       string
				got, exp uint64
			}{
				{"add", a.Add(b).v, bigMod(new(big.Int).Add(ab, bb))},
				{"sub", a.Sub(b).v, bigMod(new(big.Int).Sub(ab, bb))},
				{"mul", a.Mul(b).v, bigMod(new(big.Int).Mul(ab, bb))},
				{"neg", a.Neg().v, bigMod(new(big.Int).Neg(ab))},
			}
			for _, c := range checks {
				if c.got != c.exp {
					t.Fatalf("%d %s %d = %d, want %d", a.v, c.op, b.v, c.got, c.exp)
				}
			}
		}
	}
}

func TestExpInverseMatchBig(t *testing.T) {
	r := newRand(t)
	vals := []Element{{1}, {2}, {Q - 1}, {Q - 2}, {1 << 60}}
	for range 500 {
		vals = append(vals, randElement(r))
	}
	for _, a := range vals {
		k := r.Uint64()
		if got, want := a.Exp(k).v, new(big.Int).Exp(bigU(a.v), bigU(k), bigQ).Uint64(); got != want {
			t.Fatalf("%d^%d = %d, want %d", a.v, k, got, want)
		}
		inv, err := a.Inverse()
		if err != nil {
			t.Fatalf("inverse of %d: %v", a.v, err)
		}
		if want := new(big.Int).ModInverse(bigU(a.v), bigQ).Uint64(); inv.v != want {
			t.Fatalf("inverse of %d = %d, want %d", a.v, inv.v, want)
		}
	}
	if got := (Element{}).Exp(0).v; got != 1 {
		t.Fatalf("0^0 = %d, want 1", got)
	}
	if _, err := (Element{}).Inverse(); !errors.Is(err, ErrZeroInverse) {
		t.Fatalf("inverse of 0: err = %v, want ErrZeroInverse", err)
	}
}

func TestBatchInverse(t *testing.T) {
	r := newRand(t)
	for _, n := range []int{0, 1, 2, 15, 16, 17, 100} {
		src := make([]Element, n)
		for i := range src {
			for src[i].IsZero() {
				src[i] = randElement(r)
			}
		}
		dst := make([]Element, n)
		if err := BatchInverse(dst, src); err != nil {
			t.Fatalf("n=%d: %v", n, err)
		}
		for i := range src {
			if src[i].Mul(dst[i]).v != 1 {
				t.Fatalf("n=%d: element %d: %d·%d ≠ 1", n, i, src[i].v, dst[i].v)
			}
		}
		// In place: dst aliases src.
		alias := append([]Element(nil), src...)
		if err := BatchInverse(alias, alias); err != nil {
			t.Fatal(err)
		}
		for i := range alias {
			if alias[i] != dst[i] {
				t.Fatalf("n=%d: in-place inverse differs at %d", n, i)
			}
		}
	}
	if err := BatchInverse(make([]Element, 2), make([]Element, 3)); !errors.Is(err, ErrLength) {
		t.Fatalf("mismatched lengths: err = %v, want ErrLength", err)
	}
	if err := BatchInverse(make([]Element, 3), []Element{{1}, {0}, {2}}); !errors.Is(err, ErrZeroInverse) {
		t.Fatalf("zero element: err = %v, want ErrZeroInverse", err)
	}
}

func TestElementFromCanonical(t *testing.T) {
	tests := []struct {
		v  uint64
		ok bool
	}{
		{0, true}, {1, true}, {Q - 1, true}, {Q, false}, {Q + 1, false}, {1 << 61, false}, {math.MaxUint64, false},
	}
	for _, tc := range tests {
		e, err := ElementFromCanonical(tc.v)
		if tc.ok != (err == nil) {
			t.Fatalf("ElementFromCanonical(%d): err = %v, want ok = %v", tc.v, err, tc.ok)
		}
		if err != nil && !errors.Is(err, ErrNotCanonical) {
			t.Fatalf("ElementFromCanonical(%d): err = %v, want ErrNotCanonical", tc.v, err)
		}
		if tc.ok && e.Uint64() != tc.v {
			t.Fatalf("ElementFromCanonical(%d) = %d", tc.v, e.Uint64())
		}
	}
}

func FuzzElementFromCanonical(f *testing.F) {
	for _, v := range edgeInputs {
		f.Add(v)
	}
	f.Fuzz(func(t *testing.T, v uint64) {
		e, err := ElementFromCanonical(v)
		if (v < Q) != (err == nil) {
			t.Fatalf("ElementFromCanonical(%d): err = %v", v, err)
		}
		if err == nil && e.Uint64() != v {
			t.Fatalf("round trip %d → %d", v, e.Uint64())
		}
		if got, want := NewElement(v).Uint64(), bigMod(bigU(v)); got != want {
			t.Fatalf("NewElement(%d) = %d, want %d", v, got, want)
		}
	})
}
