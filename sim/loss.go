package sim

import (
	"fmt"
	"math"
)

// PaperModel is the loss model of Rottondi et al. (2012), eq. 13.
type PaperModel struct {
	W, T  int     // PPNs serving the consumer, and the threshold
	K     int     // rounds per aggregation window (k_c)
	M     int64   // producers in the rule (M_c)
	Pe    float64 // probability a producer→PPN share is lost (p_e)
	Rules int     // rules the consumer needs, each of M producers; 0 means 1
}

// DesignModel is this design's loss model (DESIGN §3): bundles through a
// shared log, retried, and PPN outages.
type DesignModel struct {
	W, T    int     // PPNs serving the consumer, and the threshold
	K       int     // rounds per aggregation window
	M       int64   // producers in the rule
	Pb      float64 // probability one bundle attempt is lost (p_b)
	Retries int     // retries after a lost attempt (r)
	Pf      float64 // probability a PPN is down for the window (p_f)
	Rules   int     // rules the consumer needs, served by the same PPNs; 0 means 1
}

func checkWT(w, t, k int, m int64) error {
	if w < 1 || w > 1000 {
		return fmt.Errorf("sim: w = %d PPNs; use 1 ≤ w ≤ 1000", w)
	}
	if t < 1 || t > w {
		return fmt.Errorf("sim: threshold t = %d with w = %d; need 1 ≤ t ≤ w", t, w)
	}
	if k < 1 {
		return fmt.Errorf("sim: window k = %d rounds; need k ≥ 1", k)
	}
	if m < 1 || m > 1e12 {
		return fmt.Errorf("sim: M = %d producers; need 1 ≤ M ≤ 10^12", m)
	}
	return nil
}

func checkProb(name string, p float64) error {
	if !(p >= 0 && p <= 1) {
		return fmt.Errorf("sim: %s = %v is not a probability; give a value in [0, 1]", name, p)
	}
	return nil
}

func checkRules(n int) error {
	if n < 0 || n > 1e6 {
		return fmt.Errorf("sim: %d rules; use 0 ≤ rules ≤ 10^6 (0 means 1)", n)
	}
	return nil
}

// Validate checks the parameters.
func (p PaperModel) Validate() error {
	if err := checkWT(p.W, p.T, p.K, p.M); err != nil {
		return err
	}
	if err := checkRules(p.Rules); err != nil {
		return err
	}
	return checkProb("p_e", p.Pe)
}

// Validate checks the parameters.
func (d DesignModel) Validate() error {
	if err := checkWT(d.W, d.T, d.K, d.M); err != nil {
		return err
	}
	if err := checkRules(d.Rules); err != nil {
		return err
	}
	if d.Retries < 0 || d.Retries > 1000 {
		return fmt.Errorf("sim: %d retries; use 0 to 1000", d.Retries)
	}
	if err := checkProb("p_b", d.Pb); err != nil {
		return err
	}
	return checkProb("p_f", d.Pf)
}

func rules(n int) int { return max(n, 1) }

// logUsable returns log a and log(1−a), a = (1−p_e)^(k·M): the probability
// that one PPN receives all k·M shares it needs.
func (p PaperModel) logUsable() (la, l1a float64) {
	la = float64(p.K) * float64(p.M) * math.Log1p(-p.Pe)
	return la, log1mexp(la)
}

// Usable returns a = (1−p_e)^(k·M), the probability that one PPN's
// aggregated share is usable.
func (p PaperModel) Usable() float64 {
	la, _ := p.logUsable()
	return math.Exp(la)
}

// Success returns P_T|M, the probability that the consumer recovers one
// rule's aggregate (eq. 13).
func (p PaperModel) Success() float64 {
	la, l1a := p.logUsable()
	s, _ := binomialTail(p.W, p.T, la, l1a)
	return s
}

// Failure returns 1 − P_T|M, computed directly (accurate when tiny).
func (p PaperModel) Failure() float64 {
	la, l1a := p.logUsable()
	_, f := binomialTail(p.W, p.T, la, l1a)
	return f
}

// ExpectedProducers returns the expected number of producers whose data
// reach the consumer through one rule: all M when the aggregate is
// recovered, none otherwise.
func (p PaperModel) ExpectedProducers() float64 { return float64(p.M) * p.Success() }

// AllRules returns the probability that the consumer recovers every one of
// its rules: share losses are independent across rules, so it is the
// product of the rules' success probabilities.
func (p PaperModel) AllRules() float64 {
	la, l1a := p.logUsable()
	s, f := binomialTail(p.W, p.T, la, l1a)
	if s > 0.5 {
		return math.Exp(float64(rules(p.Rules)) * math.Log1p(-f))
	}
	return math.Pow(s, float64(rules(p.Rules)))
}

// BundleLoss returns p_b^(r+1), the probability that a bundle is lost
// after all retries.
func (d DesignModel) BundleLoss() float64 { return math.Pow(d.Pb, float64(d.Retries+1)) }

func (d DesignModel) logUp() (la, l1a float64) { return math.Log1p(-d.Pf), math.Log(d.Pf) }

// Success returns the probability that at least t of the w PPNs are up, so
// the consumer recovers the aggregate.
func (d DesignModel) Success() float64 {
	la, l1a := d.logUp()
	s, _ := binomialTail(d.W, d.T, la, l1a)
	return s
}

// Failure returns 1 − Success, computed directly.
func (d DesignModel) Failure() float64 {
	la, l1a := d.logUp()
	_, f := binomialTail(d.W, d.T, la, l1a)
	return f
}

// Coverage returns the probability that a producer's data for the whole
// window (all k bundles) are in the aggregate, given it is recovered.
func (d DesignModel) Coverage() float64 {
	return math.Exp(float64(d.K) * math.Log1p(-d.BundleLoss()))
}

// ExpectedProducers returns the expected number of producers all of whose
// k readings reach the consumer through one rule.
func (d DesignModel) ExpectedProducers() float64 {
	return float64(d.M) * d.Success() * d.Coverage()
}

// AllRules returns the probability that the consumer recovers every rule.
// Its rules are served by the same PPNs and every PPN sees every bundle, so
// it recovers all of them exactly when it recovers one.
func (d DesignModel) AllRules() float64 { return d.Success() }

// log1mexp returns log(1 − e^x) for x ≤ 0, accurately on the whole range
// (Mächler 2012: log(−expm1(x)) near 0, log1p(−exp(x)) below −ln 2).
func log1mexp(x float64) float64 {
	if x > -math.Ln2 {
		return math.Log(-math.Expm1(x))
	}
	return math.Log1p(-math.Exp(x))
}

// binomialTail returns S = Σ_{i=t..w} C(w,i)·a^i·(1−a)^(w−i) and F = 1 − S
// (summed directly over i < t) from la = log a and l1a = log(1−a).
func binomialTail(w, t int, la, l1a float64) (s, f float64) {
	terms := make([]float64, w+1)
	for i := 0; i <= w; i++ {
		terms[i] = logChoose(w, i) + xlogy(float64(i), la) + xlogy(float64(w-i), l1a)
	}
	return sumExp(terms[t:]), sumExp(terms[:t])
}

// xlogy returns x·y with 0·(−∞) = 0, as the limit a^0 = 1 requires.
func xlogy(x, y float64) float64 {
	if x == 0 {
		return 0
	}
	return x * y
}

func logChoose(n, k int) float64 {
	a, _ := math.Lgamma(float64(n + 1))
	b, _ := math.Lgamma(float64(k + 1))
	c, _ := math.Lgamma(float64(n - k + 1))
	return a - b - c
}

// sumExp returns Σ exp(x_i) without overflow or needless underflow.
func sumExp(xs []float64) float64 {
	top := math.Inf(-1)
	for _, x := range xs {
		top = max(top, x)
	}
	if math.IsInf(top, -1) {
		return 0
	}
	var s float64
	for _, x := range xs {
		s += math.Exp(x - top)
	}
	return math.Exp(top + math.Log(s))
}

// PaperCollapse returns the window size k·M (rounds × producers) at which
// the paper's success probability P_T|M falls to target, for w PPNs,
// threshold t and share loss probability pe: P_T|M depends on k·M only
// through a = (1−p_e)^(k·M), so this says at what scale the protocol
// collapses. It returns +Inf when pe = 0 (the protocol never collapses).
func PaperCollapse(w, t int, pe, target float64) (float64, error) {
	if err := checkWT(w, t, 1, 1); err != nil {
		return 0, err
	}
	if err := checkProb("p_e", pe); err != nil {
		return 0, err
	}
	if !(target > 0 && target < 1) {
		return 0, fmt.Errorf("sim: target %v must be strictly between 0 and 1", target)
	}
	if pe == 0 {
		return math.Inf(1), nil
	}
	// Bisect on u = −log a > 0 in log space: success falls as u grows.
	success := func(u float64) float64 {
		s, _ := binomialTail(w, t, -u, log1mexp(-u))
		return s
	}
	lo, hi := 1e-300, 1e3
	for range 200 {
		mid := math.Sqrt(lo * hi)
		if success(mid) > target {
			lo = mid
		} else {
			hi = mid
		}
	}
	return math.Sqrt(lo*hi) / -math.Log1p(-pe), nil
}
