package sim

import (
	"context"
	"flag"
	"math"
	"math/big"
	"math/rand/v2"
	"strings"
	"testing"
)

var seedFlag = flag.Uint64("seed", 1, "seed of the randomized sim tests")

// bigPaper evaluates eq. 13 in 256-bit floating point: a reference that
// shares no code or reformulation with PaperModel.
func bigPaper(w, t int, pe float64, n int64) (succ, fail *big.Float) {
	const prec = 256
	one := new(big.Float).SetPrec(prec).SetInt64(1)
	q := new(big.Float).SetPrec(prec).Sub(one, new(big.Float).SetPrec(prec).SetFloat64(pe))
	a := new(big.Float).SetPrec(prec).SetInt64(1)
	for e := n; e > 0; e >>= 1 { // a = q^n by squaring
		if e&1 == 1 {
			a.Mul(a, q)
		}
		q.Mul(q, q)
	}
	b := new(big.Float).SetPrec(prec).Sub(one, a)
	succ, fail = new(big.Float).SetPrec(prec), new(big.Float).SetPrec(prec)
	for i := 0; i <= w; i++ {
		term := new(big.Float).SetPrec(prec).SetInt(new(big.Int).Binomial(int64(w), int64(i)))
		for range i {
			term.Mul(term, a)
		}
		for range w - i {
			term.Mul(term, b)
		}
		if i >= t {
			succ.Add(succ, term)
		} else {
			fail.Add(fail, term)
		}
	}
	return succ, fail
}

func relErr(got float64, want *big.Float) float64 {
	w, _ := want.Float64()
	if w == 0 {
		return math.Abs(got)
	}
	return math.Abs(got-w) / w
}

func TestPaperMatchesBigReference(t *testing.T) {
	tests := []struct {
		w, t int
		pe   float64
		k    int
		m    int64
	}{
		{4, 4, 1e-9, 1, 10_000_000},
		{4, 4, 1e-9, 96, 10_000_000},
		{4, 3, 1e-4, 96, 10_000},
		{4, 1, 1e-6, 4, 10_000_000},
		{5, 3, 1e-2, 1, 10},
		{7, 4, 1e-3, 1, 1000},
		{4, 2, 1e-9, 1, 1},   // failure ~ 1e-27: lost if computed as 1 − S
		{4, 4, 0.5, 1, 2000}, // success ~ 1e-2408 underflows to 0
		{3, 2, 0, 1, 10},
		{3, 2, 1, 1, 10},
	}
	for _, tc := range tests {
		m := PaperModel{W: tc.w, T: tc.t, K: tc.k, M: tc.m, Pe: tc.pe}
		bs, bf := bigPaper(tc.w, tc.t, tc.pe, int64(tc.k)*tc.m)
		s, f := m.Success(), m.Failure()
		if e := relErr(s, bs); e > 1e-11 {
			t.Errorf("%+v: success %g, reference %s (rel. error %g)", m, s, bs.Text('g', 12), e)
		}
		if e := relErr(f, bf); e > 1e-11 {
			t.Errorf("%+v: failure %g, reference %s (rel. error %g)", m, f, bf.Text('g', 12), e)
		}
	}
}

func TestDesignAnalytic(t *testing.T) {
	d := DesignModel{W: 4, T: 3, K: 4, M: 1000, Pb: 0.1, Retries: 2, Pf: 0.1, Rules: 3}
	want := math.Pow(0.9, 4) + 4*math.Pow(0.9, 3)*0.1
	if got := d.Success(); math.Abs(got-want) > 1e-15 {
		t.Errorf("success %v, want %v", got, want)
	}
	if got := d.Failure(); math.Abs(got-(1-want)) > 1e-15 {
		t.Errorf("failure %v, want %v", got, 1-want)
	}
	if got, want := d.Coverage(), math.Pow(1-1e-3, 4); math.Abs(got-want) > 1e-15 {
		t.Errorf("coverage %v, want %v", got, want)
	}
	if got := d.AllRules(); got != d.Success() {
		t.Errorf("all rules %v, want the one-rule probability %v", got, d.Success())
	}
	p := PaperModel{W: 4, T: 3, K: 4, M: 1000, Pe: 1e-4, Rules: 3}
	if got, want := p.AllRules(), math.Pow(p.Success(), 3); math.Abs(got-want) > 1e-14 {
		t.Errorf("paper all rules %v, want %v", got, want)
	}
}

func TestWilsonKnownAnswers(t *testing.T) {
	tests := []struct {
		k, n     int
		lo, hi   float64
		conf, ep float64
	}{
		{0, 10, 0, 0.2775, 0.95, 1e-4},
		{5, 10, 0.2366, 0.7634, 0.95, 1e-4},
		{81, 263, 0.2553, 0.3662, 0.95, 1e-4},
		{10, 10, 0.7225, 1, 0.95, 1e-4},
	}
	for _, tc := range tests {
		lo, hi := Wilson(tc.k, tc.n, tc.conf)
		if math.Abs(lo-tc.lo) > tc.ep || math.Abs(hi-tc.hi) > tc.ep {
			t.Errorf("Wilson(%d, %d) = [%.4f, %.4f], want [%.4f, %.4f]", tc.k, tc.n, lo, hi, tc.lo, tc.hi)
		}
	}
	// All or no successes: the interval reaches 1 or 0 exactly, so a
	// probability of exactly 1 or 0 lies inside it.
	for _, n := range []int{1, 3, 1000, 3000, 20000} {
		for _, conf := range []float64{0.95, 0.9999} {
			if _, hi := Wilson(n, n, conf); hi != 1 {
				t.Errorf("Wilson(%d, %d, %v) ends at %v, want 1", n, n, conf, hi)
			}
			if lo, _ := Wilson(0, n, conf); lo != 0 {
				t.Errorf("Wilson(0, %d, %v) starts at %v, want 0", n, conf, lo)
			}
		}
	}
}

func TestMonteCarloAgreesWithAnalytic(t *testing.T) {
	t.Logf("seed %d (set with -seed)", *seedFlag)
	// 24 checks at 99.99% each: a correct implementation fails for about
	// one seed in 400; a wrong formula or simulation fails for every seed.
	opts := &MCOptions{Trials: 20000, Seed: *seedFlag, Confidence: 0.9999}
	papers := []PaperModel{
		{W: 4, T: 4, K: 1, M: 1000, Pe: 1e-4},
		{W: 4, T: 3, K: 4, M: 1000, Pe: 1e-4, Rules: 3},
		{W: 5, T: 3, K: 96, M: 100, Pe: 1e-4, Rules: 2},
		{W: 4, T: 2, K: 1, M: 10_000_000, Pe: 1e-7},
		{W: 4, T: 4, K: 1, M: 10, Pe: 0},
	}
	for _, m := range papers {
		r, err := m.MonteCarlo(context.Background(), opts)
		if err != nil {
			t.Fatal(err)
		}
		checkIn(t, "paper success", m, m.Success(), r.Success)
		checkIn(t, "paper all rules", m, m.AllRules(), r.AllRules)
		checkMean(t, m, m.ExpectedProducers(), r)
	}
	designs := []DesignModel{
		{W: 4, T: 3, K: 4, M: 1000, Pb: 0.1, Retries: 1, Pf: 0.1},
		{W: 4, T: 4, K: 96, M: 500, Pb: 0.05, Retries: 0, Pf: 0.02, Rules: 5},
		{W: 6, T: 3, K: 1, M: 10_000_000, Pb: 1e-3, Retries: 2, Pf: 0.3},
	}
	for _, m := range designs {
		r, err := m.MonteCarlo(context.Background(), opts)
		if err != nil {
			t.Fatal(err)
		}
		checkIn(t, "design success", m, m.Success(), r.Success)
		// All rules are recovered exactly when one is (same PPNs, see
		// DesignModel.MonteCarlo): the estimates must be identical.
		if r.AllRules != r.Success {
			t.Errorf("design %+v: all rules %+v, one rule %+v; they must be the same", m, r.AllRules, r.Success)
		}
		checkMean(t, m, m.ExpectedProducers(), r)
	}
}

func checkIn(t *testing.T, what string, m any, p float64, e Estimate) {
	t.Helper()
	if p < e.Low || p > e.High {
		t.Errorf("%s %+v: analytic %.6g outside Monte Carlo interval [%.6g, %.6g] (%d/%d)", what, m, p, e.Low, e.High, e.Successes, e.Trials)
	}
}

func checkMean(t *testing.T, m any, want float64, r MCResult) {
	t.Helper()
	if d := math.Abs(r.MeanProducers - want); d > 4*r.MeanProducersSE+1e-9*want {
		t.Errorf("%+v: mean producers %.6g ± %.3g, analytic %.6g", m, r.MeanProducers, r.MeanProducersSE, want)
	}
}

func TestMonteCarloIndependentOfWorkers(t *testing.T) {
	m := PaperModel{W: 4, T: 3, K: 4, M: 10000, Pe: 2e-5}
	var got []MCResult
	for _, w := range []int{1, 3} {
		r, err := m.MonteCarlo(context.Background(), &MCOptions{Trials: 5000, Seed: 9, Workers: w})
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, r)
	}
	if got[0] != got[1] {
		t.Fatalf("1 worker: %+v, 3 workers: %+v", got[0], got[1])
	}
}

// shareByShare is the reference Monte Carlo of the paper's model, written
// from the definition and sharing no code with PaperModel: in each trial
// every share of every (rule, PPN, producer, round) is drawn lost or not
// on its own; a PPN's aggregate is usable if none of its k·M shares was
// lost, and a rule is recovered if at least t of its w PPNs' are. It
// returns the trials recovering rule 0 and those recovering all rules.
func shareByShare(p PaperModel, trials int, rng *rand.Rand) (one, all int) {
	nr := max(p.Rules, 1)
	for range trials {
		okAll, ok0 := true, false
		for r := range nr {
			usable := 0
			for range p.W {
				intact := true
				for range p.M {
					for range p.K {
						if rng.Float64() < p.Pe {
							intact = false
						}
					}
				}
				if intact {
					usable++
				}
			}
			ok := usable >= p.T
			if r == 0 {
				ok0 = ok
			}
			okAll = okAll && ok
		}
		if ok0 {
			one++
		}
		if okAll {
			all++
		}
	}
	return one, all
}

// TestMonteCarloMatchesShareByShare checks eq. 13, its all-rules product
// and the geometric-skip Monte Carlo against the share-by-share reference,
// for windows small enough (k·M ≤ 10^4) to draw every share.
func TestMonteCarloMatchesShareByShare(t *testing.T) {
	t.Logf("seed %d (set with -seed)", *seedFlag)
	// 16 checks at 99.99% each: a correct implementation fails for about
	// one seed in 600.
	const trials, conf = 2000, 0.9999
	models := []PaperModel{
		{W: 4, T: 4, K: 1, M: 1000, Pe: 1e-4},          // a ≈ 0.90, P ≈ 0.67
		{W: 4, T: 3, K: 4, M: 250, Pe: 2e-4, Rules: 3}, // P ≈ 0.85, all ≈ 0.61
		{W: 5, T: 2, K: 96, M: 20, Pe: 1e-3, Rules: 2}, // a ≈ 0.15, P ≈ 0.16
		{W: 3, T: 1, K: 10, M: 10, Pe: 0.05, Rules: 4}, // a ≈ 0.006
	}
	for i, m := range models {
		if km := m.K * int(m.M); km > 1e4 {
			t.Fatalf("%+v: k·M = %d is too large to draw share by share", m, km)
		}
		rng := rand.New(rand.NewChaCha8(blockKey(*seedFlag, 10, uint64(i))))
		one, all := shareByShare(m, trials, rng)
		ref := func(k int) Estimate { return estimate(k, trials, conf) }
		checkIn(t, "share-by-share success vs eq. 13", m, m.Success(), ref(one))
		checkIn(t, "share-by-share all rules vs AllRules", m, m.AllRules(), ref(all))
		r, err := m.MonteCarlo(context.Background(), &MCOptions{Trials: trials, Seed: *seedFlag, Confidence: conf})
		if err != nil {
			t.Fatal(err)
		}
		// The skip Monte Carlo estimates the same probabilities: its
		// intervals must hold the analytic values and meet the reference's.
		checkIn(t, "skip Monte Carlo success", m, m.Success(), r.Success)
		checkIn(t, "skip Monte Carlo all rules", m, m.AllRules(), r.AllRules)
		for _, c := range []struct {
			what string
			a, b Estimate
		}{{"success", ref(one), r.Success}, {"all rules", ref(all), r.AllRules}} {
			if c.a.High < c.b.Low || c.b.High < c.a.Low {
				t.Errorf("%+v %s: share by share [%.4f, %.4f], skip [%.4f, %.4f] do not overlap", m, c.what, c.a.Low, c.a.High, c.b.Low, c.b.High)
			}
		}
	}
}

// TestSkipMatchesShareByShare checks the per-PPN decision of
// PaperModel.MonteCarlo (one geometric skip against k·M) against testing
// each of its n shares for loss in turn, for one PPN, and both against
// PaperModel's a = (1−p_e)^(k·M).
func TestSkipMatchesShareByShare(t *testing.T) {
	const n, pe, trials = 50, 0.02, 40000
	t.Logf("seed %d (set with -seed)", *seedFlag)
	m := PaperModel{W: 1, T: 1, K: 5, M: n / 5, Pe: pe}
	trial := m.trial()
	rng := rand.New(rand.NewChaCha8(blockKey(*seedFlag, 9, 0)))
	var bySkip, byShare int
	for range trials {
		if one, _, _ := trial(rng); one {
			bySkip++
		}
		lost := false
		for range n {
			if rng.Float64() < pe {
				lost = true
			}
		}
		if !lost {
			byShare++
		}
	}
	want := m.Usable()
	if s := m.Success(); s != want {
		t.Fatalf("w = t = 1: success %v, a = %v; they must be equal", s, want)
	}
	for name, k := range map[string]int{"skip": bySkip, "share by share": byShare} {
		if lo, hi := Wilson(k, trials, 0.999); want < lo || want > hi {
			t.Errorf("%s: %d/%d intact, interval [%.4f, %.4f] misses a = %.4f", name, k, trials, lo, hi, want)
		}
	}
}

func TestModelValidation(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"t > w", PaperModel{W: 3, T: 4, K: 1, M: 1}.Validate(), "need 1 ≤ t ≤ w"},
		{"pe", PaperModel{W: 3, T: 2, K: 1, M: 1, Pe: 1.5}.Validate(), "p_e = 1.5 is not a probability"},
		{"nan", PaperModel{W: 3, T: 2, K: 1, M: 1, Pe: math.NaN()}.Validate(), "not a probability"},
		{"k", PaperModel{W: 3, T: 2, K: 0, M: 1}.Validate(), "window k = 0"},
		{"m", DesignModel{W: 3, T: 2, K: 1, M: 0}.Validate(), "M = 0"},
		{"retries", DesignModel{W: 3, T: 2, K: 1, M: 1, Retries: -1}.Validate(), "-1 retries"},
		{"pf", DesignModel{W: 3, T: 2, K: 1, M: 1, Pf: -0.1}.Validate(), "p_f = -0.1"},
	}
	for _, tc := range tests {
		if tc.err == nil || !strings.HasPrefix(tc.err.Error(), "sim: ") || !strings.Contains(tc.err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one containing %q", tc.name, tc.err, tc.want)
		}
	}
	if _, err := (PaperModel{W: 3, T: 2, K: 1, M: 1}).MonteCarlo(context.Background(), &MCOptions{Confidence: 2}); err == nil {
		t.Error("confidence 2 accepted")
	}
	huge := DesignModel{W: 4, T: 3, K: 96, M: 10_000_000, Pb: 0.1, Pf: 0.01}
	if _, err := huge.MonteCarlo(context.Background(), nil); err == nil || !strings.Contains(err.Error(), "lost bundles") {
		t.Errorf("a Monte Carlo of 10^11 lost bundles: error %v", err)
	}
}

func TestPaperCollapse(t *testing.T) {
	// w = t = 4: P = a^4, so P = 1/2 at −log a = ln 2 / 4.
	for _, pe := range []float64{1e-9, 1e-4, 0.1} {
		km, err := PaperCollapse(4, 4, pe, 0.5)
		if err != nil {
			t.Fatal(err)
		}
		want := math.Ln2 / 4 / -math.Log1p(-pe)
		if math.Abs(km-want) > 1e-9*want {
			t.Errorf("pe %g: k·M = %v, want %v", pe, km, want)
		}
	}
	// Plugging the answer back gives the target (k = 1, M = k·M rounded).
	for _, tc := range []struct {
		w, t   int
		target float64
	}{{5, 3, 0.99}, {4, 3, 0.999}, {7, 2, 0.5}} {
		km, err := PaperCollapse(tc.w, tc.t, 1e-7, tc.target)
		if err != nil {
			t.Fatal(err)
		}
		got := PaperModel{W: tc.w, T: tc.t, K: 1, M: int64(math.Round(km)), Pe: 1e-7}.Success()
		if math.Abs(got-tc.target) > 1e-4 {
			t.Errorf("w %d t %d: P at k·M = %.0f is %v, want %v", tc.w, tc.t, km, got, tc.target)
		}
	}
	if km, _ := PaperCollapse(4, 4, 0, 0.5); !math.IsInf(km, 1) {
		t.Errorf("pe 0: %v", km)
	}
	if _, err := PaperCollapse(4, 4, 1e-3, 1); err == nil {
		t.Error("target 1 accepted")
	}
}
