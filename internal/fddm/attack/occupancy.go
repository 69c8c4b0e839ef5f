package attack

import (
	"fmt"
	"math"
	"time"
)

// OccupancyOptions configure the occupancy attack.
type OccupancyOptions struct {
	SlotReadings int     // readings per slot (default: one hour's)
	EventWh      float64 // step counted as an on/off event (default 20 Wh)
	Epochs       int     // training epochs (default 300)
	// TrainOn, if set, holds the histories the attacker trains on (same
	// shape as the view; only households [0, N/2) are used), e.g. exact
	// readings for an attacker who does not know the masking. Nil: the
	// attacker trains on the view itself.
	TrainOn [][]float64
}

// OccupancyResult is the occupancy attack's outcome on the test households.
type OccupancyResult struct {
	BalancedAccuracy float64 // (TPR + TNR)/2; 0.5 for a constant guess
	Accuracy         float64
	Majority         float64 // accuracy of always guessing the majority class
	TestSlots        int
}

// Occupancy trains on households [0, N/2) and tests on [N/2, N);
// occupied[h][i] is the ground truth of interval i of household h.
func Occupancy(v View, occupied [][]bool, o OccupancyOptions) (OccupancyResult, error) {
	n, err := v.check()
	if err != nil {
		return OccupancyResult{}, err
	}
	if len(occupied) != len(v.Wh) {
		return OccupancyResult{}, fmt.Errorf("%w: ground truth for %d households, view has %d", ErrView, len(occupied), len(v.Wh))
	}
	if o.SlotReadings == 0 {
		o.SlotReadings = v.perHour()
	}
	if o.EventWh == 0 {
		o.EventWh = 20
	}
	if o.Epochs == 0 {
		o.Epochs = 300
	}
	if o.SlotReadings < 2 || n < o.SlotReadings {
		return OccupancyResult{}, fmt.Errorf("%w: slots of %d readings over %d readings; use at least 2 per slot and one slot", ErrView, o.SlotReadings, n)
	}
	half := len(v.Wh) / 2
	tv := v
	if o.TrainOn != nil {
		tv.Wh = o.TrainOn
		if m, err := tv.check(); err != nil || m != n || len(tv.Wh) != len(v.Wh) {
			return OccupancyResult{}, fmt.Errorf("%w: training histories differ in shape from the view", ErrView)
		}
	}
	trX, trY := slotData(tv, occupied, 0, half, o)
	teX, teY := slotData(v, occupied, half, len(v.Wh), o)
	var clf logit
	clf.fit(trX, trY, o.Epochs, 0.5)
	var tp, tn, pos, neg float64
	for i, x := range teX {
		guess := clf.predict(x)
		if teY[i] {
			pos++
			if guess {
				tp++
			}
		} else {
			neg++
			if !guess {
				tn++
			}
		}
	}
	res := OccupancyResult{TestSlots: len(teY), Accuracy: (tp + tn) / (pos + neg), Majority: max(pos, neg) / (pos + neg)}
	res.BalancedAccuracy = (safeDiv(tp, pos) + safeDiv(tn, neg)) / 2
	return res, nil
}

func safeDiv(a, b float64) float64 {
	if b == 0 {
		return 0.5
	}
	return a / b
}

func slotData(v View, occupied [][]bool, from, to int, o OccupancyOptions) ([][]float64, []bool) {
	var X [][]float64
	var Y []bool
	S := o.SlotReadings
	for h := from; h < to; h++ {
		x := v.Wh[h]
		for s := 0; s+S <= len(x); s += S {
			t := v.Start.Add(time.Duration(s) * v.Interval).UTC()
			X = append(X, slotFeatures(x[s:s+S], t, o.EventWh))
			var occ int
			for _, b := range occupied[h][s : s+S] {
				if b {
					occ++
				}
			}
			Y = append(Y, 2*occ >= S)
		}
	}
	return X, Y
}

// slotFeatures are Kleiminger's features of one slot (NaN where every
// reading of the slot is suppressed), the suppressed share and the time.
func slotFeatures(x []float64, t time.Time, eventWh float64) []float64 {
	lo, hi := math.Inf(1), math.Inf(-1)
	var sum, sq, absDiff, events, present float64
	prev := math.NaN()
	for _, v := range x {
		if math.IsNaN(v) {
			continue
		}
		present++
		lo, hi = min(lo, v), max(hi, v)
		sum += v
		sq += v * v
		if !math.IsNaN(prev) {
			d := math.Abs(v - prev)
			absDiff += d
			if d >= eventWh {
				events++
			}
		}
		prev = v
	}
	h := float64(t.Hour()) + float64(t.Minute())/60
	weekend := 0.0
	if wd := t.Weekday(); wd == time.Saturday || wd == time.Sunday {
		weekend = 1
	}
	f := []float64{math.NaN(), math.NaN(), math.NaN(), math.NaN(), math.NaN(), math.NaN(), math.NaN()}
	if present > 0 {
		mean := sum / present
		sd := math.Sqrt(max(sq/present-mean*mean, 0))
		f = []float64{math.Log1p(lo), math.Log1p(hi), math.Log1p(mean), math.Log1p(sd), math.Log1p(hi - lo), math.Log1p(absDiff), events}
	}
	return append(f, 1-present/float64(len(x)), math.Sin(2*math.Pi*h/24), math.Cos(2*math.Pi*h/24), weekend)
}
