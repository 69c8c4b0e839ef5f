package main

import (
	"bufio"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"math/big"
	mrand "math/rand/v2"
	"testing"

	"github.com/cloudflare/circl/group"
	"github.com/cloudflare/circl/secretsharing"
	"github.com/hashicorp/vault/shamir"

	"github.com/ppnet/ppnet/sharing"
)

// reading is the one 64-bit reading every implementation splits: Wh, well
// inside sharing's encodable range |v| ≤ 2^60 − 1.
const reading = 1_234_567_890_123

// row is one implementation of one operation.
type row struct {
	impl  string
	peer  bool // a peer implementation, as opposed to ours or a reference
	per   int  // units of work per benchmark op (shares summed); 0 means 1
	check func() error
	run   func(b *testing.B)
}

// opGroup is one operation measured across implementations.
type opGroup struct {
	op         string
	unit       string  // what ns is per: "op" or "share"
	maxNs      float64 // target for our best row, 0 for none
	minRatio   float64 // target speed-up over the fastest peer, 0 for none
	targetNote string
	rows       []row
}

func buildGroups() ([]opGroup, error) {
	var gs []opGroup
	for _, cfg := range []struct{ w, t int }{{4, 4}, {5, 3}} {
		sg, err := splitGroup(cfg.w, cfg.t)
		if err != nil {
			return nil, err
		}
		gs = append(gs, sg)
	}
	for _, cfg := range []struct{ w, t int }{{4, 4}, {5, 3}} {
		rg, err := recoverGroup(cfg.w, cfg.t)
		if err != nil {
			return nil, err
		}
		gs = append(gs, rg)
	}
	gs = append(gs, addGroup(), robustGroup())
	return gs, nil
}

// chacha returns a ChaCha8 generator seeded from crypto/rand.
func chacha() *mrand.ChaCha8 {
	var seed [32]byte
	rand.Read(seed[:])
	return mrand.NewChaCha8(seed)
}

func xsOf(w int) []sharing.Element {
	xs := make([]sharing.Element, w)
	for i := range xs {
		xs[i] = sharing.NewElement(uint64(i + 1))
	}
	return xs
}

func bigXs(w int) []*big.Int {
	xs := make([]*big.Int, w)
	for i := range xs {
		xs[i] = big.NewInt(int64(i + 1))
	}
	return xs
}

func splitGroup(w, t int) (opGroup, error) {
	g := opGroup{op: fmt.Sprintf("split w=%d t=%d", w, t), unit: "op"}
	if w == 4 && t == 4 {
		g.maxNs, g.minRatio, g.targetNote = 100, 30, "≤100 ns, ≥30× fastest peer"
	}
	xs := xsOf(w)
	ours := func(name string, src func() interface{ Read([]byte) (int, error) }) (row, error) {
		sp, err := sharing.NewSplitter(xs, t, src())
		if err != nil {
			return row{}, err
		}
		dst := make([]sharing.Element, w)
		return row{
			impl: name,
			check: func() error {
				if err := sp.Split(sharing.NewElement(reading), dst); err != nil {
					return err
				}
				rec, err := sharing.NewRecoverer(xs[:t])
				if err != nil {
					return err
				}
				got, err := rec.Recover(dst[:t])
				return want(got.Uint64(), reading, err)
			},
			run: func(b *testing.B) {
				for b.Loop() {
					e, _ := sharing.FromUint64(reading)
					if err := sp.Split(e, dst); err != nil {
						b.Fatal(err)
					}
				}
			},
		}, nil
	}
	a, err := ours("sharing, crypto/rand (4 KiB buffer)", func() interface{ Read([]byte) (int, error) } { return rand.Reader })
	if err != nil {
		return g, err
	}
	c, err := ours("sharing, ChaCha8 seeded from crypto/rand", func() interface{ Read([]byte) (int, error) } { return chacha() })
	if err != nil {
		return g, err
	}
	g.rows = append(g.rows, a, c, vaultSplit(w, t), circlSplit(w, t), bigSplit(w, t))
	// Not a peer: math/big with our buffering, to separate the cost of the
	// arithmetic from the cost of one getrandom call per coefficient.
	buffered := bigSplit(w, t)
	buffered.impl, buffered.peer = "reference: math/big, buffered crypto/rand (not a peer)", false
	bz := newBigZq(bufio.NewReaderSize(rand.Reader, 4096))
	bxs := bigXs(w)
	buffered.run = func(b *testing.B) {
		for b.Loop() {
			if _, err := bz.split(new(big.Int).SetUint64(reading), bxs, t); err != nil {
				b.Fatal(err)
			}
		}
	}
	g.rows = append(g.rows, buffered)
	return g, nil
}

func vaultSecret() []byte { return binary.BigEndian.AppendUint64(nil, reading) }

func vaultSplit(w, t int) row {
	return row{
		impl: "hashicorp/vault/shamir (GF(2^8) per byte)",
		peer: true,
		check: func() error {
			parts, err := shamir.Split(vaultSecret(), w, t)
			if err != nil {
				return err
			}
			s, err := shamir.Combine(parts[:t])
			if err != nil {
				return err
			}
			return want(binary.BigEndian.Uint64(s), reading, nil)
		},
		run: func(b *testing.B) {
			var buf [8]byte
			for b.Loop() {
				binary.BigEndian.PutUint64(buf[:], reading)
				if _, err := shamir.Split(buf[:], w, t); err != nil {
					b.Fatal(err)
				}
			}
		},
	}
}

func circlSecret() group.Scalar { return group.Ristretto255.NewScalar().SetUint64(reading) }

func circlSplit(w, t int) row {
	return row{
		impl: "cloudflare/circl/secretsharing (Ristretto255)",
		peer: true,
		check: func() error {
			shares := secretsharing.New(rand.Reader, uint(t-1), circlSecret()).Share(uint(w))
			s, err := secretsharing.Recover(uint(t-1), shares[:t])
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
				secretsharing.New(rand.Reader, uint(t-1), circlSecret()).Share(uint(w))
			}
		},
	}
}

func bigSplit(w, t int) row {
	z := newBigZq(rand.Reader)
	xs := bigXs(w)
	return row{
		impl: "math/big over Z_q, crypto/rand.Int",
		peer: true,
		check: func() error {
			ys, err := z.split(new(big.Int).SetUint64(reading), xs, t)
			if err != nil {
				return err
			}
			s, err := z.recover(xs[:t], ys[:t])
			if err != nil {
				return err
			}
			return want(s.Uint64(), reading, nil)
		},
		run: func(b *testing.B) {
			for b.Loop() {
				if _, err := z.split(new(big.Int).SetUint64(reading), xs, t); err != nil {
					b.Fatal(err)
				}
			}
		},
	}
}

func want(got, exp uint64, err error) error {
	if err != nil {
		return err
	}
	if got != exp {
		return fmt.Errorf("recovered %d, want %d", got, exp)
	}
	return nil
}
