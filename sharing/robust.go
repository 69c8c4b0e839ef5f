package sharing

import (
	"encoding/binary"
	"fmt"
)

// MaxRobustShares is the most shares RobustRecover and RobustRecoverVec
// accept: Berlekamp–Welch decoding costs O(w^3), and w comes from the
// network, so it is bounded rather than trusted.
const MaxRobustShares = 256

// RobustResult is the outcome of [Combiner.RobustRecover].
type RobustResult struct {
	// Secret is f(0) for the polynomial f of degree < t that the honest
	// shares lie on.
	Secret Element
	// Faulty lists, in input order, the x-coordinates whose shares were off
	// that polynomial and were corrected for; nil when all shares agree.
	Faulty []Element
	// Checked reports whether the shares were checked at all: true when
	// w > t. With w = t every set of shares fits some polynomial, so a wrong
	// share goes unnoticed and Secret is simply the interpolation.
	Checked bool
}

// RobustVecResult is the outcome of [Combiner.RobustRecoverVec].
type RobustVecResult struct {
	// Secret holds the recovered vector, one element per component.
	Secret []Element
	// Faulty lists, in input order, the x-coordinates whose share vectors
	// were wrong in at least one component; nil when all agree.
	Faulty []Element
	// Checked reports whether there was redundancy to check (w > t).
	Checked bool
}

// InconsistentError reports w shares that do not lie on one polynomial of
// degree < t and that could not be corrected: more than MaxCorrectable of
// them are wrong. It wraps [ErrInconsistent].
type InconsistentError struct {
	Shares         int // w, the number of shares given
	Threshold      int // t
	MaxCorrectable int // ⌊(w−t)/2⌋, the most wrong shares w shares can correct
	Component      int // first failing component of a vector; −1 for a scalar
}

// Error says how many shares disagree and how many more would correct them.
func (e *InconsistentError) Error() string {
	where := ""
	if e.Component >= 0 {
		where = fmt.Sprintf(" in component %d", e.Component)
	}
	return fmt.Sprintf("sharing: %d shares with t = %d do not lie on one polynomial of degree < %d%s "+
		"and cannot be corrected (at most %d wrong shares are correctable with %d); "+
		"collect shares from more nodes: correcting e wrong shares needs w ≥ t+2e",
		e.Shares, e.Threshold, e.Threshold, where, e.MaxCorrectable, e.Shares)
}

// Unwrap returns ErrInconsistent, so errors.Is(err, ErrInconsistent) holds.
func (e *InconsistentError) Unwrap() error { return ErrInconsistent }

// RobustRecover recovers the secret from w ≥ t shares and checks them.
// When w ≥ t+1 it detects shares that do not lie on one polynomial of
// degree < t; when w ≥ t+2e it corrects up to e = ⌊(w−t)/2⌋ wrong shares by
// Berlekamp–Welch decoding and names them in Faulty. When shares disagree and
// cannot be corrected it returns an *InconsistentError.
//
// With more than e wrong shares the guarantee is gone: a coalition that
// controls them can make the shares decode to another polynomial.
func (c *Combiner) RobustRecover(shares []Share, t int) (RobustResult, error) {
	if len(shares) > MaxRobustShares { // before copying them
		return RobustResult{}, tooManyShares(len(shares))
	}
	var xbuf, ybuf [16]Element
	xs, ys := xbuf[:0], ybuf[:0]
	for _, s := range shares {
		xs = append(xs, s.X)
		ys = append(ys, s.Y)
	}
	ck, err := c.checker(xs, t)
	if err != nil {
		return RobustResult{}, err
	}
	res := RobustResult{Checked: len(xs) > t}
	if ck.agrees(ys) {
		res.Secret, err = ck.rec.Recover(ys[:t])
		return res, err
	}
	bad, p, err := ck.correct(ys, -1)
	if err != nil {
		return RobustResult{}, err
	}
	res.Secret = Element{p[0]}
	for i, b := range bad {
		if b {
			res.Faulty = append(res.Faulty, xs[i])
		}
	}
	return res, nil
}

// RobustRecoverVec recovers a vector secret from the share vectors ys[i]
// held at xs[i], checking them as RobustRecover does. A node's share vector
// counts as wrong as a whole if any of its components is wrong, so up to
// e = ⌊(w−t)/2⌋ wrong nodes are corrected whatever components they spoil.
// All ys[i] must have the same length.
func (c *Combiner) RobustRecoverVec(xs []Element, ys [][]Element, t int) (RobustVecResult, error) {
	if len(ys) != len(xs) {
		return RobustVecResult{}, fmt.Errorf("%w: %d share vectors for %d x-coordinates", ErrLength, len(ys), len(xs))
	}
	ck, err := c.checker(xs, t)
	if err != nil {
		return RobustVecResult{}, err
	}
	m := 0
	if len(ys) > 0 {
		m = len(ys[0])
	}
	for i := range ys {
		if len(ys[i]) != m {
			return RobustVecResult{}, fmt.Errorf("%w: share vector %d has %d components, want %d", ErrLength, i, len(ys[i]), m)
		}
	}
	w := len(xs)
	bad := make([]bool, w)
	col := make([]Element, w)
	for k := 0; k < m; k++ {
		for i := range ys {
			col[i] = ys[i][k]
		}
		if ck.agrees(col) {
			continue
		}
		b, _, err := ck.correct(col, k)
		if err != nil {
			return RobustVecResult{}, err
		}
		for i := range b {
			bad[i] = bad[i] || b[i]
		}
	}
	res := RobustVecResult{Secret: make([]Element, m), Checked: w > t}
	good := make([]int, 0, w)
	for i := range bad {
		if bad[i] {
			res.Faulty = append(res.Faulty, xs[i])
		} else {
			good = append(good, i)
		}
	}
	if len(res.Faulty) > ck.e {
		// Each component was correctable on its own, but together they
		// blame more nodes than w shares can correct.
		return RobustVecResult{}, &InconsistentError{Shares: w, Threshold: t, MaxCorrectable: ck.e, Component: -1}
	}
	// Every component agrees on the nodes not blamed, so any t of them
	// interpolate the right vector.
	gx := make([]Element, t)
	gy := make([][]Element, t)
	for j, i := range good[:t] {
		gx[j], gy[j] = xs[i], ys[i]
	}
	r, err := c.Recoverer(gx)
	if err != nil {
		return RobustVecResult{}, err
	}
	return res, r.RecoverVec(res.Secret, gy)
}

func tooManyShares(n int) error {
	return fmt.Errorf("%w: %d shares for robust recovery, at most %d; pass shares from fewer nodes", ErrTooManyShares, n, MaxRobustShares)
}

// checker holds what checking shares at one ordered set of x-coordinates
// needs: the Lagrange basis of the first t points evaluated at the others.
type checker struct {
	xs  []Element
	t   int
	e   int        // ⌊(w−t)/2⌋
	rec *Recoverer // interpolation at 0 from xs[:t]
	ext [][]uint64 // ext[j][i] = ℓ_i(xs[t+j]), ℓ_i the Lagrange basis of xs[:t]
}

func newChecker(xs []Element, t int) (*checker, error) {
	if len(xs) > MaxRobustShares {
		return nil, tooManyShares(len(xs))
	}
	if err := checkXs(xs); err != nil {
		return nil, err
	}
	if t < 1 {
		return nil, fmt.Errorf("%w: t = %d; need t ≥ 1", ErrThreshold, t)
	}
	if len(xs) < t {
		return nil, fmt.Errorf("%w: have %d, need t = %d", ErrTooFewShares, len(xs), t)
	}
	rec, err := NewRecoverer(xs[:t])
	if err != nil {
		return nil, err
	}
	ck := &checker{xs: append([]Element(nil), xs...), t: t, e: (len(xs) - t) / 2, rec: rec}
	// Barycentric weights: ℓ_i(z) = inv_i · Π_{k≠i} (z − x_k),
	// inv_i = 1 / Π_{k≠i} (x_i − x_k).
	inv := make([]Element, t)
	for i := 0; i < t; i++ {
		d := Element{1}
		for k := 0; k < t; k++ {
			if k != i {
				d = d.Mul(xs[i].Sub(xs[k]))
			}
		}
		inv[i] = d
	}
	if err := BatchInverse(inv, inv); err != nil {
		return nil, err // unreachable: xs are distinct
	}
	for _, z := range xs[t:] {
		row := make([]uint64, t)
		for i := 0; i < t; i++ {
			l := inv[i]
			for k := 0; k < t; k++ {
				if k != i {
					l = l.Mul(z.Sub(xs[k]))
				}
			}
			row[i] = l.v
		}
		ck.ext = append(ck.ext, row)
	}
	return ck, nil
}

// agrees reports whether ys[t:] lie on the polynomial through ys[:t].
func (ck *checker) agrees(ys []Element) bool {
	base := ys[:ck.t]
	for j, row := range ck.ext {
		if dot(row, base) != ys[ck.t+j].v {
			return false
		}
	}
	return true
}

// correct decodes shares that do not all agree. It returns which shares are
// wrong and the coefficients of the polynomial of degree < t through the
// others, or an *InconsistentError naming component (−1 for scalars).
func (ck *checker) correct(ys []Element, component int) ([]bool, []uint64, error) {
	fail := &InconsistentError{Shares: len(ys), Threshold: ck.t, MaxCorrectable: ck.e, Component: component}
	if ck.e == 0 {
		return nil, nil, fail
	}
	p, ok := berlekampWelch(ck.xs, ys, ck.t, ck.e)
	if !ok {
		return nil, nil, fail
	}
	bad := make([]bool, len(ys))
	n := 0
	for i, x := range ck.xs {
		if polyEval(p, x.v) != ys[i].v {
			bad[i] = true
			n++
		}
	}
	if n > ck.e {
		return nil, nil, fail
	}
	return bad, p, nil
}

// checker returns the cached checker for (xs, t), building it on first use.
func (c *Combiner) checker(xs []Element, t int) (*checker, error) {
	var kb [8 * 17]byte
	key := binary.LittleEndian.AppendUint64(kb[:0], uint64(t))
	key = appendXsKey(key, xs)
	c.mu.RLock()
	ck := c.checkers[string(key)]
	c.mu.RUnlock()
	if ck != nil {
		return ck, nil
	}
	ck, err := newChecker(xs, t)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if c.checkers == nil {
		c.checkers = make(map[string]*checker)
	}
	c.checkers[string(key)] = ck
	c.mu.Unlock()
	return ck, nil
}
