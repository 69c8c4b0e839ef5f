package attack

import (
	"fmt"
	"math"
)

// Reidentify links each full week of the anonymous view to the nearest
// auxiliary week (aux.Wh[h] is household h's exact week, one week of
// readings) and returns the top-1 accuracy against 1/N.
func Reidentify(v, aux View) (Rate, error) {
	n, err := v.check()
	if err != nil {
		return Rate{}, err
	}
	m, err := aux.check()
	if err != nil {
		return Rate{}, err
	}
	week := 7 * v.perDay()
	if len(aux.Wh) != len(v.Wh) || m != week || aux.Interval != v.Interval {
		return Rate{}, fmt.Errorf("%w: auxiliary data must be one week (%d readings) of each of the %d households at the view's interval", ErrView, week, len(v.Wh))
	}
	if n < week {
		return Rate{}, fmt.Errorf("%w: %d readings, less than a week (%d)", ErrView, n, week)
	}
	ref := make([][]float64, len(aux.Wh))
	for h, x := range aux.Wh {
		ref[h] = fingerprint(x, aux.perHour())
	}
	var hits, tries float64
	for h, x := range v.Wh {
		for w := 0; w+week <= n; w += week {
			fp := fingerprint(x[w:w+week], v.perHour())
			best, bestD := -1, math.Inf(1)
			for g, r := range ref {
				if d := dist(fp, r); d < bestD {
					best, bestD = g, d
				}
			}
			if best == h {
				hits++
			}
			tries++
		}
	}
	return Rate{Value: hits / tries, Chance: 1 / float64(len(v.Wh))}, nil
}

// fingerprint is, per hour of the day, ln(1+mean) and ln(1+sd) of the
// hour's energy over the days of x; an hour with suppressed readings is
// scaled up from the readings present, and left out if none is.
func fingerprint(x []float64, perHour int) []float64 {
	perDay := 24 * perHour
	fp := make([]float64, 48)
	for hr := range 24 {
		var sum, sq, k float64
		for d := 0; (d+1)*perDay <= len(x); d++ {
			var e, present float64
			for _, v := range x[d*perDay+hr*perHour : d*perDay+(hr+1)*perHour] {
				if !math.IsNaN(v) {
					e += v
					present++
				}
			}
			if present == 0 {
				continue
			}
			e *= float64(perHour) / present
			sum += e
			sq += e * e
			k++
		}
		if k > 0 {
			mean := sum / k
			fp[hr] = math.Log1p(mean)
			fp[24+hr] = math.Log1p(math.Sqrt(max(sq/k-mean*mean, 0)))
		}
	}
	return fp
}

func dist(a, b []float64) float64 {
	var s float64
	for i := range a {
		d := a[i] - b[i]
		s += d * d
	}
	return s
}
