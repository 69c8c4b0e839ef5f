package attack

import (
	"fmt"
	"math"
)

// Linkage links each anonymous history of v to the nearest billed total
// (bills[h] is household h's exact period total, Wh) and returns the top-1
// accuracy against 1/N. profile[s] is the population's mean reading in slot
// s of the day; suppressed readings count at it.
func Linkage(v View, bills []float64, profile []float64) (Rate, error) {
	if _, err := v.check(); err != nil {
		return Rate{}, err
	}
	if len(bills) != len(v.Wh) || len(profile) != v.perDay() {
		return Rate{}, fmt.Errorf("%w: %d bills and a %d-slot profile for %d households with %d readings a day", ErrView, len(bills), len(profile), len(v.Wh), v.perDay())
	}
	var hits float64
	for h, x := range v.Wh {
		est := total(x, profile)
		best, bestD := -1, math.Inf(1)
		for g, b := range bills {
			if d := math.Abs(est - b); d < bestD {
				best, bestD = g, d
			}
		}
		if best == h {
			hits++
		}
	}
	return Rate{Value: hits / float64(len(v.Wh)), Chance: 1 / float64(len(v.Wh))}, nil
}

func total(x, profile []float64) float64 {
	var s float64
	for i, v := range x {
		if math.IsNaN(v) {
			v = profile[i%len(profile)]
		}
		s += v
	}
	return s
}
