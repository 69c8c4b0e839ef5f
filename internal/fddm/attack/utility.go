package attack

import (
	"fmt"
	"math"
)

// UtilityResult is what masking costs the users of the residual data.
type UtilityResult struct {
	Unchanged      float64 // share of readings identical to the originals
	HouseholdError float64 // Σ|Â−A|/ΣA over households' hourly energies
	AggregateError float64 // Σ|Â−A|/ΣA over the population's hourly totals
}

// Utility compares the masked view with the exact one (same shape);
// profile[s] is the population's mean reading in slot s of the day, used for
// suppressed readings.
func Utility(masked, exact View, profile []float64) (UtilityResult, error) {
	n, err := masked.check()
	if err != nil {
		return UtilityResult{}, err
	}
	if m, err := exact.check(); err != nil || m != n || len(exact.Wh) != len(masked.Wh) {
		return UtilityResult{}, fmt.Errorf("%w: masked and exact views differ in shape", ErrView)
	}
	if len(profile) != masked.perDay() {
		return UtilityResult{}, fmt.Errorf("%w: profile of %d slots, a day has %d readings", ErrView, len(profile), masked.perDay())
	}
	ph := masked.perHour()
	hours := n / ph
	aggM, aggE := make([]float64, hours), make([]float64, hours)
	var same, hhErr, hhTot float64
	for h := range masked.Wh {
		for hr := range hours {
			var em, ee float64
			for i := hr * ph; i < (hr+1)*ph; i++ {
				v := masked.Wh[h][i]
				if v == exact.Wh[h][i] {
					same++
				}
				if math.IsNaN(v) {
					v = profile[i%len(profile)]
				}
				em += v
				ee += exact.Wh[h][i]
			}
			hhErr += math.Abs(em - ee)
			hhTot += ee
			aggM[hr] += em
			aggE[hr] += ee
		}
	}
	var aErr, aTot float64
	for hr := range aggM {
		aErr += math.Abs(aggM[hr] - aggE[hr])
		aTot += aggE[hr]
	}
	return UtilityResult{
		Unchanged:      same / float64(len(masked.Wh)*hours*ph),
		HouseholdError: safeRatio(hhErr, hhTot),
		AggregateError: safeRatio(aErr, aTot),
	}, nil
}

func safeRatio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}
