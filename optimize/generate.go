package optimize

import (
	"encoding/binary"
	"fmt"
	"iter"
	"math"
	"math/bits"
	"math/rand/v2"
	"runtime"
	"sync"
)

// Family names a generator of random instances.
type Family string

// The instance families of Generate.
const (
	// FamilyPaper is the paper's setting: A_pc ~ Bernoulli(p) with one p
	// (0.5) for all consumers, L = α|P| (α = 8), w = t = 4.
	FamilyPaper Family = "paper"
	// FamilyHard draws a different p_c ~ U(0.05, 0.95) for every consumer
	// and defaults to a small α = 2, so consumer sizes vary and PPNs are
	// tight: a bin packing instance rather than a volume count.
	FamilyHard Family = "hard"
)

// GenOptions parameterise Generate. Zero fields take the family's default.
type GenOptions struct {
	// Family selects the generator; empty means FamilyPaper.
	Family Family
	// Producers is |P| (default 1000).
	Producers int
	// Consumers is |C| (default 10).
	Consumers int
	// Alpha sets L = ⌈α·|P|⌉ (default 8 for paper, 2 for hard).
	Alpha float64
	// P is the membership probability of FamilyPaper (default 0.5).
	P float64
	// W is the number of shares per consumer (default 4).
	W int
	// PPNs is the number of candidates (default w·|C|).
	PPNs int
	// Seed makes the instance reproducible; the same options and seed give
	// the same instance on every machine.
	Seed uint64
}

func (o GenOptions) withDefaults() GenOptions {
	if o.Family == "" {
		o.Family = FamilyPaper
	}
	if o.Producers == 0 {
		o.Producers = 1000
	}
	if o.Consumers == 0 {
		o.Consumers = 10
	}
	if o.Alpha == 0 {
		o.Alpha = 8
		if o.Family == FamilyHard {
			o.Alpha = 2
		}
	}
	if o.P == 0 {
		o.P = 0.5
	}
	if o.W == 0 {
		o.W = 4
	}
	return o
}

// Generate draws a random instance. Producer sets are not stored: each is a
// keyed hash of (consumer, producer) compared with p_c, so membership is a
// pure function and a 10^7 × 100 instance costs a few bytes per consumer.
// M_c is counted once, in parallel.
func Generate(opt GenOptions) (*Instance, error) {
	o := opt.withDefaults()
	bad := func(format string, a ...any) (*Instance, error) {
		return nil, fmt.Errorf("%w: "+format, append([]any{ErrInstance}, a...)...)
	}
	switch {
	case o.Family != FamilyPaper && o.Family != FamilyHard:
		return bad("unknown family %q; use %q or %q", o.Family, FamilyPaper, FamilyHard)
	case o.Producers < 1 || o.Consumers < 1:
		return bad("producers = %d, consumers = %d; both must be ≥ 1", o.Producers, o.Consumers)
	case o.Producers > MaxProducers || o.Consumers > MaxPPNs || o.PPNs > MaxPPNs:
		return bad("producers = %d, consumers = %d, ppns = %d; limits are %d, %d and %d", o.Producers, o.Consumers, o.PPNs, MaxProducers, MaxPPNs, MaxPPNs)
	case !(o.Alpha > 0) || math.IsInf(o.Alpha, 0):
		return bad("alpha = %v; α must be a positive number (L = α·|P|)", o.Alpha)
	case !(o.P > 0 && o.P <= 1):
		return bad("p = %v; the membership probability must be in (0, 1]", o.P)
	case o.W < 1:
		return bad("w = %d; w must be ≥ 1", o.W)
	}
	var seed [32]byte
	binary.LittleEndian.PutUint64(seed[:], o.Seed)
	copy(seed[8:], "ppnet/optimize/generate")
	rnd := rand.New(rand.NewChaCha8(seed))
	sets := make([]*hashSet, o.Consumers)
	for c := range sets {
		p := o.P
		if o.Family == FamilyHard {
			p = 0.05 + 0.9*rnd.Float64()
		}
		th := uint64(math.MaxUint64)
		if p < 1 {
			th = uint64(p * (1 << 64))
		}
		sets[c] = &hashSet{key: rnd.Uint64(), threshold: th, producers: o.Producers}
	}
	countSizes(sets)
	in := &Instance{
		W:         o.W,
		L:         int64(math.Ceil(o.Alpha * float64(o.Producers))),
		Producers: o.Producers,
		PPNs:      o.PPNs,
	}
	for c, s := range sets {
		in.Consumers = append(in.Consumers, Consumer{ID: fmt.Sprintf("c%d", c+1), Producers: s})
	}
	if err := in.Validate(); err != nil {
		return nil, err
	}
	return in, nil
}

// hashSet is a producer set drawn as Bernoulli(p) per producer from a keyed
// hash, so it can be replayed without storing it.
type hashSet struct {
	key       uint64
	threshold uint64 // p·2^64
	producers int
	size      int
}

// mix is the SplitMix64 finaliser: a bijection on 64 bits with good
// avalanche, enough to decorrelate consecutive producer indices.
func mix(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	return x ^ x>>31
}

func (s *hashSet) has(p int) bool {
	return mix(s.key+uint64(p)*0x9e3779b97f4a7c15) < s.threshold
}

// bit is has as 1 or 0, computed without a branch (the borrow of h − p·2^64).
func (s *hashSet) bit(p int) uint64 {
	_, borrow := bits.Sub64(mix(s.key+uint64(p)*0x9e3779b97f4a7c15), s.threshold, 0)
	return borrow
}

// Len returns M_c.
func (s *hashSet) Len() int { return s.size }

// All yields the members in increasing order.
func (s *hashSet) All() iter.Seq[int] {
	return func(yield func(int) bool) {
		for p := range s.producers {
			if s.has(p) && !yield(p) {
				return
			}
		}
	}
}

func countSizes(sets []*hashSet) {
	var wg sync.WaitGroup
	next := make(chan *hashSet)
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for s := range next {
				var n uint64
				for p := range s.producers {
					n += s.bit(p)
				}
				s.size = int(n)
			}
		})
	}
	for _, s := range sets {
		next <- s
	}
	close(next)
	wg.Wait()
}

// Range yields the members in [lo, hi), in order.
func (s *hashSet) Range(lo, hi int) iter.Seq[int] {
	return func(yield func(int) bool) {
		for p := max(lo, 0); p < min(hi, s.producers); p++ {
			if s.has(p) && !yield(p) {
				return
			}
		}
	}
}
