package optimize

import (
	"cmp"
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"
)

// ExactOptions tune Exact; nil means defaults.
type ExactOptions struct {
	// TimeLimit bounds the search (default 60 s); when it runs out the
	// result is Pack's plan with the bound proven so far.
	TimeLimit time.Duration
	// Pack tunes the heuristic that provides the first plan.
	Pack *PackOptions
}

// Exact solves minPPN by a specialised branch and bound for bin packing
// with conflicts, for PPNs of one capacity. Starting from the lower bound b
// and Pack's plan with u PPNs, it decides for k = b, b+1, … < u whether the
// copies fit k PPNs: consumers largest first, each given a w-subset of the
// k PPNs. Two PPNs serving the same consumers so far are interchangeable,
// so among such twins only a prefix may be chosen; a branch is cut when the
// space still usable (residuals of PPNs that can take at least the
// smallest remaining consumer) is less than the remaining volume. A k
// proven infeasible raises the bound; the first feasible k is optimal.
func Exact(ctx context.Context, in *Instance, opt *ExactOptions) (*Result, error) {
	start := time.Now()
	o := ExactOptions{TimeLimit: time.Minute}
	if opt != nil {
		o = *opt
		o.TimeLimit = cmpOr(o.TimeLimit, time.Minute)
	}
	if !in.Uniform() {
		return nil, fmt.Errorf("%w: exact search needs PPNs of one capacity; use the ilp solver for per-PPN capacities", ErrInstance)
	}
	h, err := Pack(in, o.Pack)
	if err != nil {
		return nil, err
	}
	deadline := start.Add(o.TimeLimit)
	lb := h.LowerBound
	var plan [][]int
	for k := lb; k < len(h.Active); k++ {
		s := newSearch(ctx, in, k, deadline)
		found, done := s.run()
		if !done {
			break
		}
		if found {
			plan = s.assignment()
			break
		}
		lb = k + 1
	}
	if plan == nil {
		plan = h.Consumers
	}
	r := newResult(in, "exact", plan, lb, start)
	r.Optimal = len(r.Active) == lb
	if r.Optimal {
		r.Status = "optimal"
	} else {
		r.Status = "stopped"
	}
	r.Seconds = time.Since(start).Seconds()
	return r, nil
}

// search is one feasibility question: do the copies fit k PPNs?
type search struct {
	ctx      context.Context
	deadline time.Time
	w        int
	L        int64
	sizes    []int64 // consumers in search order, largest first
	order    []int   // search position → consumer
	rest     []int64 // rest[i] = w·Σ_{j≥i} sizes[j]
	load     []int64
	sig      []uint64 // per PPN: XOR of keys of the consumers it serves
	key      []uint64
	chosen   [][]int // per depth: the PPNs of that consumer
	nodes    int
	stopped  bool
}

func newSearch(ctx context.Context, in *Instance, k int, deadline time.Time) *search {
	all := in.Sizes()
	s := &search{ctx: ctx, deadline: deadline, w: in.W, L: in.Capacity(0), load: make([]int64, k), sig: make([]uint64, k)}
	s.order = make([]int, len(all))
	for i := range s.order {
		s.order[i] = i
	}
	slices.SortStableFunc(s.order, func(a, b int) int { return cmp.Compare(all[b], all[a]) })
	rnd := rand.New(rand.NewPCG(uint64(k), 0x5eed)) // fixed keys: the search is deterministic
	s.rest = make([]int64, len(all)+1)
	for i := len(all) - 1; i >= 0; i-- {
		m := all[s.order[i]]
		s.sizes = append([]int64{m}, s.sizes...)
		s.rest[i] = s.rest[i+1] + m*int64(in.W)
	}
	for range all {
		s.key = append(s.key, rnd.Uint64())
	}
	s.chosen = make([][]int, len(all))
	return s
}

// run returns (feasible, decided); decided is false when the time ran out.
func (s *search) run() (bool, bool) {
	ok := s.place(0)
	return ok, !s.stopped
}

func (s *search) expired() bool {
	s.nodes++
	if s.nodes%1024 == 0 && (time.Now().After(s.deadline) || s.ctx.Err() != nil) {
		s.stopped = true
	}
	return s.stopped
}

// place assigns consumer at position i and everything after it.
func (s *search) place(i int) bool {
	if i == len(s.sizes) {
		return true
	}
	if s.expired() || !s.roomFor(i) {
		return false
	}
	m := s.sizes[i]
	// Fullest PPNs first: best fit finds feasible packings early. Twins
	// (equal signature, hence equal load) end up adjacent.
	bins := make([]int, 0, len(s.load))
	for b := range s.load {
		if s.L-s.load[b] >= m {
			bins = append(bins, b)
		}
	}
	if len(bins) < s.w {
		return false
	}
	slices.SortStableFunc(bins, func(a, b int) int {
		if c := cmp.Compare(s.load[b], s.load[a]); c != 0 {
			return c
		}
		return cmp.Compare(s.sig[a], s.sig[b])
	})
	pick := make([]int, 0, s.w)
	var choose func(j int) bool
	choose = func(j int) bool {
		if len(pick) == s.w {
			s.chosen[i] = pick
			return s.place(i + 1)
		}
		for ; j <= len(bins)-(s.w-len(pick)); j++ {
			b := bins[j]
			// Among twins only a prefix may be chosen: skip b if its twin
			// just before it was passed over.
			if j > 0 && s.sig[bins[j-1]] == s.sig[b] && (len(pick) == 0 || pick[len(pick)-1] != bins[j-1]) {
				continue
			}
			pick = append(pick, b)
			s.load[b] += m
			s.sig[b] ^= s.key[i]
			ok := choose(j + 1)
			s.sig[b] ^= s.key[i]
			s.load[b] -= m
			if ok {
				return true
			}
			pick = pick[:len(pick)-1]
			if s.stopped {
				return false
			}
		}
		return false
	}
	return choose(0)
}

// roomFor cuts the branch when consumers i, i+1, … cannot fit:
//   - volume: a PPN whose residual is below the smallest remaining size can
//     take none of them, so the other residuals must hold the remaining
//     volume;
//   - counting: for each remaining size s_j, the w·(j−i+1) copies of size
//     ≥ s_j need slots, and a PPN with residual r offers at most ⌊r/s_j⌋ of
//     them, and at most one per consumer (copies of a consumer are apart).
func (s *search) roomFor(i int) bool {
	smallest := s.sizes[len(s.sizes)-1]
	var usable int64
	for _, l := range s.load {
		if r := s.L - l; r >= smallest {
			usable += r
		}
	}
	if usable < s.rest[i] {
		return false
	}
	for j := i; j < len(s.sizes); j++ {
		if j+1 < len(s.sizes) && s.sizes[j+1] == s.sizes[j] {
			continue // the last of equal sizes gives the strongest count
		}
		distinct := int64(j - i + 1)
		need := int64(s.w) * distinct
		var slots int64
		for _, l := range s.load {
			slots += min((s.L-l)/s.sizes[j], distinct)
			if slots >= need {
				break
			}
		}
		if slots < need {
			return false
		}
	}
	return true
}

func (s *search) assignment() [][]int {
	out := make([][]int, len(s.sizes))
	for i, pick := range s.chosen {
		out[s.order[i]] = slices.Clone(pick)
	}
	return out
}
