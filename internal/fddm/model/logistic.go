package model

import (
	"errors"
	"fmt"
	"math"
)

// ErrData reports training data of the wrong shape.
var ErrData = errors.New("model: invalid training data")

// Logistic is a logistic-regression model over Dim features.
type Logistic struct {
	W [Dim]float64 // weights; W[0] is the bias
}

// Score returns p = σ(w·x) for one feature row x (len Dim).
func (m *Logistic) Score(x []float64) float64 {
	var z float64
	for j, w := range m.W {
		z += w * x[j]
	}
	return sigmoid(z)
}

// Scores appends the score of every row of X (row-major, Dim per row).
func (m *Logistic) Scores(dst, X []float64) []float64 {
	for i := 0; i+Dim <= len(X); i += Dim {
		dst = append(dst, m.Score(X[i:i+Dim]))
	}
	return dst
}

func sigmoid(z float64) float64 {
	if z >= 0 {
		return 1 / (1 + math.Exp(-z))
	}
	e := math.Exp(z)
	return e / (1 + e)
}

// Train are the gradient-descent settings.
type Train struct {
	Epochs int     // full-batch steps
	Rate   float64 // step size
	L2     float64 // λ, the L2 penalty on non-bias weights
}

// DefaultTrain returns the settings used in docs/fddm.md for one round of
// local training (the defaults of `fddm train`): 5 steps of size 1,
// λ = 10⁻³.
func DefaultTrain() Train { return Train{Epochs: 5, Rate: 1, L2: 1e-3} }

// Fit runs t.Epochs full-batch gradient steps on rows X (row-major, Dim per
// row) with labels y ∈ {0, 1}, starting from m.
func (m *Logistic) Fit(X, y []float64, t Train) error {
	if len(X) != len(y)*Dim || len(y) == 0 {
		return fmt.Errorf("%w: %d feature values for %d labels; need %d per label and at least one", ErrData, len(X), len(y), Dim)
	}
	for range t.Epochs {
		g := m.Gradient(X, y, t.L2)
		for j := range m.W {
			m.W[j] -= t.Rate * g[j]
		}
	}
	return nil
}

// Gradient returns the gradient of the mean log loss plus λ/2·|w|² (bias
// excluded) at m.
func (m *Logistic) Gradient(X, y []float64, l2 float64) [Dim]float64 {
	var g [Dim]float64
	for i := range y {
		x := X[i*Dim : i*Dim+Dim]
		r := m.Score(x) - y[i]
		for j := range g {
			g[j] += r * x[j]
		}
	}
	n := float64(len(y))
	for j := range g {
		g[j] /= n
		if j > 0 {
			g[j] += l2 * m.W[j]
		}
	}
	return g
}

// Loss returns the mean log loss plus λ/2·|w|² (bias excluded).
func (m *Logistic) Loss(X, y []float64, l2 float64) float64 {
	var s float64
	for i := range y {
		p := m.Score(X[i*Dim : i*Dim+Dim])
		p = min(max(p, 1e-15), 1-1e-15)
		s -= y[i]*math.Log(p) + (1-y[i])*math.Log(1-p)
	}
	s /= float64(len(y))
	for j := 1; j < Dim; j++ {
		s += l2 / 2 * m.W[j] * m.W[j]
	}
	return s
}
