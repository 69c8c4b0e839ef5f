package sharing

import (
	"fmt"
	"io"
	"testing"
)

// chi2Crit15 is the 1 − 10^−6 quantile of the χ² distribution with 15
// degrees of freedom (16 bins), computed from the regularized incomplete
// gamma function: P(χ²₁₅ > 56.49) = 1.0·10^−6. The test runs 27 such
// comparisons, so an honest split fails one with probability below 3·10^−5.
const chi2Crit15 = 56.49

const privacySamples = 20000

// splitFunc writes the shares of secret for x = 1 … w into dst.
type splitFunc func(secret Element, dst []Element) error

// privacyFailures shares two very different secrets privacySamples times
// each and asks, with χ² tests at p = 10^−6, whether any t−1 shares
// (three subsets: two marginal 16-bin histograms and one joint 4×4 one each)
// are (a) distributed differently for the two secrets or (b) not uniform.
// It returns a description of every failed test.
func privacyFailures(split splitFunc, w int, subsets [][2]int) []string {
	secrets := [2]Element{{0}, {1 << 60}}
	type hist [16]int
	// h[secret][subset][0: marginal a, 1: marginal b, 2: joint]
	var h [2][][3]hist
	dst := make([]Element, w)
	for si, s := range secrets {
		h[si] = make([][3]hist, len(subsets))
		for range privacySamples {
			if err := split(s, dst); err != nil {
				return []string{err.Error()}
			}
			for k, sub := range subsets {
				a, b := dst[sub[0]].v, dst[sub[1]].v
				h[si][k][0][a>>57]++ // top 4 of 61 bits
				h[si][k][1][b>>57]++
				h[si][k][2][(a>>59)<<2|b>>59]++ // top 2 bits of each
			}
		}
	}
	var fails []string
	names := [3]string{"marginal of first", "marginal of second", "joint"}
	for k, sub := range subsets {
		for m := range 3 {
			a, b := h[0][k][m][:], h[1][k][m][:]
			if x := chi2Homogeneity(a, b); x > chi2Crit15 {
				fails = append(fails, fmt.Sprintf("shares %v, %s: χ² = %.1f > %.2f between secrets", sub, names[m], x, chi2Crit15))
			}
			for si, hs := range [][]int{a, b} {
				if x := chi2Uniform(hs); x > chi2Crit15 {
					fails = append(fails, fmt.Sprintf("shares %v, %s, secret %d: χ² = %.1f > %.2f against uniform", sub, names[m], secrets[si].v, x, chi2Crit15))
				}
			}
		}
	}
	return fails
}

// chi2Homogeneity is Pearson's statistic for "a and b are samples of one
// distribution" (a 2×k contingency table; k−1 degrees of freedom).
func chi2Homogeneity(a, b []int) float64 {
	na, nb := 0, 0
	for i := range a {
		na += a[i]
		nb += b[i]
	}
	n := float64(na + nb)
	x := 0.0
	for i := range a {
		col := float64(a[i] + b[i])
		if col == 0 {
			continue
		}
		ea, eb := float64(na)*col/n, float64(nb)*col/n
		x += sq(float64(a[i])-ea)/ea + sq(float64(b[i])-eb)/eb
	}
	return x
}

// chi2Uniform is Pearson's statistic for "h is uniform over its bins". The
// bins split [0, q) into equal ranges up to one value, so uniform is exact
// to 2^−57.
func chi2Uniform(h []int) float64 {
	n := 0
	for _, c := range h {
		n += c
	}
	e := float64(n) / float64(len(h))
	x := 0.0
	for _, c := range h {
		x += sq(float64(c)-e) / e
	}
	return x
}

func sq(v float64) float64 { return v * v }

// lowEntropy passes on only the low 32 bits of every 64-bit word: a
// randomness source that looks fine byte by byte but is badly broken.
type lowEntropy struct{ r io.Reader }

func (l lowEntropy) Read(p []byte) (int, error) {
	n, err := l.r.Read(p)
	for i := 4; i+4 <= n; i += 8 {
		p[i], p[i+1], p[i+2], p[i+3] = 0, 0, 0, 0
	}
	return n, err
}

// TestPrivacyChiSquare checks the security property of Shamir sharing: any
// t−1 shares are uniform whatever the secret. So the check can be trusted,
// it must also fail for deliberately broken splits.
func TestPrivacyChiSquare(t *testing.T) {
	const w, th = 5, 3
	xs := seqXs(w)
	subsets := [][2]int{{0, 1}, {3, 4}, {1, 4}}
	r := newRand(t)
	honest, err := NewSplitter(xs, th, r)
	if err != nil {
		t.Fatal(err)
	}
	weak, err := NewSplitter(xs, th, lowEntropy{r})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		split    splitFunc
		wantFail bool
	}{
		{"honest split", honest.Split, false},
		{"broken: degree-0 polynomial (shares = secret)", func(s Element, dst []Element) error {
			for i := range dst {
				dst[i] = s
			}
			return nil
		}, true},
		{"broken: 32-bit coefficients", weak.Split, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fails := privacyFailures(tc.split, w, subsets)
			if tc.wantFail && len(fails) == 0 {
				t.Fatal("the χ² check did not detect a broken split")
			}
			if !tc.wantFail {
				for _, f := range fails {
					t.Error(f)
				}
			}
		})
	}
}
