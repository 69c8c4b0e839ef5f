package sim

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
)

// blockTrials is the number of trials that share one random stream; the
// stream of block b depends only on (seed, b), so estimates do not depend
// on the number of workers.
const blockTrials = 1024

// ErrTooMuchWork reports a Monte Carlo run too large to do event by event.
var ErrTooMuchWork = errors.New("sim: monte carlo too large")

// maxLossEvents bounds the loss events a design Monte Carlo may visit
// (about ten minutes of work), so a mistyped sweep fails at once.
const maxLossEvents = 1e10

// MCOptions configure a Monte Carlo run. nil means defaults.
type MCOptions struct {
	Trials     int     // number of trials; default 10000
	Seed       uint64  // seed of the random streams
	Workers    int     // goroutines; default GOMAXPROCS
	Confidence float64 // level of the Wilson intervals; default 0.95
	// Progress, if set, is called (from any goroutine) with the number of
	// trials finished so far, after each block.
	Progress func(done int)
}

// Estimate is a Monte Carlo estimate of a probability.
type Estimate struct {
	Successes, Trials int
	P                 float64 // Successes / Trials
	Low, High         float64 // Wilson score interval at the run's confidence
}

// MCResult is the outcome of a Monte Carlo run of a loss model.
type MCResult struct {
	Success  Estimate // the consumer recovers one rule's aggregate
	AllRules Estimate // the consumer recovers all of its rules
	// MeanProducers is the mean number of producers whose data reached the
	// consumer through one rule, and MeanProducersSE its standard error.
	MeanProducers, MeanProducersSE float64
}

// Wilson returns the Wilson score interval for k successes in n trials at
// confidence level conf (e.g. 0.95).
func Wilson(k, n int, conf float64) (low, high float64) {
	if n == 0 {
		return 0, 1
	}
	z := math.Sqrt2 * math.Erfinv(conf)
	nf, p := float64(n), float64(k)/float64(n)
	d := 1 + z*z/nf
	c := (p + z*z/(2*nf)) / d
	h := z / d * math.Sqrt(p*(1-p)/nf+z*z/(4*nf*nf))
	low, high = max(0, c-h), min(1, c+h)
	// The interval of 0 (n) successes starts (ends) at 0 (1) exactly; the
	// formula gets there only up to rounding.
	if k == 0 {
		low = 0
	}
	if k == n {
		high = 1
	}
	return low, high
}

// trialFunc runs one trial: does the consumer recover rule 0, all rules,
// and how many producers reached it through rule 0.
type trialFunc func(rng *rand.Rand) (one, all bool, producers float64)

func (o *MCOptions) withDefaults() (MCOptions, error) {
	var v MCOptions
	if o != nil {
		v = *o
	}
	if v.Trials == 0 {
		v.Trials = 10000
	}
	if v.Workers == 0 {
		v.Workers = runtime.GOMAXPROCS(0)
	}
	if v.Confidence == 0 {
		v.Confidence = 0.95
	}
	if v.Trials < 1 || v.Trials > 1e10 {
		return v, fmt.Errorf("sim: %d trials; use 1 to 10^10", v.Trials)
	}
	if v.Workers < 1 {
		return v, fmt.Errorf("sim: %d workers; use at least 1", v.Workers)
	}
	if !(v.Confidence > 0 && v.Confidence < 1) {
		return v, fmt.Errorf("sim: confidence %v must be in (0, 1), e.g. 0.95", v.Confidence)
	}
	return v, nil
}

// runTrials runs trial opts.Trials times over opts.Workers goroutines.
func runTrials(ctx context.Context, o *MCOptions, stream uint64, trial trialFunc) (MCResult, error) {
	opts, err := o.withDefaults()
	if err != nil {
		return MCResult{}, err
	}
	blocks := (opts.Trials + blockTrials - 1) / blockTrials
	var next, done atomic.Int64
	type tally struct {
		one, all int
		sum, sq  float64
	}
	tallies := make([]tally, opts.Workers)
	var wg sync.WaitGroup
	for w := range opts.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var src rand.ChaCha8
			rng := rand.New(&src)
			tl := &tallies[w]
			for ctx.Err() == nil {
				b := int(next.Add(1) - 1)
				if b >= blocks {
					return
				}
				src.Seed(blockKey(opts.Seed, stream, uint64(b)))
				n := min(blockTrials, opts.Trials-b*blockTrials)
				for range n {
					one, all, prod := trial(rng)
					if one {
						tl.one++
					}
					if all {
						tl.all++
					}
					tl.sum += prod
					tl.sq += prod * prod
				}
				if d := done.Add(int64(n)); opts.Progress != nil {
					opts.Progress(int(d))
				}
			}
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return MCResult{}, fmt.Errorf("sim: monte carlo stopped: %w", err)
	}
	var t tally
	for _, x := range tallies {
		t.one += x.one
		t.all += x.all
		t.sum += x.sum
		t.sq += x.sq
	}
	n := float64(opts.Trials)
	mean := t.sum / n
	r := MCResult{
		Success:         estimate(t.one, opts.Trials, opts.Confidence),
		AllRules:        estimate(t.all, opts.Trials, opts.Confidence),
		MeanProducers:   mean,
		MeanProducersSE: math.Sqrt(max(0, t.sq/n-mean*mean) / n),
	}
	return r, nil
}

func estimate(k, n int, conf float64) Estimate {
	lo, hi := Wilson(k, n, conf)
	return Estimate{Successes: k, Trials: n, P: float64(k) / float64(n), Low: lo, High: hi}
}

func blockKey(seed, stream, block uint64) [32]byte {
	var key [32]byte
	x := seed
	for i, v := range []uint64{stream, block, 0x73696d, 0x6c6f7373} {
		x = splitmix(x ^ splitmix(v+uint64(i)))
		binary.LittleEndian.PutUint64(key[8*i:], x)
	}
	return key
}

func splitmix(z uint64) uint64 {
	z += 0x9e3779b97f4a7c15
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// skip returns the number of Bernoulli(p) trials that succeed (are not
// lost) before the next loss, given l1p = ln(1−p): a geometric variate by
// inversion. It returns +Inf when p = 0.
func skip(rng *rand.Rand, l1p float64) float64 {
	u := 1 - rng.Float64() // (0, 1]
	return math.Floor(math.Log(u) / l1p)
}

// MonteCarlo simulates the paper's model: in each trial, for each rule and
// each of its w PPNs, the position of the first lost share among the PPN's
// k·M is drawn by a geometric skip; the PPN's aggregated share is usable if
// that position lies beyond the last share, and the rule is recovered if
// at least t of the w are usable.
func (p PaperModel) MonteCarlo(ctx context.Context, opts *MCOptions) (MCResult, error) {
	if err := p.Validate(); err != nil {
		return MCResult{}, err
	}
	return runTrials(ctx, opts, 1, p.trial())
}

// trial returns one trial of the paper's model, as MonteCarlo runs it.
func (p PaperModel) trial() trialFunc {
	need := float64(p.K) * float64(p.M) // shares each PPN needs
	l1p := math.Log1p(-p.Pe)
	nr := rules(p.Rules)
	return func(rng *rand.Rand) (bool, bool, float64) {
		all, first := true, false
		for r := range nr {
			usable := 0
			for range p.W {
				if skip(rng, l1p) >= need { // first loss beyond the last share
					usable++
				}
			}
			ok := usable >= p.T
			if r == 0 {
				first = ok
			}
			all = all && ok
		}
		if first {
			return true, all, float64(p.M)
		}
		return false, all, 0
	}
}

// MonteCarlo simulates this design's model: in each trial each PPN is up or
// down, and the k·M bundles of rule 0 are walked loss by loss (geometric
// skips with the after-retries loss probability p_b^(r+1)) to count the
// producers all of whose bundles arrived. Rules served by the same PPNs
// succeed or fail together.
func (d DesignModel) MonteCarlo(ctx context.Context, opts *MCOptions) (MCResult, error) {
	if err := d.Validate(); err != nil {
		return MCResult{}, err
	}
	l1p := math.Log1p(-d.BundleLoss())
	total := float64(d.K) * float64(d.M)
	o, err := opts.withDefaults()
	if err != nil {
		return MCResult{}, err
	}
	if work := float64(o.Trials) * total * d.BundleLoss(); work > maxLossEvents {
		return MCResult{}, fmt.Errorf("%w: it would visit about %.3g lost bundles (trials × k·M × p_b^(r+1)); lower the trials, M or p_b, or rely on the analytic value", ErrTooMuchWork, work)
	}
	trial := func(rng *rand.Rand) (bool, bool, float64) {
		up := 0
		for range d.W {
			if rng.Float64() >= d.Pf {
				up++
			}
		}
		// Every rule of the consumer is served by these same w PPNs, and
		// an up PPN has read every bundle before the seal, so it holds a
		// usable aggregated share for every rule: lost bundles shrink a
		// rule's coverage but never spoil its aggregate. Recovery therefore
		// depends on the up count alone, drawn once per trial for all
		// rules, and all rules are recovered exactly when rule 0 is. The
		// all-rules estimate equals the one-rule estimate by construction
		// (as AllRules equals Success); it is reported for symmetry with
		// the paper's model, not as a separate check.
		if up < d.T {
			return false, false, 0
		}
		// Bundles in order producer-major: bundle j is producer j/K's.
		missing, last := 0.0, -1.0
		for pos := skip(rng, l1p); pos < total; pos += 1 + skip(rng, l1p) {
			if prod := math.Floor(pos / float64(d.K)); prod != last {
				missing++
				last = prod
			}
		}
		return true, true, float64(d.M) - missing
	}
	return runTrials(ctx, opts, 2, trial)
}
