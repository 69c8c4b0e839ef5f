package sim

import (
	"context"
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ppnet/ppnet/sharing"
	"github.com/ppnet/ppnet/sim/household"
)

// scaleBatch is how many producers a worker takes at a time.
const scaleBatch = 256

// ScaleConfig configures [Scale]. Zero fields take the defaults noted.
type ScaleConfig struct {
	Producers int // P; default 10000
	PPNs      int // N, at x-coordinates 1..N; default 4
	Threshold int // t; default N−1 (N if N = 1), so each aggregate is recovered from several PPN subsets
	Rules     int // C; producer p is in rule p mod C; default 4
	Rounds    int // R readings per producer (interval of the household model); default 96
	Workers   int // goroutines; default GOMAXPROCS
	// Seed fixes the readings (the household population) and the shares'
	// randomness; the timings it does not fix.
	Seed uint64
	// ThreadCPU times every stage, recovery included, by the CPU time of
	// the OS thread that runs it (the goroutines then lock their threads)
	// instead of by Now, so the figures hold on a machine other processes
	// are loading. Only on Linux; elsewhere Scale refuses it.
	ThreadCPU bool
	// Households is the reading model; nil means household.DefaultOptions.
	Households *household.Options
	// Now is the clock of the wall time, and of the stages unless
	// ThreadCPU; nil means time.Now.
	Now func() time.Time
	// Progress, if set, is called (from any goroutine) with the number of
	// producers finished so far.
	Progress func(done int)
}

// Stage is the work and time of one stage of the data path.
type Stage struct {
	Name  string
	Unit  string        // what Items counts
	Items int64         // items processed
	Busy  time.Duration // time spent in the stage, summed over workers (CPU time with ThreadCPU)
}

// PerSecond returns the stage's throughput per core: Items per second of
// busy time.
func (s Stage) PerSecond() float64 {
	if s.Busy <= 0 {
		return 0
	}
	return float64(s.Items) / s.Busy.Seconds()
}

// ScaleReport is the outcome of [Scale].
type ScaleReport struct {
	Config ScaleConfig // with defaults filled in
	Wall   time.Duration
	// Stages are readings (household model), plain sum (the baseline:
	// aggregation without privacy), split, accumulate, recover.
	Stages []Stage
	// Aggregates is the number of (rule, round) aggregates recovered, each
	// from every t-subset of the N PPNs (Subsets of them) and checked
	// against the plain sum of its readings.
	Aggregates, Subsets int
	// EnergyWh is the total of all readings, for a sanity check.
	EnergyWh uint64
}

func (c *ScaleConfig) fill() error {
	def := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	def(&c.Producers, 10000)
	def(&c.PPNs, 4)
	def(&c.Threshold, max(c.PPNs-1, 1))
	def(&c.Rules, 4)
	def(&c.Rounds, 96)
	def(&c.Workers, runtime.GOMAXPROCS(0))
	if c.Now == nil {
		c.Now = time.Now
	}
	if _, ok := threadCPU(); c.ThreadCPU && !ok {
		return fmt.Errorf("sim: per-thread CPU time is not available on this platform; run without ThreadCPU (--cpu-time=false)")
	}
	switch {
	case c.Producers < 1:
		return fmt.Errorf("sim: %d producers; need at least 1", c.Producers)
	case c.PPNs < 1 || c.PPNs > 64:
		return fmt.Errorf("sim: %d PPNs; use 1 to 64", c.PPNs)
	case c.Threshold < 1 || c.Threshold > c.PPNs:
		return fmt.Errorf("sim: threshold %d with %d PPNs; need 1 ≤ t ≤ N", c.Threshold, c.PPNs)
	case c.Rules < 1 || c.Rules > c.Producers:
		return fmt.Errorf("sim: %d rules for %d producers; need 1 ≤ C ≤ P", c.Rules, c.Producers)
	case c.Rounds < 1 || c.Rounds > 1e6:
		return fmt.Errorf("sim: %d rounds; use 1 to 10^6", c.Rounds)
	case c.Workers < 1:
		return fmt.Errorf("sim: %d workers; need at least 1", c.Workers)
	}
	return nil
}

// scaleWorker is one goroutine's state: its own meter, splitter and
// accumulators, merged at the end.
type scaleWorker struct {
	cfg     *ScaleConfig
	meter   *household.Meter
	split   *sharing.Splitter
	secrets []sharing.Element
	shares  []sharing.Element
	rule    []int
	acc     []sharing.Element // [ppn][rule][round]
	plain   []uint64          // [rule][round]
	busy    [4]time.Duration  // readings, plain sum, split, accumulate
	items   [4]int64
}

// Scale runs the whole data path in one process, without a network: for
// every producer, its readings from the household model; their Shamir
// shares for N PPNs; each PPN's per-rule, per-round accumulation; then
// recovery of every (rule, round) aggregate from every t-subset of PPNs,
// checked against the plain sum. A mismatch is an error.
func Scale(ctx context.Context, cfg ScaleConfig) (ScaleReport, error) {
	if err := cfg.fill(); err != nil {
		return ScaleReport{}, err
	}
	pop, err := household.NewPopulation(cfg.Households, cfg.Seed)
	if err != nil {
		return ScaleReport{}, err
	}
	xs := make([]sharing.Element, cfg.PPNs)
	for j := range xs {
		xs[j] = sharing.NewElement(uint64(j + 1))
	}
	start := cfg.Now()
	workers := make([]*scaleWorker, cfg.Workers)
	for w := range workers {
		if workers[w], err = newScaleWorker(&cfg, pop, xs, w); err != nil {
			return ScaleReport{}, err
		}
	}
	var next, done atomic.Int64
	errs := make([]error, cfg.Workers)
	var wg sync.WaitGroup
	for w, sw := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if cfg.ThreadCPU {
				runtime.LockOSThread()
				defer runtime.UnlockOSThread()
			}
			for ctx.Err() == nil {
				lo := int(next.Add(scaleBatch) - scaleBatch)
				if lo >= cfg.Producers {
					return
				}
				hi := min(lo+scaleBatch, cfg.Producers)
				if errs[w] = sw.batch(lo, hi); errs[w] != nil {
					return
				}
				if d := done.Add(int64(hi - lo)); cfg.Progress != nil {
					cfg.Progress(int(d))
				}
			}
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return ScaleReport{}, fmt.Errorf("sim: scale run stopped: %w", err)
	}
	for _, err := range errs {
		if err != nil {
			return ScaleReport{}, err
		}
	}
	rep, err := merge(&cfg, workers, xs)
	rep.Wall = cfg.Now().Sub(start)
	return rep, err
}

func newScaleWorker(cfg *ScaleConfig, pop *household.Population, xs []sharing.Element, w int) (*scaleWorker, error) {
	// ChaCha8 is a CSPRNG; seeding it from the run's seed makes the shares
	// reproducible, which a simulation wants and a meter must not.
	sp, err := sharing.NewSplitter(xs, cfg.Threshold, rand.NewChaCha8(blockKey(cfg.Seed, 3, uint64(w))))
	if err != nil {
		return nil, err
	}
	return &scaleWorker{
		cfg: cfg, meter: pop.Meter(0), split: sp,
		secrets: make([]sharing.Element, scaleBatch*cfg.Rounds),
		shares:  make([]sharing.Element, scaleBatch*cfg.Rounds*cfg.PPNs),
		rule:    make([]int, scaleBatch),
		acc:     make([]sharing.Element, cfg.PPNs*cfg.Rules*cfg.Rounds),
		plain:   make([]uint64, cfg.Rules*cfg.Rounds),
	}, nil
}

// clock returns the stage clock: the calling thread's CPU time (its
// goroutine must be locked to the thread) with ThreadCPU, else Now.
func (c *ScaleConfig) clock() time.Duration {
	if c.ThreadCPU {
		d, _ := threadCPU()
		return d
	}
	return time.Duration(c.Now().UnixNano())
}

// batch runs producers [lo, hi) through readings, split and accumulate.
func (w *scaleWorker) batch(lo, hi int) error {
	c := w.cfg
	n, rounds := hi-lo, c.Rounds
	t0 := w.cfg.clock()
	for i := range n {
		p := lo + i
		w.meter.Reset(uint64(p))
		rule := p % c.Rules
		w.rule[i] = rule
		for r := range rounds {
			wh := w.meter.Reading(int64(r)).Wh
			e, err := sharing.FromUint64(wh)
			if err != nil {
				return fmt.Errorf("sim: producer %d round %d: %w", p, r, err)
			}
			w.secrets[i*rounds+r] = e
		}
	}
	tp := w.cfg.clock()
	// The baseline: what aggregation costs without privacy.
	for i := range n {
		base := w.rule[i] * rounds
		for r, e := range w.secrets[i*rounds : (i+1)*rounds] {
			w.plain[base+r] += e.Uint64()
		}
	}
	t1 := w.cfg.clock()
	secrets, shares := w.secrets[:n*rounds], w.shares[:n*rounds*c.PPNs]
	if err := w.split.SplitBatch(secrets, shares); err != nil {
		return fmt.Errorf("sim: splitting: %w", err)
	}
	t2 := w.cfg.clock()
	N := c.PPNs
	for i := range n {
		base := w.rule[i] * rounds
		for r := range rounds {
			sh := shares[(i*rounds+r)*N : (i*rounds+r+1)*N]
			for j, s := range sh {
				a := &w.acc[j*c.Rules*rounds+base+r]
				*a = a.Add(s)
			}
		}
	}
	t3 := w.cfg.clock()
	w.busy[0] += tp - t0
	w.busy[1] += t1 - tp
	w.busy[2] += t2 - t1
	w.busy[3] += t3 - t2
	w.items[0] += int64(n * rounds)
	w.items[1] += int64(n * rounds)
	w.items[2] += int64(n * rounds)
	w.items[3] += int64(n * rounds * N)
	return nil
}

// merge adds the workers' accumulators (as the PPNs' would be, each its
// own) and recovers and checks every aggregate.
func merge(c *ScaleConfig, workers []*scaleWorker, xs []sharing.Element) (ScaleReport, error) {
	rep := ScaleReport{Config: *c}
	stages := []Stage{
		{Name: "readings", Unit: "readings"},
		{Name: "plain sum (baseline)", Unit: "readings"},
		{Name: "split", Unit: "readings"},
		{Name: "accumulate", Unit: "shares"},
		{Name: "recover", Unit: "recoveries"},
	}
	acc := make([]sharing.Element, len(workers[0].acc))
	plain := make([]uint64, len(workers[0].plain))
	for _, w := range workers {
		if err := sharing.AddVec(acc, w.acc); err != nil {
			return rep, err
		}
		for i, v := range w.plain {
			plain[i] += v
		}
		for s := range w.busy {
			stages[s].Busy += w.busy[s]
			stages[s].Items += w.items[s]
		}
	}
	for _, v := range plain {
		rep.EnergyWh += v
	}
	if c.ThreadCPU {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
	}
	t0 := c.clock()
	perPPN := c.Rules * c.Rounds
	sub := make([]sharing.Element, c.Threshold)
	ys := make([]sharing.Element, c.Threshold)
	var err error
	forSubsets(c.PPNs, c.Threshold, func(idx []int) bool {
		for i, j := range idx {
			sub[i] = xs[j]
		}
		var rec *sharing.Recoverer
		if rec, err = sharing.NewRecoverer(sub); err != nil {
			return false
		}
		for a := range perPPN {
			for i, j := range idx {
				ys[i] = acc[j*perPPN+a]
			}
			var got sharing.Element
			if got, err = rec.Recover(ys); err != nil {
				return false
			}
			if want := plain[a]; got.Uint64() != want {
				err = fmt.Errorf("sim: rule %d round %d recovered %d from PPNs %v, plain sum %d", a/c.Rounds, a%c.Rounds, got.Uint64(), idx, want)
				return false
			}
		}
		rep.Subsets++
		return true
	})
	if err != nil {
		return rep, err
	}
	stages[4].Busy = c.clock() - t0
	rep.Aggregates = perPPN
	stages[4].Items = int64(perPPN * rep.Subsets)
	rep.Stages = stages
	return rep, nil
}

// forSubsets calls f with every k-subset of {0..n−1} in lexicographic
// order until f returns false.
func forSubsets(n, k int, f func([]int) bool) {
	idx := make([]int, k)
	for i := range idx {
		idx[i] = i
	}
	for {
		if !f(idx) {
			return
		}
		i := k - 1
		for i >= 0 && idx[i] == n-k+i {
			i--
		}
		if i < 0 {
			return
		}
		idx[i]++
		for j := i + 1; j < k; j++ {
			idx[j] = idx[j-1] + 1
		}
	}
}

// ThreadCPUAvailable reports whether ScaleConfig.ThreadCPU works here.
func ThreadCPUAvailable() bool {
	_, ok := threadCPU()
	return ok
}
