package sharing

import (
	"encoding/binary"
	"fmt"
	"sync"
	"sync/atomic"
)

// Recoverer recovers secrets from shares held at one fixed, ordered set of
// x-coordinates. Its Lagrange coefficients λ_i = Π_{j≠i} x_j / (x_j − x_i)
// are computed once, so each recovery is len(xs) multiply-adds.
// A Recoverer is immutable and safe for concurrent use.
type Recoverer struct {
	xs     []Element
	lambda []uint64
}

// NewRecoverer precomputes the coefficients for interpolation at 0 from the
// shares at xs (distinct and nonzero). Recovery needs exactly len(xs) shares;
// the polynomial must have degree < len(xs).
func NewRecoverer(xs []Element) (*Recoverer, error) {
	if err := checkXs(xs); err != nil {
		return nil, err
	}
	n := len(xs)
	num := make([]Element, n)
	den := make([]Element, n)
	for i := range xs {
		nu, de := Element{1}, Element{1}
		for j := range xs {
			if j == i {
				continue
			}
			nu = nu.Mul(xs[j])
			de = de.Mul(xs[j].Sub(xs[i]))
		}
		num[i], den[i] = nu, de
	}
	if err := BatchInverse(den, den); err != nil {
		return nil, err // unreachable: xs are distinct
	}
	r := &Recoverer{xs: append([]Element(nil), xs...), lambda: make([]uint64, n)}
	for i := range xs {
		r.lambda[i] = num[i].Mul(den[i]).v
	}
	return r, nil
}

// Xs returns the x-coordinates the Recoverer expects, in order.
func (r *Recoverer) Xs() []Element { return append([]Element(nil), r.xs...) }

// Recover returns f(0) from ys[i] = f(xs[i]).
func (r *Recoverer) Recover(ys []Element) (Element, error) {
	l := r.lambda
	if len(ys) != len(l) {
		return Element{}, r.lengthError(len(ys))
	}
	switch len(l) { // the common thresholds without a call to dot
	case 3:
		l, ys := l[:3], ys[:3]
		return Element{reduce64(fold(l[0], ys[0].v) + fold(l[1], ys[1].v) + fold(l[2], ys[2].v))}, nil
	case 4:
		l, ys := l[:4], ys[:4]
		return Element{reduce64(fold(l[0], ys[0].v) + fold(l[1], ys[1].v) + fold(l[2], ys[2].v) + fold(l[3], ys[3].v))}, nil
	}
	return Element{dot(l, ys)}, nil
}

func (r *Recoverer) lengthError(n int) error {
	return fmt.Errorf("%w: %d shares for a recoverer of %d", ErrLength, n, len(r.lambda))
}

// RecoverVec recovers a vector secret component-wise: dst[k] is recovered
// from ys[i][k] for every share i. All ys[i] must have len(dst) components.
func (r *Recoverer) RecoverVec(dst []Element, ys [][]Element) error {
	if len(ys) != len(r.lambda) {
		return fmt.Errorf("%w: %d share vectors for a recoverer of %d", ErrLength, len(ys), len(r.lambda))
	}
	for i := range ys {
		if len(ys[i]) != len(dst) {
			return fmt.Errorf("%w: share vector %d has %d components, want %d", ErrLength, i, len(ys[i]), len(dst))
		}
	}
	for k := range dst {
		var acc uint64
		for i := range ys {
			acc = addmod(acc, mulmod(r.lambda[i], ys[i][k].v))
		}
		dst[k] = Element{acc}
	}
	return nil
}

// Combiner recovers secrets from shares at any x-coordinate sets, caching a
// Recoverer per ordered set (and, for RobustRecover, a checker per set and
// threshold). The zero value is ready to use; it is safe for concurrent use.
// The caches grow with the number of distinct sets seen, which for a
// consumer is bounded by the subsets of its nodes.
type Combiner struct {
	mu       sync.RWMutex
	cache    map[string]*Recoverer
	checkers map[string]*checker
	last     atomic.Pointer[Recoverer] // most recently used, checked first
}

// Recoverer returns the cached Recoverer for xs, building it on first use.
func (c *Combiner) Recoverer(xs []Element) (*Recoverer, error) {
	var kb [8 * 16]byte
	key := appendXsKey(kb[:0], xs)
	c.mu.RLock()
	r := c.cache[string(key)] // no allocation: the compiler looks up without copying
	c.mu.RUnlock()
	if r != nil {
		return r, nil
	}
	r, err := NewRecoverer(xs)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if c.cache == nil {
		c.cache = make(map[string]*Recoverer)
	}
	c.cache[string(key)] = r
	c.mu.Unlock()
	return r, nil
}

// Recover returns the secret from the first t shares. It does not look at
// the others; use RobustRecover to check them.
func (c *Combiner) Recover(shares []Share, t int) (Element, error) {
	if t < 1 {
		return Element{}, fmt.Errorf("%w: t = %d; need t ≥ 1", ErrThreshold, t)
	}
	if len(shares) < t {
		return Element{}, fmt.Errorf("%w: have %d, need t = %d", ErrTooFewShares, len(shares), t)
	}
	shares = shares[:t]
	// A consumer mostly combines shares from the same nodes over and over:
	// try the last Recoverer before hashing the x-coordinates.
	r := c.last.Load()
	if r == nil || !r.matches(shares) {
		var xbuf [16]Element
		xs := xbuf[:0]
		for _, s := range shares {
			xs = append(xs, s.X)
		}
		var err error
		if r, err = c.Recoverer(xs); err != nil {
			return Element{}, err
		}
		c.last.Store(r)
	}
	return Element{r.recoverShares(shares)}, nil
}

// matches reports whether shares are held at r's x-coordinates, in order.
func (r *Recoverer) matches(shares []Share) bool {
	if len(shares) != len(r.xs) {
		return false
	}
	for i, x := range r.xs {
		if shares[i].X != x {
			return false
		}
	}
	return true
}

// recoverShares is Recover for shares known to match r, summed as dot does.
func (r *Recoverer) recoverShares(shares []Share) uint64 {
	l := r.lambda
	shares = shares[:len(l)]
	var acc uint64
	i := 0
	for ; i+4 <= len(l); i += 4 {
		s := fold(l[i], shares[i].Y.v) + fold(l[i+1], shares[i+1].Y.v) +
			fold(l[i+2], shares[i+2].Y.v) + fold(l[i+3], shares[i+3].Y.v)
		acc = addmod(acc, reduce64(s))
	}
	for ; i < len(l); i++ {
		acc += fold(l[i], shares[i].Y.v)
	}
	return reduce64(acc)
}

// appendXsKey appends the cache key of the ordered set xs.
func appendXsKey(b []byte, xs []Element) []byte {
	for _, x := range xs {
		b = binary.LittleEndian.AppendUint64(b, x.v)
	}
	return b
}
