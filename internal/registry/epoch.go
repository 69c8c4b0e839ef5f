package registry

import (
	"context"
	"fmt"
	"math"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/ppnet/ppnet/optimize"
)

// Clock is the global round clock: round τ starts at Start + τ·Round and
// its deadline is its end plus Grace. It is fixed for a deployment.
type Clock struct {
	Start time.Time     `json:"start"` // t0, start of round 0
	Round time.Duration `json:"round"` // D
	Grace time.Duration `json:"grace"` // added to a round's end to give its deadline
}

// RoundAt returns the round in progress at t, or −1 before round 0.
func (c Clock) RoundAt(t time.Time) int64 {
	if t.Before(c.Start) || c.Round <= 0 {
		return -1
	}
	return int64(t.Sub(c.Start) / c.Round)
}

// EpochRule is a rule as an epoch runs it: resolved and assigned.
type EpochRule struct {
	ID        string   `json:"id"`
	Consumer  string   `json:"consumer"`
	Kind      string   `json:"kind"`
	Window    int      `json:"window"`
	Producers []string `json:"producers"`      // the resolved Π
	PPNs      []string `json:"ppns"`           // the w PPNs assigned
	Band      [][2]int `json:"band,omitempty"` // time-of-use band: rounds of the day [from, to)
}

// Epoch is a planned configuration. It holds snapshots of the parties it
// uses, so it renders the same whatever changes in the registry later.
type Epoch struct {
	Number     uint32 `json:"number"`      // e ≥ 1
	FirstRound uint64 `json:"first_round"` // F_e, a global round
	Clock      Clock  `json:"clock"`       // the deployment's clock
	Threshold  int    `json:"threshold"`   // t
	W          int    `json:"w"`           // PPNs per rule
	// Solver, Status, LowerBound qualify the minPPN plan.
	Solver     string `json:"solver"`
	Status     string `json:"status"`
	LowerBound int    `json:"lower_bound"`
	// PPNs is the active PPN set, Producers the producers some rule covers,
	// Consumers those with a rule.
	PPNs      []PPN       `json:"ppns"`
	Producers []Producer  `json:"producers"`
	Consumers []Consumer  `json:"consumers"`
	Rules     []EpochRule `json:"rules"`
	// RoundsPerDay defines the rules' bands (round of the day = global
	// round mod RoundsPerDay); 0 when no rule has a band.
	RoundsPerDay int `json:"rounds_per_day,omitempty"`
	// Assignment maps each producer to the union of its rules' PPNs.
	Assignment map[string][]string `json:"assignment"`
	// Load is the sums per round each active PPN carries.
	Load map[string]int64 `json:"load"`
	// Planned and Published are when the epoch was planned and first
	// published (nil: not yet).
	Planned   time.Time  `json:"planned"`
	Published *time.Time `json:"published,omitempty"`
}

// PlanOptions are the inputs of PlanEpoch.
type PlanOptions struct {
	// FirstRound is F, the global round the epoch starts at. With
	// AutoFirst, the smallest valid round is taken instead.
	FirstRound uint64
	AutoFirst  bool
	// CurrentRound is the round in progress now (−1 before round 0); F
	// must lie after it.
	CurrentRound int64
	// Clock is required for the first epoch; later epochs keep the first
	// epoch's clock (a zero Clock means "the same").
	Clock Clock
	// Threshold is t (default 3) and W the PPNs per rule (default t).
	Threshold, W int
	// Solver is "pack" (default), "greedy", "exact" or "ilp".
	Solver string
	// Pack and ILP tune those solvers; nil means defaults.
	Pack *optimize.PackOptions
	ILP  *optimize.ILPOptions
	// Check parameterises the policy check re-run over the rules.
	Check *CheckOptions
}

// Solvers are the names PlanOptions.Solver accepts.
var Solvers = []string{"pack", "greedy", "exact", "ilp"}

func epochKey(n uint32) string { return fmt.Sprintf("%010d", n) }

// Epochs lists the epochs in order.
func (r *Registry) Epochs() (es []Epoch, err error) {
	err = r.view(func(tx *bolt.Tx) error {
		es, err = list[Epoch](tx, bucketEpochs, "epoch")
		return err
	})
	return es, err
}

// Epoch returns epoch n, and epoch n+1 when it exists (nil otherwise).
func (r *Registry) Epoch(n uint32) (e, next *Epoch, err error) {
	err = r.view(func(tx *bolt.Tx) error {
		e = new(Epoch)
		if tx.Bucket(bucketEpochs).Get([]byte(epochKey(n))) == nil {
			return fmt.Errorf("%w: no epoch %d; epoch show lists the newest, epoch plan makes one", ErrNotFound, n)
		}
		if err := get(tx, bucketEpochs, "epoch", epochKey(n), e); err != nil {
			return err
		}
		if tx.Bucket(bucketEpochs).Get([]byte(epochKey(n+1))) != nil {
			next = new(Epoch)
			return get(tx, bucketEpochs, "epoch", epochKey(n+1), next)
		}
		return nil
	})
	return e, next, err
}

// Latest returns the number of the newest epoch, or 0 if there is none.
func (r *Registry) Latest() (uint32, error) {
	es, err := r.Epochs()
	if err != nil || len(es) == 0 {
		return 0, err
	}
	return es[len(es)-1].Number, nil
}

// PlanEpoch checks the active rules, solves minPPN over them and stores
// the result as the next epoch. An unpublished newest epoch is replaced;
// a published one is followed. A policy refusal is a *RefusedError.
func (r *Registry) PlanEpoch(ctx context.Context, o PlanOptions) (*Epoch, error) {
	if o.Threshold == 0 {
		o.Threshold = 3
	}
	if o.W == 0 {
		o.W = o.Threshold
	}
	if o.Solver == "" {
		o.Solver = "pack"
	}
	if o.Threshold < 1 || o.W < o.Threshold {
		return nil, fmt.Errorf("%w: t = %d, w = %d; need 1 ≤ t ≤ w", ErrInvalid, o.Threshold, o.W)
	}
	var (
		ck   *checked
		prev *Epoch
		e    = &Epoch{Threshold: o.Threshold, W: o.W, Solver: o.Solver}
		cand []PPN
	)
	err := r.view(func(tx *bolt.Tx) error {
		es, err := list[Epoch](tx, bucketEpochs, "epoch")
		if err != nil {
			return err
		}
		e.Number = 1
		if k := len(es); k > 0 {
			e.Number = es[k-1].Number + 1
			if es[k-1].Published == nil {
				e.Number = es[k-1].Number
				es = es[:k-1]
			}
		}
		if k := len(es); k > 0 {
			prev = &es[k-1]
		}
		rules, err := activeRules(tx)
		if err != nil {
			return err
		}
		if len(rules) == 0 {
			return fmt.Errorf("%w: no active rules; admit one with rules request before planning", ErrInvalid)
		}
		perDay := o.Check.withDefaults().RoundsPerDay
		for _, rl := range rules {
			if len(rl.Band) == 0 {
				continue
			}
			// The data plane counts a band's rounds per window, so every
			// window must hold whole days; epochs then start on a day too.
			if rl.Window%perDay != 0 {
				return fmt.Errorf("%w: rule %q has a time-of-use band and a window of %d rounds, not whole days of %d rounds, which the data plane cannot run; revoke it and ask for a window of whole days", ErrInvalid, rl.ID, rl.Window, perDay)
			}
			e.RoundsPerDay = perDay
		}
		if ck, err = check(tx, rules, o.Check.withDefaults()); err != nil {
			return err
		}
		ns, err := list[PPN](tx, bucketPPNs, "ppn")
		for _, n := range ns {
			if n.Retired == nil {
				cand = append(cand, n)
			}
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	if err := e.setClock(o, prev); err != nil {
		return nil, err
	}
	if err := e.setFirstRound(o, prev, ck.rules); err != nil {
		return nil, err
	}
	if err := e.assign(ctx, o, ck, cand); err != nil {
		return nil, err
	}
	e.Planned = r.now().UTC()
	err = r.update(func(tx *bolt.Tx) error { return put(tx, bucketEpochs, "epoch", epochKey(e.Number), e, false) })
	if err != nil {
		return nil, err
	}
	return e, nil
}

func (e *Epoch) setClock(o PlanOptions, prev *Epoch) error {
	c := o.Clock
	switch {
	case prev == nil && c.Start.IsZero():
		return fmt.Errorf("%w: the first epoch needs the round clock; give --start (RFC 3339 start of round 0) and --round", ErrInvalid)
	case prev != nil && c.Start.IsZero():
		c = prev.Clock
	case prev != nil && (!c.Start.Equal(prev.Clock.Start) || c.Round != prev.Clock.Round):
		return fmt.Errorf("%w: clock start %s round %v differs from epoch %d's %s round %v; the clock is fixed for a deployment, drop --start and --round", ErrInvalid,
			c.Start.Format(time.RFC3339), c.Round, prev.Number, prev.Clock.Start.Format(time.RFC3339), prev.Clock.Round)
	}
	if c.Round <= 0 || c.Grace < 0 {
		return fmt.Errorf("%w: round %v, grace %v; the round must be positive and the grace not negative", ErrInvalid, c.Round, c.Grace)
	}
	e.Clock = c
	return nil
}

func gcd(a, b uint64) uint64 {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// setFirstRound checks (or picks) F: after the current round and the
// previous epoch's start, a multiple of every window involved.
func (e *Epoch) setFirstRound(o PlanOptions, prev *Epoch, rules []Rule) error {
	step := uint64(1)
	lcm := func(k int) {
		step = step / gcd(step, uint64(k)) * uint64(k)
	}
	for _, r := range rules {
		lcm(r.Window)
	}
	if prev != nil {
		for _, r := range prev.Rules {
			lcm(r.Window)
		}
	}
	low := uint64(max(o.CurrentRound+1, 0)) // smallest round after the current one
	if prev != nil {
		low = max(low, prev.FirstRound+1)
	}
	next := (low + step - 1) / step * step
	f := o.FirstRound
	if o.AutoFirst {
		f = next
	}
	maxF := uint64(math.MaxInt64 / int64(e.Clock.Round))
	switch {
	case f > maxF:
		return fmt.Errorf("%w: first round %d is beyond the clock's range (%d rounds of %v)", ErrInvalid, f, maxF, e.Clock.Round)
	case int64(f) <= o.CurrentRound:
		return fmt.Errorf("%w: first round %d is not in the future (current round %d); use %d or later", ErrInvalid, f, o.CurrentRound, next)
	case prev != nil && f <= prev.FirstRound:
		return fmt.Errorf("%w: first round %d is not after epoch %d's first round %d; use %d or later", ErrInvalid, f, prev.Number, prev.FirstRound, next)
	case f%step != 0:
		return fmt.Errorf("%w: first round %d would cut a window (windows of this and the previous epoch tile by %d rounds); use a multiple of %d such as %d", ErrInvalid, f, step, step, max(next, (f+step-1)/step*step))
	}
	e.FirstRound = f
	return nil
}

// solve runs the chosen minPPN solver and checks its plan.
func solve(ctx context.Context, in *optimize.Instance, o PlanOptions) (*optimize.Result, error) {
	var (
		res *optimize.Result
		err error
	)
	switch o.Solver {
	case "pack":
		res, err = optimize.Pack(in, o.Pack)
	case "greedy":
		res, err = optimize.Greedy(in)
	case "exact":
		res, err = optimize.Exact(ctx, in, nil)
	case "ilp":
		res, _, err = optimize.SolveILP(ctx, in, o.ILP)
	default:
		return nil, fmt.Errorf("%w: solver %q; use one of %v", ErrInvalid, o.Solver, Solvers)
	}
	if err != nil {
		return nil, fmt.Errorf("registry: planning: %w", err)
	}
	if res.Consumers == nil {
		return nil, fmt.Errorf("registry: planning: solver %s found no plan (%s); raise its time limit or add PPN capacity", o.Solver, res.Status)
	}
	if err := optimize.Check(in, res); err != nil {
		return nil, fmt.Errorf("registry: planning: solver %s returned an invalid plan: %w", o.Solver, err)
	}
	return res, nil
}

// assign solves minPPN with one minPPN consumer per rule and the
// candidates' own capacities, and fills the epoch's rules and snapshots.
func (e *Epoch) assign(ctx context.Context, o PlanOptions, ck *checked, cand []PPN) error {
	if len(cand) < o.W {
		return fmt.Errorf("%w: %d PPNs in service, fewer than w = %d; enrol more with ppns add", ErrInvalid, len(cand), o.W)
	}
	in := &optimize.Instance{W: o.W, Producers: len(ck.producers)}
	for _, n := range cand {
		in.Capacities = append(in.Capacities, n.Capacity)
	}
	for i, r := range ck.policy.Rules {
		in.Consumers = append(in.Consumers, optimize.Consumer{ID: r.ID, Producers: optimize.List(ck.policy.Rules[i].Producers)})
	}
	if err := in.Validate(); err != nil {
		return fmt.Errorf("registry: planning: %w", err)
	}
	res, err := solve(ctx, in, o)
	if err != nil {
		return err
	}
	if len(res.Active) > 64 {
		return fmt.Errorf("registry: planning: the plan uses %d PPNs, more than the 64 a network file holds; raise PPN capacities", len(res.Active))
	}
	e.Status, e.LowerBound = res.Status, res.LowerBound
	e.Load = map[string]int64{}
	for _, n := range res.Active {
		e.PPNs = append(e.PPNs, cand[n])
		e.Load[cand[n].ID] = res.Load[n]
	}
	e.Assignment = map[string][]string{}
	usedCons := map[string]bool{}
	served := make([]map[int]bool, len(ck.producers))
	for i, r := range ck.policy.Rules {
		src := ck.rules[i]
		er := EpochRule{ID: r.ID, Consumer: src.Consumer, Kind: src.Kind, Window: src.Window, Band: src.Band}
		for _, p := range r.Producers {
			er.Producers = append(er.Producers, ck.producers[p].ID)
			if served[p] == nil {
				served[p] = map[int]bool{}
			}
			for _, n := range res.Consumers[i] {
				served[p][n] = true
			}
		}
		for _, n := range res.Consumers[i] {
			er.PPNs = append(er.PPNs, cand[n].ID)
		}
		usedCons[src.Consumer] = true
		e.Rules = append(e.Rules, er)
	}
	for p, set := range served {
		if set == nil {
			continue
		}
		e.Producers = append(e.Producers, ck.producers[p])
		for n := range cand {
			if set[n] {
				e.Assignment[ck.producers[p].ID] = append(e.Assignment[ck.producers[p].ID], cand[n].ID)
			}
		}
	}
	for _, c := range ck.consumers {
		if usedCons[c.ID] {
			e.Consumers = append(e.Consumers, c)
		}
	}
	return nil
}

// markPublished records the publication time of epoch n (once).
func (r *Registry) markPublished(n uint32) error {
	return r.update(func(tx *bolt.Tx) error {
		var e Epoch
		if err := get(tx, bucketEpochs, "epoch", epochKey(n), &e); err != nil {
			return err
		}
		if e.Published != nil {
			return nil
		}
		t := r.now().UTC()
		e.Published = &t
		return put(tx, bucketEpochs, "epoch", epochKey(n), e, false)
	})
}

// LateError reports an epoch that was never published and whose first
// round is no longer in the future: roles that pick it up now could not
// switch at its first round, so windows of the previous epoch would run
// on without it and rounds since its start would have no configuration.
type LateError struct {
	Epoch      uint32
	FirstRound uint64
	// Current is the round in progress (−1 before round 0).
	Current int64
	// Start is when the first round began.
	Start time.Time
}

func (e *LateError) Error() string {
	return fmt.Sprintf("registry: epoch %d starts at round %d (%s) but round %d is in progress now, too late to publish it; plan again (configurator epoch plan) and publish the new plan",
		e.Epoch, e.FirstRound, e.Start.Format(time.RFC3339), e.Current)
}

// Unwrap makes errors.Is(err, ErrInvalid) hold.
func (e *LateError) Unwrap() error { return ErrInvalid }

// CheckPublishable returns a *LateError when epoch n has never been
// published and its first round is not after current, the round in
// progress now (−1 before round 0). An epoch published before is not
// checked: publishing it again (bounded by a newer epoch, or to another
// bucket or file) changes nothing its roles have started on. Call it right
// before Publish or RenderFile, which do not check it themselves.
func (r *Registry) CheckPublishable(n uint32, current int64) error {
	e, _, err := r.Epoch(n)
	if err != nil {
		return err
	}
	if e.Published != nil || e.FirstRound > math.MaxInt64 || current < int64(e.FirstRound) {
		return nil
	}
	return &LateError{Epoch: n, FirstRound: e.FirstRound, Current: current,
		Start: e.Clock.Start.Add(time.Duration(e.FirstRound) * e.Clock.Round)}
}
