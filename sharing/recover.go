package sharing

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
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
	if len(ys) != len(r.lambda) {
		return Element{}, fmt.Errorf("%w: %d shares for a recoverer of %d", ErrLength, len(ys), len(r.lambda))
	}
	var acc uint64
	for i, y := range ys {
		acc = addmod(acc, mulmod(r.lambda[i], y.v))
	}
	return Element{acc}, nil
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
// Recoverer per ordered set. The zero value is ready to use; it is safe for
// concurrent use.
type Combiner struct {
	mu       sync.RWMutex
	cache    map[string]*Recoverer
	checkers map[string]*checker
}

// Recoverer returns the cached Recoverer for xs, building it on first use.
func (c *Combiner) Recoverer(xs []Element) (*Recoverer, error) {
	key := xsKey(xs)
	c.mu.RLock()
	r := c.cache[key]
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
	c.cache[key] = r
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
	var xbuf, ybuf [8]Element
	xs, ys := xbuf[:0], ybuf[:0]
	for _, s := range shares[:t] {
		xs = append(xs, s.X)
		ys = append(ys, s.Y)
	}
	r, err := c.Recoverer(xs)
	if err != nil {
		return Element{}, err
	}
	return r.Recover(ys)
}

func xsKey(xs []Element) string {
	var b strings.Builder
	for _, x := range xs {
		b.WriteString(strconv.FormatUint(x.v, 36))
		b.WriteByte(',')
	}
	return b.String()
}
