package optimize

import (
	"cmp"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"
)

// PackOptions tune Pack; nil means defaults.
type PackOptions struct {
	// Seed drives the local search's random choices (default 1); the same
	// seed gives the same plan.
	Seed uint64
	// MaxIter bounds the local-search moves per target (default 20000).
	MaxIter int
}

// Pack is our heuristic. It treats minPPN as bin packing with conflicts
// (w copies of size M_c per consumer, copies of one consumer in distinct
// PPNs) and tries targets k = bound, bound+1, … below the paper greedy's
// count. For each k it packs consumers, largest first, into the k
// largest-capacity candidates by best fit and then by worst fit; if both
// fail it starts from the worst-fit packing with overflow and runs a local
// search that moves or swaps copies between PPNs to drive the total
// overflow Σ max(0, load−L) to zero. The first k that succeeds is the plan;
// if none does, the greedy's plan is returned, so Pack never uses more PPNs
// than Greedy.
func Pack(in *Instance, opt *PackOptions) (*Result, error) {
	start := time.Now()
	o := PackOptions{Seed: 1, MaxIter: 20000}
	if opt != nil {
		if opt.Seed != 0 {
			o.Seed = opt.Seed
		}
		if opt.MaxIter > 0 {
			o.MaxIter = opt.MaxIter
		}
	}
	lb := LowerBound(in)
	ub := in.Candidates() + 1
	g, gerr := Greedy(in)
	if gerr == nil {
		ub = len(g.Active)
	}
	sizes := in.Sizes()
	order := make([]int, len(sizes))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(sizes[b], sizes[a]) })
	bins := make([]int, in.Candidates())
	for i := range bins {
		bins[i] = i
	}
	slices.SortStableFunc(bins, func(a, b int) int { return cmp.Compare(in.Capacity(b), in.Capacity(a)) })
	var seed [32]byte
	binary.LittleEndian.PutUint64(seed[:], o.Seed)
	rnd := rand.New(rand.NewChaCha8(seed))
	for k := max(lb, in.W); k < ub && k <= len(bins); k++ {
		p := &packer{in: in, sizes: sizes, order: order, bins: bins[:k], rnd: rnd}
		if assign := p.pack(o.MaxIter); assign != nil {
			r := newResult(in, "pack", assign, lb, start)
			return r, nil
		}
	}
	if gerr != nil {
		return nil, fmt.Errorf("%w: pack: no plan on %d candidates found (lower bound %d PPNs); add candidates or capacity", ErrInfeasible, in.Candidates(), lb)
	}
	r := newResult(in, "pack", g.Consumers, lb, start)
	return r, nil
}

// packer packs into a fixed set of bins (candidate PPN indices).
type packer struct {
	in    *Instance
	sizes []int64
	order []int // consumers, largest first
	bins  []int
	rnd   *rand.Rand
	load  []int64
	cap   []int64
	items [][]int // bin position → consumers
}

func (p *packer) reset() {
	k := len(p.bins)
	p.load = make([]int64, k)
	p.cap = make([]int64, k)
	p.items = make([][]int, k)
	for i, n := range p.bins {
		p.cap[i] = p.in.Capacity(n)
	}
}

// pack returns an assignment into p.bins, or nil.
func (p *packer) pack(maxIter int) [][]int {
	if p.construct(true, false) || p.construct(false, false) {
		return p.assignment()
	}
	p.construct(false, true)
	if p.search(maxIter) {
		return p.assignment()
	}
	return nil
}

// construct places consumers largest first, each into w distinct bins:
// the fullest that fit (best fit) or the emptiest (worst fit). With
// overflow it never fails, placing into the emptiest bins regardless.
func (p *packer) construct(bestFit, overflow bool) bool {
	p.reset()
	pos := make([]int, len(p.bins))
	for _, c := range p.order {
		m := p.sizes[c]
		for i := range pos {
			pos[i] = i
		}
		slices.SortStableFunc(pos, func(a, b int) int {
			ra, rb := p.cap[a]-p.load[a], p.cap[b]-p.load[b]
			if bestFit {
				return cmp.Compare(ra, rb)
			}
			return cmp.Compare(rb, ra)
		})
		placed := 0
		for _, b := range pos {
			if placed == p.in.W {
				break
			}
			if !overflow && p.cap[b]-p.load[b] < m {
				continue
			}
			p.items[b] = append(p.items[b], c)
			p.load[b] += m
			placed++
		}
		if placed < p.in.W {
			return false
		}
	}
	return true
}

func (p *packer) over(b int, load int64) int64 { return max(0, load-p.cap[b]) }

// search moves or swaps copies between bins to remove overflow. Each step
// takes an overloaded bin and applies the best move of one of its copies to
// another bin, or swap with a copy there, choosing randomly among equally
// good ones; a step that cannot improve makes a random conflict-free move
// instead, to leave plateaus.
func (p *packer) search(maxIter int) bool {
	type move struct {
		b, i, b2, j int // copy i of bin b to bin b2; swap with copy j there if j ≥ 0
	}
	var best []move
	for range maxIter {
		var hot []int
		for b := range p.bins {
			if p.load[b] > p.cap[b] {
				hot = append(hot, b)
			}
		}
		if len(hot) == 0 {
			return true
		}
		b := hot[p.rnd.IntN(len(hot))]
		bestDelta := int64(1)
		best = best[:0]
		consider := func(mv move, delta int64) {
			if delta < bestDelta {
				bestDelta, best = delta, append(best[:0], mv)
			} else if delta == bestDelta {
				best = append(best, mv)
			}
		}
		before := p.over(b, p.load[b])
		for i, c := range p.items[b] {
			mc := p.sizes[c]
			for b2 := range p.bins {
				if b2 == b || slices.Contains(p.items[b2], c) {
					continue
				}
				base := before + p.over(b2, p.load[b2])
				consider(move{b, i, b2, -1}, p.over(b, p.load[b]-mc)+p.over(b2, p.load[b2]+mc)-base)
				for j, d := range p.items[b2] {
					md := p.sizes[d]
					if md >= mc || slices.Contains(p.items[b], d) {
						continue
					}
					consider(move{b, i, b2, j}, p.over(b, p.load[b]-mc+md)+p.over(b2, p.load[b2]+mc-md)-base)
				}
			}
		}
		if len(best) == 0 {
			// No move keeps the overflow: kick one copy somewhere legal.
			i := p.rnd.IntN(len(p.items[b]))
			b2 := p.rnd.IntN(len(p.bins))
			if b2 == b || slices.Contains(p.items[b2], p.items[b][i]) {
				continue
			}
			p.apply(b, i, b2, -1)
			continue
		}
		mv := best[p.rnd.IntN(len(best))]
		p.apply(mv.b, mv.i, mv.b2, mv.j)
	}
	return false
}

// apply moves copy i of bin b to bin b2, swapping with copy j of b2 when
// j ≥ 0.
func (p *packer) apply(b, i, b2, j int) {
	c := p.items[b][i]
	p.items[b] = slices.Delete(p.items[b], i, i+1)
	p.load[b] -= p.sizes[c]
	if j >= 0 {
		d := p.items[b2][j]
		p.items[b2] = slices.Delete(p.items[b2], j, j+1)
		p.load[b2] -= p.sizes[d]
		p.items[b] = append(p.items[b], d)
		p.load[b] += p.sizes[d]
	}
	p.items[b2] = append(p.items[b2], c)
	p.load[b2] += p.sizes[c]
}

func (p *packer) assignment() [][]int {
	out := make([][]int, len(p.sizes))
	for b, cs := range p.items {
		for _, c := range cs {
			out[c] = append(out[c], p.bins[b])
		}
	}
	return out
}
