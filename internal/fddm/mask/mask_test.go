package mask

import (
	"errors"
	"slices"
	"testing"
)

func period() Period {
	return Period{
		Wh:        []uint64{10, 240, 30, 180, 12, 90},
		Scores:    []float64{0.1, 0.9, 0.4, 0.8, 0.05, 0.6},
		Profile:   []uint64{1, 2, 3, 4},
		FirstSlot: 2,
	}
}

func TestApply(t *testing.T) {
	tests := []struct {
		name   string
		p      Policy
		want   []uint64
		capped bool
	}{
		{"generalise above 0.5", Policy{Strategy: Generalise, Threshold: 0.5, MaxShare: 1},
			[]uint64{10, 4, 30, 2, 12, 4}, false},
		{"cap at a third keeps the highest", Policy{Strategy: Generalise, Threshold: 0.5, MaxShare: 0.34},
			[]uint64{10, 4, 30, 2, 12, 90}, true},
		{"coarsen", Policy{Strategy: Coarsen, Threshold: 0.5, MaxShare: 1, CoarsenWh: 100},
			[]uint64{10, 200, 30, 200, 12, 100}, false},
		{"suppress target rate", Policy{Strategy: Suppress, TargetRate: 0.5, MaxShare: 1},
			[]uint64{10, Suppressed, 30, Suppressed, 12, Suppressed}, false},
		{"nothing above threshold", Policy{Strategy: Suppress, Threshold: 0.95, MaxShare: 1},
			[]uint64{10, 240, 30, 180, 12, 90}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			per := period()
			res, err := Apply(true, per, tc.p)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(per.Wh, tc.want) {
				t.Errorf("masked %v, want %v", per.Wh, tc.want)
			}
			if res.Capped != tc.capped {
				t.Errorf("capped %v, want %v", res.Capped, tc.capped)
			}
			orig := period().Wh
			for i := range orig {
				if (orig[i] != per.Wh[i]) && !slices.Contains(res.Masked, i) {
					t.Errorf("reading %d changed but not reported masked", i)
				}
			}
		})
	}
}

func TestApplyNotFinal(t *testing.T) {
	per := period()
	_, err := Apply(false, per, Policy{Strategy: Suppress, MaxShare: 1})
	if !errors.Is(err, ErrNotFinal) {
		t.Fatalf("err %v, want ErrNotFinal", err)
	}
	if !slices.Equal(per.Wh, period().Wh) {
		t.Errorf("readings changed before the period was final: %v", per.Wh)
	}
}

func TestApplyRefuses(t *testing.T) {
	tests := []struct {
		name string
		p    Policy
		per  func(*Period)
		want error
	}{
		{"no max share", Policy{Strategy: Suppress}, nil, ErrPolicy},
		{"threshold above 1", Policy{Strategy: Suppress, Threshold: 2, MaxShare: 1}, nil, ErrPolicy},
		{"coarsen step 0", Policy{Strategy: Coarsen, MaxShare: 1}, nil, ErrPolicy},
		{"unknown strategy", Policy{Strategy: 7, MaxShare: 1}, nil, ErrPolicy},
		{"missing profile", Policy{Strategy: Generalise, MaxShare: 1}, func(p *Period) { p.Profile = nil }, ErrInput},
		{"short scores", Policy{Strategy: Suppress, MaxShare: 1}, func(p *Period) { p.Scores = p.Scores[:2] }, ErrInput},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			per := period()
			if tc.per != nil {
				tc.per(&per)
			}
			if _, err := Apply(true, per, tc.p); !errors.Is(err, tc.want) {
				t.Fatalf("err %v, want %v", err, tc.want)
			}
			if !slices.Equal(per.Wh, period().Wh) {
				t.Errorf("readings changed by a refused call: %v", per.Wh)
			}
		})
	}
}

func TestParseStrategy(t *testing.T) {
	for _, s := range []Strategy{Generalise, Coarsen, Suppress} {
		got, err := ParseStrategy(s.String())
		if err != nil || got != s {
			t.Errorf("ParseStrategy(%q) = %v, %v", s.String(), got, err)
		}
	}
	if _, err := ParseStrategy("blur"); !errors.Is(err, ErrPolicy) {
		t.Errorf("unknown strategy: err %v, want ErrPolicy", err)
	}
}

func TestStaticRound(t *testing.T) {
	wh := []uint64{0, 49, 50, 149, 151, Suppressed}
	if err := StaticRound(wh, 100); err != nil {
		t.Fatal(err)
	}
	if want := []uint64{0, 0, 100, 100, 200, Suppressed}; !slices.Equal(wh, want) {
		t.Errorf("rounded %v, want %v", wh, want)
	}
	if err := StaticRound(wh, 0); !errors.Is(err, ErrPolicy) {
		t.Errorf("step 0: err %v, want ErrPolicy", err)
	}
}

func FuzzParseStrategy(f *testing.F) {
	for _, s := range []string{"generalise", "coarsen", "suppress", "", "Generalise"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		st, err := ParseStrategy(s)
		if err == nil && st.String() != s {
			t.Fatalf("ParseStrategy(%q) = %v, which prints differently", s, st)
		}
	})
}
