package main

import (
	"crypto/rand"
	"errors"
	"io"
	"math/big"
)

// bigZq is the straightforward Shamir scheme over Z_q, q = 2^61 − 1, written
// with math/big the way one would without thinking about speed: uniform
// coefficients from crypto/rand.Int, Horner with Mul and Mod, and Lagrange
// coefficients computed with ModInverse on every recovery. It is the
// baseline that shows what the field arithmetic of package sharing buys.
type bigZq struct {
	q   *big.Int
	rnd io.Reader
}

func newBigZq(rnd io.Reader) *bigZq {
	return &bigZq{q: new(big.Int).SetUint64(1<<61 - 1), rnd: rnd}
}

// split returns f(x_j) for a fresh random f of degree < t with f(0) = secret.
func (z *bigZq) split(secret *big.Int, xs []*big.Int, t int) ([]*big.Int, error) {
	coef := make([]*big.Int, t)
	coef[0] = secret
	for i := 1; i < t; i++ {
		c, err := rand.Int(z.rnd, z.q)
		if err != nil {
			return nil, err
		}
		coef[i] = c
	}
	ys := make([]*big.Int, len(xs))
	for j, x := range xs {
		acc := new(big.Int).Set(coef[t-1])
		for k := t - 2; k >= 0; k-- {
			acc.Mul(acc, x)
			acc.Add(acc, coef[k])
			acc.Mod(acc, z.q)
		}
		ys[j] = acc
	}
	return ys, nil
}

// lagrange returns λ_i = Π_{j≠i} x_j / (x_j − x_i) mod q.
func (z *bigZq) lagrange(xs []*big.Int) ([]*big.Int, error) {
	ls := make([]*big.Int, len(xs))
	d := new(big.Int)
	for i := range xs {
		num, den := big.NewInt(1), big.NewInt(1)
		for j := range xs {
			if j == i {
				continue
			}
			num.Mul(num, xs[j])
			num.Mod(num, z.q)
			d.Sub(xs[j], xs[i])
			den.Mul(den, d)
			den.Mod(den, z.q)
		}
		if den.ModInverse(den, z.q) == nil {
			return nil, errors.New("bench: duplicate x-coordinate")
		}
		ls[i] = num.Mul(num, den).Mod(num, z.q)
	}
	return ls, nil
}

// recover returns f(0) from ys[i] = f(xs[i]), computing λ on every call.
func (z *bigZq) recover(xs, ys []*big.Int) (*big.Int, error) {
	ls, err := z.lagrange(xs)
	if err != nil {
		return nil, err
	}
	return z.combine(ls, ys), nil
}

// combine returns Σ λ_i·y_i mod q for precomputed λ.
func (z *bigZq) combine(ls, ys []*big.Int) *big.Int {
	acc, p := new(big.Int), new(big.Int)
	for i := range ys {
		acc.Add(acc, p.Mul(ls[i], ys[i]))
	}
	return acc.Mod(acc, z.q)
}

// add adds y into acc mod q.
func (z *bigZq) add(acc, y *big.Int) {
	acc.Add(acc, y)
	if acc.Cmp(z.q) >= 0 {
		acc.Sub(acc, z.q)
	}
}
