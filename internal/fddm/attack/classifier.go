package attack

import "math"

// logit is a class-weighted logistic regression on standardised features,
// the attacker's classifier. Missing features (NaN) are imputed with the
// training mean.
type logit struct {
	mean, sd []float64
	w        []float64 // w[0] bias, then one per feature
}

func (l *logit) fit(X [][]float64, y []bool, epochs int, rate float64) {
	d := len(X[0])
	l.mean, l.sd = make([]float64, d), make([]float64, d)
	cnt := make([]float64, d)
	for _, x := range X {
		for j, v := range x {
			if !math.IsNaN(v) {
				l.mean[j] += v
				cnt[j]++
			}
		}
	}
	for j := range l.mean {
		if cnt[j] > 0 {
			l.mean[j] /= cnt[j]
		}
	}
	for _, x := range X {
		for j, v := range x {
			if !math.IsNaN(v) {
				l.sd[j] += (v - l.mean[j]) * (v - l.mean[j])
			}
		}
	}
	for j := range l.sd {
		l.sd[j] = math.Sqrt(l.sd[j] / max(cnt[j], 1))
		if l.sd[j] == 0 {
			l.sd[j] = 1
		}
	}
	Z := make([][]float64, len(X))
	for i, x := range X {
		Z[i] = l.standardise(x)
	}
	var pos float64
	for _, b := range y {
		if b {
			pos++
		}
	}
	n := float64(len(y))
	// Class weights n/(2·n_c): both classes weigh the same in the loss.
	wPos, wNeg := n/(2*max(pos, 1)), n/(2*max(n-pos, 1))
	l.w = make([]float64, d+1)
	g := make([]float64, d+1)
	for range epochs {
		clear(g)
		for i, z := range Z {
			p := l.prob(z)
			r, c := p, wNeg
			if y[i] {
				r, c = p-1, wPos
			}
			r *= c
			g[0] += r
			for j, v := range z {
				g[j+1] += r * v
			}
		}
		for j := range l.w {
			l.w[j] -= rate * g[j] / n
		}
	}
}

func (l *logit) standardise(x []float64) []float64 {
	z := make([]float64, len(x))
	for j, v := range x {
		if !math.IsNaN(v) {
			z[j] = (v - l.mean[j]) / l.sd[j]
		}
	}
	return z
}

func (l *logit) prob(z []float64) float64 {
	s := l.w[0]
	for j, v := range z {
		s += l.w[j+1] * v
	}
	return 1 / (1 + math.Exp(-s))
}

func (l *logit) predict(x []float64) bool { return l.prob(l.standardise(x)) >= 0.5 }
