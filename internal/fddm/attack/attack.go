// Package attack measures what masked smart-meter histories still reveal,
// and what they are still good for, against the ground truth of synthetic
// households.
//
// # Notation
//
// A View is what an attacker holds of N households over one period:
// x_h,i, the reading of household h in interval i, or NaN where the reading
// was suppressed. Every attack reports its success next to the rate of a
// guess without the data.
//
// Occupancy (Kleiminger et al. 2015): the period is cut into slots of S
// readings (default S = 4, one hour of 15-minute readings). Each slot gets
// Kleiminger's features — min, max, mean, standard deviation, range, sum of
// absolute differences, number of on/off events (steps of at least
// OccupancyOptions.EventWh) — plus the share of suppressed readings and time
// features (hour of day as sine and cosine, weekend). A class-weighted
// logistic regression is trained on the slots of the first half of the
// households (with their ground truth, under the same masking: the attacker
// knows the scheme — or, with OccupancyOptions.TrainOn, on exact readings:
// one who does not) and tested on the other half. A slot is occupied when at
// least half of its intervals had an active occupant. Reported: balanced
// accuracy (the mean of the true-positive and true-negative rates; 0.5 for
// any constant guess) and accuracy next to the majority-class rate.
//
// Re-identification: the attacker holds one auxiliary week of each
// household's exact readings with its identity, and the period's weeks
// without. A week's fingerprint is, per hour of the day, the log of the mean
// and of the standard deviation of that hour's energy over the seven days.
// Each anonymous week is assigned to the auxiliary week nearest in Euclidean
// distance. Reported: top-1 accuracy against the chance rate 1/N.
//
// Billing linkage: the utility publishes (or leaks) each customer's billed
// total B_h of the period with identity; the attacker holds the anonymous
// masked histories and links each to the bill closest to its total (a
// suppressed reading counted at the population profile of its slot).
// Masking that keeps every period sum exact loses to this attack whatever
// else it hides. Reported: top-1 accuracy against 1/N.
//
// Utility: the share of readings unchanged; the relative error
// Σ|Â−A|/ΣA of hourly energies, per household and for the population total,
// with suppressed readings imputed from the population profile.
//
// # References
//
//   - W. Kleiminger, C. Beckel, S. Santini, "Household occupancy monitoring
//     using electricity meters", UbiComp 2015.
//   - M. Buchmann, K. Böhm, T. Burghardt, S. Kessler, "Re-identification of
//     smart meter data", Personal and Ubiquitous Computing 17(4), 2013.
package attack

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// ErrView reports a view whose shape does not fit the attack.
var ErrView = errors.New("attack: invalid view")

// View is what an attacker holds of a population over one period.
type View struct {
	Wh       [][]float64   // Wh[h][i]: household h, interval i; NaN if suppressed
	Start    time.Time     // instant interval 0 begins
	Interval time.Duration // reading interval
}

func (v View) check() (int, error) {
	if len(v.Wh) < 2 {
		return 0, fmt.Errorf("%w: %d households; need at least 2", ErrView, len(v.Wh))
	}
	if v.Interval <= 0 || time.Hour%v.Interval != 0 {
		return 0, fmt.Errorf("%w: interval %v must divide an hour", ErrView, v.Interval)
	}
	n := len(v.Wh[0])
	for h, x := range v.Wh {
		if len(x) != n {
			return 0, fmt.Errorf("%w: household %d has %d readings, household 0 has %d", ErrView, h, len(x), n)
		}
	}
	return n, nil
}

// perHour is the number of readings in an hour.
func (v View) perHour() int { return int(time.Hour / v.Interval) }

// perDay is the number of readings in a day.
func (v View) perDay() int { return 24 * v.perHour() }

// FromWh converts stored readings (mask.Suppressed where suppressed, given as
// suppressed) to a view row.
func FromWh(wh []uint64, suppressed uint64) []float64 {
	out := make([]float64, len(wh))
	for i, x := range wh {
		if x == suppressed {
			out[i] = math.NaN()
		} else {
			out[i] = float64(x)
		}
	}
	return out
}

// Rate is an attack's success next to the rate of guessing.
type Rate struct {
	Value, Chance float64
}
