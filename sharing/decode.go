package sharing

// Berlekamp–Welch decoding of Reed–Solomon codes over Z_q. A set of w
// shares of a polynomial P of degree < t is a Reed–Solomon codeword; with at
// most e wrong shares, w ≥ t+2e, there are polynomials E (monic, degree e,
// vanishing where shares are wrong) and Q = P·E (degree < t+e) with
//
//	Q(x_i) = y_i · E(x_i)  for every i,
//
// a linear system in the t+2e unknown coefficients of Q and E. Any solution
// gives Q/E = P: for two solutions, Q₁E₂ − Q₂E₁ has degree < t+2e ≤ w and
// vanishes at all w points, so it is zero. Solving is exact Gaussian
// elimination mod q.

// berlekampWelch returns the coefficients (lowest first, length t) of the
// polynomial of degree < t that agrees with the points (xs[i], ys[i]) in all
// but at most e places, or ok = false if the system has no such solution.
// It needs len(xs) ≥ t+2e and distinct xs.
func berlekampWelch(xs, ys []Element, t, e int) (p []uint64, ok bool) {
	w := len(xs)
	nq := t + e   // coefficients of Q: Q_0 … Q_{t+e−1}
	n := nq + e   // unknowns: Q's, then E_0 … E_{e−1} (E_e = 1)
	cols := n + 1 // augmented with the right-hand side
	m := make([]uint64, w*cols)
	for i := 0; i < w; i++ {
		row := m[i*cols : (i+1)*cols]
		x, y := xs[i].v, ys[i].v
		pw := uint64(1) // x^k
		for k := 0; k < nq; k++ {
			row[k] = pw
			if k < e {
				row[nq+k] = negmod(mulmod(y, pw)) // −y·x^k · E_k
			}
			if k == e {
				row[n] = mulmod(y, pw) // y·x^e, from E's monic top term
			}
			pw = mulmod(pw, x)
		}
	}
	sol, ok := solve(m, w, n)
	if !ok {
		return nil, false
	}
	den := make([]uint64, e+1)
	copy(den, sol[nq:])
	den[e] = 1
	quo, ok := polyDivExact(sol[:nq], den)
	if !ok {
		return nil, false
	}
	return quo, true
}

// solve reduces the rows×(n+1) augmented matrix m (row-major) in place and
// returns one solution of the system, free variables set to zero, or
// ok = false if the system is inconsistent.
func solve(m []uint64, rows, n int) ([]uint64, bool) {
	cols := n + 1
	pivots := make([]int, 0, n)
	r := 0
	for c := 0; c < n && r < rows; c++ {
		p := -1
		for i := r; i < rows; i++ {
			if m[i*cols+c] != 0 {
				p = i
				break
			}
		}
		if p < 0 {
			continue
		}
		pr, rr := m[p*cols:(p+1)*cols], m[r*cols:(r+1)*cols]
		for k := range rr {
			pr[k], rr[k] = rr[k], pr[k]
		}
		inv := Element{rr[c]}.Exp(Q - 2).v // rr[c] ≠ 0
		for k := c; k < cols; k++ {
			rr[k] = mulmod(rr[k], inv)
		}
		for i := 0; i < rows; i++ {
			row := m[i*cols : (i+1)*cols]
			f := row[c]
			if i == r || f == 0 {
				continue
			}
			for k := c; k < cols; k++ {
				row[k] = submod(row[k], mulmod(f, rr[k]))
			}
		}
		pivots = append(pivots, c)
		r++
	}
	for i := r; i < rows; i++ {
		if m[i*cols+n] != 0 {
			return nil, false // 0 = nonzero
		}
	}
	sol := make([]uint64, n)
	for k, c := range pivots {
		sol[c] = m[k*cols+n]
	}
	return sol, true
}

// polyDivExact divides num by the monic polynomial den (coefficients lowest
// first) and returns the quotient, or ok = false if the remainder is not zero.
func polyDivExact(num, den []uint64) ([]uint64, bool) {
	d := len(den) - 1
	rem := append([]uint64(nil), num...)
	quo := make([]uint64, len(num)-d)
	for k := len(quo) - 1; k >= 0; k-- {
		c := rem[k+d]
		quo[k] = c
		if c == 0 {
			continue
		}
		for j := 0; j <= d; j++ {
			rem[k+j] = submod(rem[k+j], mulmod(c, den[j]))
		}
	}
	for _, v := range rem[:d] {
		if v != 0 {
			return nil, false
		}
	}
	return quo, true
}

// polyEval returns p(x) for coefficients p, lowest first.
func polyEval(p []uint64, x uint64) uint64 {
	var acc uint64
	for k := len(p) - 1; k >= 0; k-- {
		acc = addmod(mulmod(acc, x), p[k])
	}
	return acc
}

// dot returns Σ a[i]·b[i] mod q; len(b) ≥ len(a). Products are folded
// but not reduced (each < 2^62, see fold), so four of them, or a canonical
// sum plus three, add without wrapping: one reduction per four terms.
func dot(a []uint64, b []Element) uint64 {
	b = b[:len(a)]
	switch len(a) { // straight-line code for the common thresholds
	case 3:
		return reduce64(fold(a[0], b[0].v) + fold(a[1], b[1].v) + fold(a[2], b[2].v))
	case 4:
		return reduce64(fold(a[0], b[0].v) + fold(a[1], b[1].v) + fold(a[2], b[2].v) + fold(a[3], b[3].v))
	}
	var acc uint64
	i := 0
	for ; i+4 <= len(a); i += 4 {
		s := fold(a[i], b[i].v) + fold(a[i+1], b[i+1].v) + fold(a[i+2], b[i+2].v) + fold(a[i+3], b[i+3].v)
		acc = addmod(acc, reduce64(s))
	}
	for ; i < len(a); i++ {
		acc += fold(a[i], b[i].v)
	}
	return reduce64(acc)
}

func submod(a, b uint64) uint64 {
	if a >= b {
		return a - b
	}
	return a + Q - b
}

func negmod(a uint64) uint64 {
	if a == 0 {
		return 0
	}
	return Q - a
}
