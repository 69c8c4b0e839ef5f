package model

import (
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"strconv"
	"testing"
	"time"
)

var monday = time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)

func TestLabels(t *testing.T) {
	b := Baseline{Base: 10, Median: 30}
	l := DefaultLabels()
	tests := []struct {
		name string
		wh   []uint64
		want []float64
	}{
		{"standby", []uint64{10, 12, 9}, []float64{0, 0, 0}},
		{"level", []uint64{10, 35, 35}, []float64{0, 1, 1}},
		{"step down", []uint64{34, 12, 12}, []float64{0, 1, 0}},
		{"small step below level", []uint64{10, 29, 10}, []float64{0, 0, 0}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := l.Label(nil, tc.wh, b)
			for i := range got {
				if got[i] != tc.want[i] {
					t.Fatalf("labels %v, want %v", got, tc.want)
				}
			}
		})
	}
}

func TestFeatures(t *testing.T) {
	s := Series{Wh: []uint64{10, 10, 50, 10}, Start: monday.AddDate(0, 0, 5).Add(6 * time.Hour), Interval: 15 * time.Minute}
	b := Baseline{Base: 10, Median: 10}
	X, err := Features(nil, s, b)
	if err != nil {
		t.Fatal(err)
	}
	if len(X) != 4*Dim {
		t.Fatalf("%d values, want %d", len(X), 4*Dim)
	}
	row := func(i int) []float64 { return X[i*Dim : i*Dim+Dim] }
	// 06:00 on a Saturday.
	if r := row(0); r[0] != 1 || math.Abs(r[1]-1) > 1e-12 || math.Abs(r[2]) > 1e-12 || r[3] != 1 {
		t.Errorf("row 0 = %v: want bias 1, hour (sin, cos) = (1, 0), weekend 1", r)
	}
	if r := row(0); r[4] != 0 || r[5] != 0 || r[6] != 0 || r[7] != 0 {
		t.Errorf("row 0 = %v: a reading at its baseline has zero level, above, step and var", r)
	}
	if r := row(2); math.Abs(r[6]-math.Log1p(40.0/20)) > 1e-12 || math.Abs(r[5]-math.Log1p(40.0/20)) > 1e-12 {
		t.Errorf("row 2 = %v: step and above should be ln(1+40/20)", r)
	}
	if r := row(3); r[6] != row(2)[6] || r[7] <= 0 {
		t.Errorf("row 3 = %v: the step down equals the step up; the window varies", r)
	}
	if _, err := Features(nil, Series{Wh: []uint64{1}, Interval: 0}, b); !errors.Is(err, ErrSeries) {
		t.Errorf("zero interval: err %v, want ErrSeries", err)
	}
}

func TestBaseline(t *testing.T) {
	wh := make([]uint64, 100)
	for i := range wh {
		wh[i] = uint64(99 - i)
	}
	if b := NewBaseline(wh); b.Base != 10 || b.Median != 50 {
		t.Errorf("baseline %+v, want base 10 median 50", b)
	}
	if b := NewBaseline(nil); b != (Baseline{}) {
		t.Errorf("baseline of nothing %+v, want zero", b)
	}
}

// randomData draws rows with a linear truth, so a fit must learn it.
func randomData(r *rand.Rand, n int, truth [Dim]float64) (X, y []float64) {
	for range n {
		row := make([]float64, Dim)
		row[0] = 1
		var z float64
		for j := 1; j < Dim; j++ {
			row[j] = r.NormFloat64()
		}
		for j := range row {
			z += truth[j] * row[j]
		}
		X = append(X, row...)
		lab := 0.0
		if r.Float64() < sigmoid(z) {
			lab = 1
		}
		y = append(y, lab)
	}
	return X, y
}

func TestGradientMatchesFiniteDifference(t *testing.T) {
	seed := testSeed(t)
	r := rand.New(rand.NewPCG(seed, 1))
	X, y := randomData(r, 200, [Dim]float64{0.5, 1, -1, 2, 0, 0, 0.5, -0.5})
	var m Logistic
	for j := range m.W {
		m.W[j] = r.NormFloat64()
	}
	const l2, h = 0.01, 1e-6
	g := m.Gradient(X, y, l2)
	for j := range m.W {
		p, q := m, m
		p.W[j] += h
		q.W[j] -= h
		fd := (p.Loss(X, y, l2) - q.Loss(X, y, l2)) / (2 * h)
		if math.Abs(fd-g[j]) > 1e-6*max(1, math.Abs(fd)) {
			t.Errorf("component %d: gradient %g, finite difference %g", j, g[j], fd)
		}
	}
}

func TestFitLearnsTruth(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	truth := [Dim]float64{-0.5, 2, -2, 1, 0, 0, 1.5, 0}
	X, y := randomData(r, 4000, truth)
	var m Logistic
	before := m.Loss(X, y, 0)
	if err := m.Fit(X, y, Train{Epochs: 500, Rate: 1}); err != nil {
		t.Fatal(err)
	}
	after := m.Loss(X, y, 0)
	if after >= before {
		t.Fatalf("loss %g after fit, %g before", after, before)
	}
	for j, w := range m.W {
		if math.Abs(w-truth[j]) > 0.35 {
			t.Errorf("weight %d (%s) = %.3f, truth %.3f", j, FeatureNames[j], w, truth[j])
		}
	}
	if err := m.Fit(X[:Dim], y, Train{Epochs: 1}); !errors.Is(err, ErrData) {
		t.Errorf("mismatched data: err %v, want ErrData", err)
	}
}

// testSeed returns FDDM_TEST_SEED if set, else 1, and logs it.
func testSeed(t *testing.T) uint64 {
	t.Helper()
	seed := uint64(1)
	if v := os.Getenv("FDDM_TEST_SEED"); v != "" {
		s, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			t.Fatalf("FDDM_TEST_SEED=%q: want an unsigned integer", v)
		}
		seed = s
	}
	t.Logf("seed %d (set FDDM_TEST_SEED to change)", seed)
	return seed
}
