package model

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"time"
)

// Dim is the number of features of a reading, the bias included.
const Dim = 8

// FeatureNames names the features, in order.
var FeatureNames = [Dim]string{"bias", "hour_sin", "hour_cos", "weekend", "level", "above", "step", "var"}

// ErrSeries reports a series that cannot be featurised.
var ErrSeries = errors.New("model: invalid series")

// Series is one meter's consecutive readings.
type Series struct {
	Wh       []uint64      // energy per interval, Wh
	Start    time.Time     // the instant reading 0 begins
	Interval time.Duration // reading interval, a positive whole number of seconds
}

func (s Series) check() error {
	if s.Interval <= 0 || s.Interval%time.Second != 0 {
		return fmt.Errorf("%w: interval %v must be a positive whole number of seconds", ErrSeries, s.Interval)
	}
	return nil
}

// Baseline is a household's own reference levels, from its own history.
type Baseline struct {
	Base   float64 // 10th percentile of the readings, Wh
	Median float64 // median reading, Wh
}

// NewBaseline computes the baseline of readings wh (zero for none).
func NewBaseline(wh []uint64) Baseline {
	if len(wh) == 0 {
		return Baseline{}
	}
	s := slices.Clone(wh)
	slices.Sort(s)
	return Baseline{Base: float64(s[len(s)/10]), Median: float64(s[len(s)/2])}
}

func (b Baseline) scale() float64 { return b.Median + 10 }

// Features appends the Dim features of every reading of s to dst, row-major
// (reading i at dst[i·Dim:]), and returns the extended slice.
func Features(dst []float64, s Series, b Baseline) ([]float64, error) {
	if err := s.check(); err != nil {
		return dst, err
	}
	sc := b.scale()
	for i, x := range s.Wh {
		t := s.Start.Add(time.Duration(i) * s.Interval).UTC()
		h := float64(t.Hour()) + float64(t.Minute())/60
		wd := t.Weekday()
		weekend := 0.0
		if wd == time.Saturday || wd == time.Sunday {
			weekend = 1
		}
		v := float64(x)
		prev := v
		if i > 0 {
			prev = float64(s.Wh[i-1])
		}
		dst = append(dst,
			1,
			math.Sin(2*math.Pi*h/24), math.Cos(2*math.Pi*h/24),
			weekend,
			math.Log((v+10)/sc),
			math.Log1p(max(v-b.Base, 0)/sc),
			math.Log1p(math.Abs(v-prev)/sc),
			math.Log1p(windowStd(s.Wh, i)/sc),
		)
	}
	return dst, nil
}

// windowStd is the standard deviation of wh[i−3..i] (fewer at the start).
func windowStd(wh []uint64, i int) float64 {
	lo := max(0, i-3)
	n := float64(i - lo + 1)
	var sum, sq float64
	for _, x := range wh[lo : i+1] {
		sum += float64(x)
	}
	mean := sum / n
	for _, x := range wh[lo : i+1] {
		d := float64(x) - mean
		sq += d * d
	}
	return math.Sqrt(sq / n)
}

// Labels are the thresholds of the meter's own activity detector.
type Labels struct {
	// LevelWh: a reading at least this far above the household's base load
	// is activity. Default 25 Wh per 15 minutes (100 W sustained).
	LevelWh float64
	// StepWh: a change of at least this much from the previous reading is
	// a switching event. Default 20 Wh.
	StepWh float64
}

// DefaultLabels returns the detector thresholds used in docs/fddm.md.
func DefaultLabels() Labels { return Labels{LevelWh: 25, StepWh: 20} }

// Label appends the meter-computed label (0 or 1) of every reading of wh.
func (l Labels) Label(dst []float64, wh []uint64, b Baseline) []float64 {
	for i, x := range wh {
		v := float64(x)
		y := 0.0
		if v-b.Base >= l.LevelWh {
			y = 1
		}
		if i > 0 && math.Abs(v-float64(wh[i-1])) >= l.StepWh {
			y = 1
		}
		dst = append(dst, y)
	}
	return dst
}
