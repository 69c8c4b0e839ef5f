package attack

import (
	"errors"
	"math"
	"testing"
	"time"

	"github.com/ppnet/ppnet/sim/household"
)

// population returns n households' readings and occupancy over days days
// from day first, as a view (seeded, deterministic).
func population(t *testing.T, seed uint64, n, first, days int) (View, [][]bool) {
	t.Helper()
	pop, err := household.NewPopulation(nil, seed)
	if err != nil {
		t.Fatal(err)
	}
	perDay := int(24 * time.Hour / pop.Interval())
	v := View{Start: pop.IntervalStart(int64(first * perDay)), Interval: pop.Interval()}
	var occ [][]bool
	for h := range n {
		m := pop.Meter(uint64(h))
		var x []float64
		var o []bool
		for r := range m.Readings(int64(first*perDay), days*perDay) {
			x = append(x, float64(r.Wh))
			o = append(o, r.Occupied)
		}
		v.Wh = append(v.Wh, x)
		occ = append(occ, o)
	}
	return v, occ
}

func TestOccupancy(t *testing.T) {
	const seed = 11
	t.Logf("population seed %d", seed)
	v, occ := population(t, seed, 16, 0, 14)
	exact, err := Occupancy(v, occ, OccupancyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	blind := View{Start: v.Start, Interval: v.Interval}
	for _, x := range v.Wh {
		nan := make([]float64, len(x))
		for i := range nan {
			nan[i] = math.NaN()
		}
		blind.Wh = append(blind.Wh, nan)
	}
	timeOnly, err := Occupancy(blind, occ, OccupancyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("balanced accuracy: exact %.3f, time features only %.3f; majority rate %.3f", exact.BalancedAccuracy, timeOnly.BalancedAccuracy, exact.Majority)
	if exact.BalancedAccuracy < 0.7 {
		t.Errorf("attack on exact readings: balanced accuracy %.3f, expected well above chance", exact.BalancedAccuracy)
	}
	if exact.BalancedAccuracy <= timeOnly.BalancedAccuracy {
		t.Errorf("readings add nothing over the time of day: %.3f ≤ %.3f", exact.BalancedAccuracy, timeOnly.BalancedAccuracy)
	}
	if exact.TestSlots != 8*14*24 {
		t.Errorf("%d test slots, want %d", exact.TestSlots, 8*14*24)
	}
	naive, err := Occupancy(blind, occ, OccupancyOptions{TrainOn: v.Wh})
	if err != nil {
		t.Fatal(err)
	}
	if naive.TestSlots != exact.TestSlots || naive.BalancedAccuracy > exact.BalancedAccuracy {
		t.Errorf("trained on exact, tested on nothing: %+v; cannot beat the exact attack %.3f", naive, exact.BalancedAccuracy)
	}
	if _, err := Occupancy(v, occ, OccupancyOptions{TrainOn: v.Wh[:2]}); !errors.Is(err, ErrView) {
		t.Errorf("short training histories: err %v, want ErrView", err)
	}
	if _, err := Occupancy(v, occ[:3], OccupancyOptions{}); !errors.Is(err, ErrView) {
		t.Errorf("short ground truth: err %v, want ErrView", err)
	}
}

func TestReidentify(t *testing.T) {
	v, _ := population(t, 12, 20, 0, 14)
	aux, _ := population(t, 12, 20, 14, 7)
	r, err := Reidentify(v, aux)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("top-1 %.3f, chance %.3f", r.Value, r.Chance)
	if r.Chance != 1.0/20 || r.Value < 5*r.Chance {
		t.Errorf("top-1 %.3f on exact weeks; expected far above chance %.3f", r.Value, r.Chance)
	}
	// Identical weeks for everyone cannot be told apart: only household 0
	// (the first nearest) is ever guessed.
	same := View{Start: v.Start, Interval: v.Interval}
	for range v.Wh {
		same.Wh = append(same.Wh, v.Wh[0])
	}
	r, err = Reidentify(same, aux)
	if err != nil {
		t.Fatal(err)
	}
	if r.Value > 1.0/20+1e-12 {
		t.Errorf("identical weeks re-identified at %.3f; at most 1/N possible", r.Value)
	}
	if _, err := Reidentify(v, View{Wh: aux.Wh[:3], Interval: aux.Interval}); !errors.Is(err, ErrView) {
		t.Errorf("short auxiliary data: err %v, want ErrView", err)
	}
}

func TestLinkage(t *testing.T) {
	// Three households of one day of hourly readings: constant 1, 10 and
	// 100 Wh, the last with its first reading suppressed.
	v := View{Interval: time.Hour, Wh: make([][]float64, 3)}
	profile := make([]float64, 24)
	for i := range profile {
		profile[i] = 5
	}
	for h, c := range []float64{1, 10, 100} {
		for range 24 {
			v.Wh[h] = append(v.Wh[h], c)
		}
	}
	v.Wh[2][0] = math.NaN() // counted at 5: total 2305
	tests := []struct {
		name  string
		bills []float64
		want  float64
	}{
		{"exact totals", []float64{24, 240, 2400}, 1},
		{"swapped", []float64{240, 24, 2400}, 1.0 / 3},
		{"suppression moves the total", []float64{24, 240, 2200}, 1},
		{"too far", []float64{24, 2300, 2400}, 1.0 / 3},
	}
	for _, tc := range tests {
		r, err := Linkage(v, tc.bills, profile)
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(r.Value-tc.want) > 1e-12 || r.Chance != 1.0/3 {
			t.Errorf("%s: %+v, want %.3f against 1/3", tc.name, r, tc.want)
		}
	}
	if _, err := Linkage(v, []float64{1}, profile); !errors.Is(err, ErrView) {
		t.Errorf("one bill for three: err %v, want ErrView", err)
	}
}

func TestUtility(t *testing.T) {
	exact := View{Interval: 30 * time.Minute, Wh: make([][]float64, 2)}
	masked := View{Interval: 30 * time.Minute, Wh: make([][]float64, 2)}
	profile := make([]float64, 48)
	for h := range 2 {
		for i := range 48 {
			exact.Wh[h] = append(exact.Wh[h], 10)
			masked.Wh[h] = append(masked.Wh[h], 10)
			profile[i] = 10
		}
	}
	u, err := Utility(masked, exact, profile)
	if err != nil {
		t.Fatal(err)
	}
	if u != (UtilityResult{Unchanged: 1}) {
		t.Errorf("unmasked: %+v, want all unchanged and no error", u)
	}
	masked.Wh[0][0] = 30         // +20 Wh in household 0, hour 0
	masked.Wh[1][1] = 0          // −10 Wh in household 1, hour 0
	masked.Wh[1][2] = math.NaN() // imputed at 10: unchanged in energy
	u, err = Utility(masked, exact, profile)
	if err != nil {
		t.Fatal(err)
	}
	want := UtilityResult{Unchanged: 93.0 / 96, HouseholdError: 30.0 / 960, AggregateError: 10.0 / 960}
	if math.Abs(u.Unchanged-want.Unchanged) > 1e-12 || math.Abs(u.HouseholdError-want.HouseholdError) > 1e-12 || math.Abs(u.AggregateError-want.AggregateError) > 1e-12 {
		t.Errorf("utility %+v, want %+v", u, want)
	}
}
