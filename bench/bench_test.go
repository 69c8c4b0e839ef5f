package main

import (
	"crypto/rand"
	"math/big"
	"testing"

	"github.com/ppnet/ppnet/sharing"
)

// TestRowsAnswerCorrectly runs every row's check: each implementation in
// the table must split and recover the reading correctly, or its timing
// means nothing.
func TestRowsAnswerCorrectly(t *testing.T) {
	gs, err := buildGroups()
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range gs {
		if len(g.rows) == 0 {
			t.Errorf("%s: no rows", g.op)
		}
		for _, r := range g.rows {
			if err := r.check(); err != nil {
				t.Errorf("%s / %s: %v", g.op, r.impl, err)
			}
		}
	}
}

// TestBigZqMatchesSharing cross-checks the math/big baseline with package
// sharing: shares from one recover with the other.
func TestBigZqMatchesSharing(t *testing.T) {
	z := newBigZq(rand.Reader)
	const w, th = 5, 3
	bxs := bigXs(w)
	xs := xsOf(w)
	rec, err := sharing.NewRecoverer(xs[:th])
	if err != nil {
		t.Fatal(err)
	}
	ls, err := z.lagrange(bxs[:th])
	if err != nil {
		t.Fatal(err)
	}
	sp, err := sharing.NewSplitter(xs, th, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []uint64{0, 1, reading, 1<<61 - 2} {
		bys, err := z.split(new(big.Int).SetUint64(secret), bxs, th)
		if err != nil {
			t.Fatal(err)
		}
		ys := make([]sharing.Element, th)
		for i := range ys {
			ys[i] = sharing.NewElement(bys[i].Uint64())
		}
		if got, err := rec.Recover(ys); err != nil || got.Uint64() != secret {
			t.Fatalf("math/big shares of %d recover to %v (%v) with sharing", secret, got, err)
		}
		ours := make([]sharing.Element, w)
		if err := sp.Split(sharing.NewElement(secret), ours); err != nil {
			t.Fatal(err)
		}
		oys := make([]*big.Int, th)
		for i := range oys {
			oys[i] = new(big.Int).SetUint64(ours[i].Uint64())
		}
		if got := z.combine(ls, oys); got.Uint64() != secret {
			t.Fatalf("sharing shares of %d recover to %v with math/big", secret, got)
		}
		if got, err := z.recover(bxs[:th], oys); err != nil || got.Uint64() != secret {
			t.Fatalf("math/big recover of %d = %v (%v)", secret, got, err)
		}
	}
}
