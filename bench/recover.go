package main

import (
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"math/big"
	"testing"

	"github.com/cloudflare/circl/group"
	"github.com/cloudflare/circl/secretsharing"
	"github.com/hashicorp/vault/shamir"

	"github.com/ppnet/ppnet/sharing"
)

// recoverGroup recovers the reading from t of w shares.
func recoverGroup(w, t int) (opGroup, error) {
	g := opGroup{op: fmt.Sprintf("recover t=%d of w=%d", t, w), unit: "op",
		maxNs: 20, minRatio: 300, targetNote: "≤20 ns, ≥300× fastest peer"}
	xs := xsOf(w)
	sp, err := sharing.NewSplitter(xs, t, rand.Reader)
	if err != nil {
		return g, err
	}
	ys := make([]sharing.Element, w)
	if err := sp.Split(sharing.NewElement(reading), ys); err != nil {
		return g, err
	}
	rec, err := sharing.NewRecoverer(xs[:t])
	if err != nil {
		return g, err
	}
	shares := make([]sharing.Share, t)
	for i := range shares {
		shares[i] = sharing.Share{X: xs[i], Y: ys[i]}
	}
	var comb sharing.Combiner
	uncached := func() (sharing.Element, error) {
		r, err := sharing.NewRecoverer(xs[:t])
		if err != nil {
			return sharing.Element{}, err
		}
		return r.Recover(ys[:t])
	}
	g.rows = append(g.rows,
		row{impl: "sharing Recoverer (cached λ)",
			check: func() error { s, err := rec.Recover(ys[:t]); return want(s.Uint64(), reading, err) },
			run: func(b *testing.B) {
				for b.Loop() {
					if _, err := rec.Recover(ys[:t]); err != nil {
						b.Fatal(err)
					}
				}
			}},
		row{impl: "sharing Combiner.Recover (cache lookup)",
			check: func() error { s, err := comb.Recover(shares, t); return want(s.Uint64(), reading, err) },
			run: func(b *testing.B) {
				for b.Loop() {
					if _, err := comb.Recover(shares, t); err != nil {
						b.Fatal(err)
					}
				}
			}},
		row{impl: "sharing, λ computed per call",
			check: func() error { s, err := uncached(); return want(s.Uint64(), reading, err) },
			run: func(b *testing.B) {
				for b.Loop() {
					if _, err := uncached(); err != nil {
						b.Fatal(err)
					}
				}
			}},
	)

	parts, err := shamir.Split(vaultSecret(), w, t)
	if err != nil {
		return g, err
	}
	g.rows = append(g.rows, row{
		impl: "hashicorp/vault/shamir Combine", peer: true,
		check: func() error {
			s, err := shamir.Combine(parts[:t])
			if err != nil {
				return err
			}
			return want(binary.BigEndian.Uint64(s), reading, nil)
		},
		run: func(b *testing.B) {
			for b.Loop() {
				if _, err := shamir.Combine(parts[:t]); err != nil {
					b.Fatal(err)
				}
			}
		},
	})

	cshares := secretsharing.New(rand.Reader, uint(t-1), circlSecret()).Share(uint(w))
	g.rows = append(g.rows, row{
		impl: "cloudflare/circl/secretsharing Recover", peer: true,
		check: func() error {
			s, err := secretsharing.Recover(uint(t-1), cshares[:t])
			if err != nil {
				return err
			}
			if !s.IsEqual(circlSecret()) {
				return fmt.Errorf("circl recovered the wrong secret")
			}
			return nil
		},
		run: func(b *testing.B) {
			for b.Loop() {
				if _, err := secretsharing.Recover(uint(t-1), cshares[:t]); err != nil {
					b.Fatal(err)
				}
			}
		},
	})

	z := newBigZq(rand.Reader)
	bxs := bigXs(w)
	bys, err := z.split(new(big.Int).SetUint64(reading), bxs, t)
	if err != nil {
		return g, err
	}
	g.rows = append(g.rows, row{
		impl: "math/big over Z_q, λ per call (ModInverse)", peer: true,
		check: func() error {
			s, err := z.recover(bxs[:t], bys[:t])
			if err != nil {
				return err
			}
			return want(s.Uint64(), reading, nil)
		},
		run: func(b *testing.B) {
			for b.Loop() {
				if _, err := z.recover(bxs[:t], bys[:t]); err != nil {
					b.Fatal(err)
				}
			}
		},
	})
	ls, err := z.lagrange(bxs[:t])
	if err != nil {
		return g, err
	}
	// Not a peer: no peer library caches λ, but it is the fair comparison
	// for the cached rows, so it is shown (and not used for the ratio).
	g.rows = append(g.rows, row{
		impl: "reference: math/big, λ cached (not a peer)",
		check: func() error {
			return want(z.combine(ls, bys[:t]).Uint64(), reading, nil)
		},
		run: func(b *testing.B) {
			for b.Loop() {
				z.combine(ls, bys[:t])
			}
		},
	})
	return g, nil
}

// addGroup sums many shares held at one node, as a PPN does every round.
func addGroup() opGroup {
	g := opGroup{op: "add, per share summed", unit: "share", maxNs: 2, targetNote: "≤2 ns/share"}
	const n, nPeer = 1 << 16, 1 << 12
	es := make([]sharing.Element, n)
	var seed [8]byte
	for i := range es {
		rand.Read(seed[:])
		es[i] = sharing.NewElement(binary.LittleEndian.Uint64(seed[:]))
	}
	ref := sharing.Element{}
	for _, e := range es {
		ref = ref.Add(e)
	}
	acc := make([]sharing.Element, n)
	g.rows = append(g.rows,
		row{impl: "sharing AddVec (accumulate a vector)", per: n,
			check: func() error {
				dst := make([]sharing.Element, n)
				if err := sharing.AddVec(dst, es); err != nil {
					return err
				}
				return want(sharing.Sum(dst).Uint64(), ref.Uint64(), nil)
			},
			run: func(b *testing.B) {
				for b.Loop() {
					if err := sharing.AddVec(acc, es); err != nil {
						b.Fatal(err)
					}
				}
			}},
		row{impl: "sharing Sum (fold a slice)", per: n,
			check: func() error { return want(sharing.Sum(es).Uint64(), ref.Uint64(), nil) },
			run: func(b *testing.B) {
				for b.Loop() {
					sharing.Sum(es)
				}
			}},
	)

	z := newBigZq(rand.Reader)
	bs := make([]*big.Int, nPeer)
	var bref sharing.Element
	for i := range bs {
		bs[i] = new(big.Int).SetUint64(es[i].Uint64())
		bref = bref.Add(es[i])
	}
	g.rows = append(g.rows, row{impl: "math/big over Z_q", peer: true, per: nPeer,
		check: func() error {
			acc := new(big.Int)
			for _, y := range bs {
				z.add(acc, y)
			}
			return want(acc.Uint64(), bref.Uint64(), nil)
		},
		run: func(b *testing.B) {
			acc := new(big.Int)
			for b.Loop() {
				for _, y := range bs {
					z.add(acc, y)
				}
			}
		}})

	cs := make([]group.Scalar, nPeer)
	for i := range cs {
		cs[i] = group.Ristretto255.NewScalar().SetUint64(es[i].Uint64())
	}
	g.rows = append(g.rows, row{impl: "cloudflare/circl Ristretto255 Scalar.Add", peer: true, per: nPeer,
		check: func() error {
			acc := group.Ristretto255.NewScalar()
			for _, s := range cs {
				acc.Add(acc, s)
			}
			// The sum of nPeer values < 2^61 is below the group order.
			var sum big.Int
			for _, s := range bs {
				sum.Add(&sum, s)
			}
			if !acc.IsEqual(group.Ristretto255.NewScalar().SetBigInt(&sum)) {
				return fmt.Errorf("circl sum differs")
			}
			return nil
		},
		run: func(b *testing.B) {
			acc := group.Ristretto255.NewScalar()
			for b.Loop() {
				for _, s := range cs {
					acc.Add(acc, s)
				}
			}
		}})
	return g
}

// robustGroup is RobustRecover with w = 6, t = 4: one wrong share, found
// and corrected, against the same shares all correct and a plain recover.
func robustGroup() opGroup {
	g := opGroup{op: "robust recover w=6 t=4", unit: "op", targetNote: "report cost; no peer offers it"}
	xs := xsOf(6)
	sp, _ := sharing.NewSplitter(xs, 4, rand.Reader)
	ys := make([]sharing.Element, 6)
	_ = sp.Split(sharing.NewElement(reading), ys)
	good := make([]sharing.Share, 6)
	for i := range good {
		good[i] = sharing.Share{X: xs[i], Y: ys[i]}
	}
	bad := append([]sharing.Share(nil), good...)
	bad[2].Y = bad[2].Y.Add(sharing.NewElement(1))
	var c sharing.Combiner
	mk := func(name string, shares []sharing.Share, faulty int) row {
		return row{impl: name,
			check: func() error {
				res, err := c.RobustRecover(shares, 4)
				if err != nil {
					return err
				}
				if len(res.Faulty) != faulty || (faulty == 1 && res.Faulty[0] != xs[2]) {
					return fmt.Errorf("faulty %v", res.Faulty)
				}
				return want(res.Secret.Uint64(), reading, nil)
			},
			run: func(b *testing.B) {
				for b.Loop() {
					if _, err := c.RobustRecover(shares, 4); err != nil {
						b.Fatal(err)
					}
				}
			}}
	}
	g.rows = append(g.rows,
		mk("sharing RobustRecover, one wrong share (corrected)", bad, 1),
		mk("sharing RobustRecover, all shares correct (checked)", good, 0),
	)
	return g
}
