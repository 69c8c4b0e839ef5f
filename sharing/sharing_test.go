package sharing

import (
	"crypto/rand"
	"testing"
)

func TestSplitRecoverRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		xs   []uint64
		t    int
	}{
		{"w4t4", []uint64{1, 2, 3, 4}, 4},
		{"w5t3", []uint64{7, 11, 13, 17, 19}, 3},
		{"w1t1", []uint64{5}, 1},
		{"large x", []uint64{Q - 1, Q - 2, 1 << 40}, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			xs := xsOf(tc.xs...)
			sp, err := NewSplitter(xs, tc.t, rand.Reader)
			if err != nil {
				t.Fatal(err)
			}
			var c Combiner
			for _, secret := range []uint64{0, 1, 42, MaxMagnitude, Q - 1} {
				ys := make([]Element, len(xs))
				if err := sp.Split(NewElement(secret), ys); err != nil {
					t.Fatal(err)
				}
				// Every window of t consecutive shares (cyclically) recovers.
				for start := range xs {
					shares := make([]Share, 0, tc.t)
					for k := 0; k < tc.t; k++ {
						i := (start + k) % len(xs)
						shares = append(shares, Share{xs[i], ys[i]})
					}
					got, err := c.Recover(shares, tc.t)
					if err != nil {
						t.Fatal(err)
					}
					if got.Uint64() != secret {
						t.Fatalf("recovered %d from shares starting at %d, want %d", got.Uint64(), start, secret)
					}
				}
			}
		})
	}
}
