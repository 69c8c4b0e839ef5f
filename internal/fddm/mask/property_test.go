package mask

import (
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"testing"
)

// TestApplyProperties checks, on random periods and policies, that Apply
// masks at most ⌊MaxShare·n⌋ readings, leaves every other reading exact,
// masks a reading only if every reading with a higher score is masked too,
// and (threshold mode, no cap) masks exactly the scores above the threshold.
func TestApplyProperties(t *testing.T) {
	seed := uint64(5)
	if v := os.Getenv("FDDM_TEST_SEED"); v != "" {
		s, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			t.Fatalf("FDDM_TEST_SEED=%q: want an unsigned integer", v)
		}
		seed = s
	}
	t.Logf("seed %d (set FDDM_TEST_SEED to change)", seed)
	r := rand.New(rand.NewPCG(seed, 5))
	for trial := range 500 {
		n := r.IntN(200)
		orig := make([]uint64, n)
		scores := make([]float64, n)
		for i := range orig {
			orig[i] = r.Uint64N(2000)
			scores[i] = float64(r.IntN(21)) / 20 // ties are common
		}
		p := Policy{Strategy: Strategy(r.IntN(3)), MaxShare: float64(1+r.IntN(20)) / 20, CoarsenWh: 1 + r.Uint64N(300)}
		if r.IntN(2) == 0 {
			p.Threshold = r.Float64()
		} else {
			p.TargetRate = r.Float64()
		}
		per := Period{Wh: slices.Clone(orig), Scores: scores, Profile: []uint64{7, 8, 9}, FirstSlot: r.IntN(3)}
		res, err := Apply(true, per, p)
		if err != nil {
			t.Fatalf("trial %d: %v", trial, err)
		}
		limit := int(p.MaxShare * float64(n))
		if len(res.Masked) > limit {
			t.Fatalf("trial %d: %d masked, cap %d", trial, len(res.Masked), limit)
		}
		masked := make([]bool, n)
		for _, i := range res.Masked {
			masked[i] = true
		}
		for i := range orig {
			if !masked[i] && per.Wh[i] != orig[i] {
				t.Fatalf("trial %d: reading %d changed without being masked", trial, i)
			}
			for j := range orig {
				if masked[i] && !masked[j] && scores[j] > scores[i] {
					t.Fatalf("trial %d: reading %d (score %g) masked, %d (score %g) not", trial, i, scores[i], j, scores[j])
				}
			}
		}
		if p.TargetRate == 0 && !res.Capped {
			for i, s := range scores {
				if masked[i] != (s > p.Threshold) {
					t.Fatalf("trial %d: reading %d score %g, threshold %g, masked %v", trial, i, s, p.Threshold, masked[i])
				}
			}
		}
	}
}
