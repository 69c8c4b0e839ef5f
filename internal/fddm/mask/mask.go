// Package mask is the dynamic masking step of FDDM: after a billing period is
// final, a meter rewrites the readings of its stored history that the
// sensitivity model scores as revealing; the others stay exact.
//
// # Policy
//
// Reading i of a closed period has a score s_i ∈ [0, 1] (model.Logistic).
// It is a candidate when s_i > Policy.Threshold, or, with Policy.TargetRate
// ρ > 0, when it is among the ⌈ρ·n⌉ highest scores. At most
// ⌊Policy.MaxShare·n⌋ readings are masked, the highest scores first (ties in
// time order). A masked reading is rewritten by one strategy:
//
//   - Generalise: replaced by the population profile for its slot of the day
//     (the mean reading of all meters in that slot, an aggregate the PPN
//     network releases anyway);
//   - Coarsen: rounded to the nearest multiple of Policy.CoarsenWh;
//   - Suppress: replaced by the Suppressed marker (no value).
//
// Masking is irreversible: the caller writes the rewritten values over the
// originals (a history store calls Apply inside its write transaction).
// Nothing is masked before the period is final, and Apply says so. Bills are
// computed from exact aggregates before masking and never change afterwards;
// masking changes the sums of the stored history, which is what defeats
// linking a masked history to its bill (docs/fddm.md).
//
// StaticRound is the baseline of the FDDM paper: every value rounded,
// whatever its sensitivity.
package mask

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"slices"
)

// Suppressed is the value a suppressed reading is rewritten to.
const Suppressed = math.MaxUint64

var (
	// ErrNotFinal reports a masking request for a period not yet final.
	ErrNotFinal = errors.New("mask: period is not final; masking runs only after the bill for the period is issued")
	// ErrPolicy reports an invalid policy.
	ErrPolicy = errors.New("mask: invalid policy")
	// ErrInput reports readings, scores or profile of the wrong shape.
	ErrInput = errors.New("mask: invalid input")
)

// Strategy is how a masked reading is rewritten.
type Strategy int

// The strategies.
const (
	Generalise Strategy = iota // replace by the population profile of the slot
	Coarsen                    // round to a multiple of Policy.CoarsenWh
	Suppress                   // replace by Suppressed
)

var strategyNames = []string{"generalise", "coarsen", "suppress"}

// String returns the strategy's name as ParseStrategy reads it.
func (s Strategy) String() string {
	if s < 0 || int(s) >= len(strategyNames) {
		return fmt.Sprintf("strategy(%d)", int(s))
	}
	return strategyNames[s]
}

// ParseStrategy reads "generalise", "coarsen" or "suppress".
func ParseStrategy(s string) (Strategy, error) {
	if i := slices.Index(strategyNames, s); i >= 0 {
		return Strategy(i), nil
	}
	return 0, fmt.Errorf("%w: unknown strategy %q; use one of generalise, coarsen, suppress", ErrPolicy, s)
}

// Policy is a meter's masking configuration.
type Policy struct {
	Strategy   Strategy
	Threshold  float64 // mask scores above this (used when TargetRate is 0)
	TargetRate float64 // if > 0, mask this share of readings, highest scores first
	MaxShare   float64 // never mask more than this share of the period, in (0, 1]
	CoarsenWh  uint64  // Coarsen's step, Wh
}

// DefaultPolicy is the daemons' and the devnet's masking policy when none
// is given: suppress readings scoring above 0.6, at most half of a meter's
// period, a coarsen step of 100 Wh (docs/fddm.md §4 measures thresholds).
func DefaultPolicy() Policy {
	return Policy{Strategy: Suppress, Threshold: 0.6, MaxShare: 0.5, CoarsenWh: 100}
}

// Validate reports the first invalid field, with the fix.
func (p Policy) Validate() error {
	switch {
	case p.Strategy < Generalise || p.Strategy > Suppress:
		return fmt.Errorf("%w: strategy %d; use Generalise, Coarsen or Suppress", ErrPolicy, int(p.Strategy))
	case !(p.Threshold >= 0 && p.Threshold <= 1):
		return fmt.Errorf("%w: threshold %g; scores are probabilities, use a value in [0, 1]", ErrPolicy, p.Threshold)
	case !(p.TargetRate >= 0 && p.TargetRate <= 1):
		return fmt.Errorf("%w: target rate %g; use a share in [0, 1] (0: use the threshold)", ErrPolicy, p.TargetRate)
	case !(p.MaxShare > 0 && p.MaxShare <= 1):
		return fmt.Errorf("%w: max share %g; use a share in (0, 1]", ErrPolicy, p.MaxShare)
	case p.Strategy == Coarsen && p.CoarsenWh == 0:
		return fmt.Errorf("%w: coarsen step 0 Wh; set a step of at least 1 Wh", ErrPolicy)
	}
	return nil
}

// Period is one meter's stored history of a closed billing period.
type Period struct {
	Wh     []uint64  // readings, rewritten in place
	Scores []float64 // sensitivity score of each reading
	// Profile[s] is the population's mean reading in slot s of the day
	// (Generalise only); reading i is in slot (FirstSlot + i) mod len(Profile).
	Profile   []uint64
	FirstSlot int
}

// Result says what Apply did.
type Result struct {
	Masked []int // indices rewritten, in time order
	Capped bool  // MaxShare stopped candidates from being masked
}

// Apply masks the period in place under policy p when final is true; when
// it is false it changes nothing and returns ErrNotFinal.
func Apply(final bool, per Period, p Policy) (Result, error) {
	if !final {
		return Result{}, ErrNotFinal
	}
	if err := p.Validate(); err != nil {
		return Result{}, err
	}
	n := len(per.Wh)
	if len(per.Scores) != n {
		return Result{}, fmt.Errorf("%w: %d scores for %d readings", ErrInput, len(per.Scores), n)
	}
	if p.Strategy == Generalise && len(per.Profile) == 0 {
		return Result{}, fmt.Errorf("%w: generalising needs the population profile; pass Period.Profile", ErrInput)
	}
	for i, s := range per.Scores {
		if math.IsNaN(s) {
			return Result{}, fmt.Errorf("%w: score %d is NaN", ErrInput, i)
		}
	}
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(per.Scores[b], per.Scores[a]) })
	want := 0
	if p.TargetRate > 0 {
		want = int(math.Ceil(p.TargetRate * float64(n)))
	} else {
		for want < n && per.Scores[order[want]] > p.Threshold {
			want++
		}
	}
	limit := int(math.Floor(p.MaxShare * float64(n)))
	res := Result{Capped: want > limit}
	masked := order[:min(want, limit)]
	slices.Sort(masked)
	for _, i := range masked {
		per.Wh[i] = rewrite(per, p, i)
	}
	res.Masked = slices.Clone(masked)
	return res, nil
}

func rewrite(per Period, p Policy, i int) uint64 {
	switch p.Strategy {
	case Generalise:
		return per.Profile[(per.FirstSlot+i)%len(per.Profile)]
	case Coarsen:
		return roundTo(per.Wh[i], p.CoarsenWh)
	default:
		return Suppressed
	}
}

func roundTo(v, step uint64) uint64 { return (v + step/2) / step * step }

// StaticRound rounds every reading to the nearest multiple of step Wh in
// place: the FDDM paper's static masking, the baseline dynamic masking is
// compared with.
func StaticRound(wh []uint64, step uint64) error {
	if step == 0 {
		return fmt.Errorf("%w: rounding step 0 Wh; use at least 1", ErrPolicy)
	}
	for i, v := range wh {
		if v != Suppressed {
			wh[i] = roundTo(v, step)
		}
	}
	return nil
}
