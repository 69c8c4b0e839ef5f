package sharing

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"flag"
	"math"
	"math/big"
	"os"
	"slices"
	"testing"
)

var updateKAT = flag.Bool("update", false, "rewrite testdata/kat.json from the math/big reference")

const katPath = "testdata/kat.json"

// katCase is one known-answer vector: a fixed polynomial, its values at xs,
// and the Lagrange coefficients at 0 for the first t of xs.
type katCase struct {
	Name   string   `json:"name"`
	Coef   []uint64 `json:"coef"` // secret, r_1, …, r_{t−1}
	Xs     []uint64 `json:"xs"`
	Ys     []uint64 `json:"ys"`     // f(xs[i])
	Lambda []uint64 `json:"lambda"` // λ_i for xs[:t], t = len(coef)
}

type katFile struct {
	Q     uint64    `json:"q"`
	Cases []katCase `json:"cases"`
}

// katInputs are the polynomials and x-coordinates of the vectors.
var katInputs = []katCase{
	{Name: "w=4 t=4", Coef: []uint64{1234567890123, 987654321, 0x1fffffffffffff00, 42}, Xs: []uint64{1, 2, 3, 4}},
	{Name: "w=5 t=3", Coef: []uint64{5, 1 << 60, Q - 1}, Xs: []uint64{7, 11, 13, 17, 19}},
	{Name: "large x", Coef: []uint64{Q - 1, Q - 1, Q - 1, Q - 1}, Xs: []uint64{Q - 1, Q - 2, 1 << 60, 1<<40 + 1, 3}},
	{Name: "t=1", Coef: []uint64{777}, Xs: []uint64{9, 8}},
	{Name: "t=2", Coef: []uint64{3, Q - 2}, Xs: []uint64{1 << 59, 5, 6}},
	{Name: "t=6", Coef: []uint64{0, 1, 2, 3, 4, 5}, Xs: []uint64{100, 200, 300, 400, 500, 600, 700}},
}

// bigKAT computes a vector with math/big only.
func bigKAT(in katCase) katCase {
	q := new(big.Int).SetUint64(Q)
	out := in
	out.Ys = nil
	for _, x := range in.Xs {
		acc, bx := new(big.Int), new(big.Int).SetUint64(x)
		for k := len(in.Coef) - 1; k >= 0; k-- {
			acc.Mul(acc, bx).Add(acc, new(big.Int).SetUint64(in.Coef[k])).Mod(acc, q)
		}
		out.Ys = append(out.Ys, acc.Uint64())
	}
	t := len(in.Coef)
	out.Lambda = nil
	for i := 0; i < t; i++ {
		num, den := big.NewInt(1), big.NewInt(1)
		for j := 0; j < t; j++ {
			if j == i {
				continue
			}
			xj := new(big.Int).SetUint64(in.Xs[j])
			num.Mul(num, xj).Mod(num, q)
			den.Mul(den, new(big.Int).Sub(xj, new(big.Int).SetUint64(in.Xs[i]))).Mod(den, q)
		}
		out.Lambda = append(out.Lambda, num.Mul(num, den.ModInverse(den, q)).Mod(num, q).Uint64())
	}
	return out
}

// coefReader serves the words of coef, then zeros, as a Splitter's source.
func coefReader(coef []uint64) *bytes.Reader {
	raw := make([]byte, randBufWords*8)
	for i, c := range coef {
		binary.LittleEndian.PutUint64(raw[8*i:], c)
	}
	return bytes.NewReader(raw)
}

func TestKnownAnswers(t *testing.T) {
	if *updateKAT {
		f := katFile{Q: Q}
		for _, in := range katInputs {
			f.Cases = append(f.Cases, bigKAT(in))
		}
		b, err := json.MarshalIndent(f, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(katPath, append(b, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	b, err := os.ReadFile(katPath)
	if err != nil {
		t.Fatalf("%v (regenerate with go test ./sharing -run KnownAnswers -update)", err)
	}
	var f katFile
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatalf("%s: %v", katPath, err)
	}
	if f.Q != Q || len(f.Cases) == 0 {
		t.Fatalf("%s: q = %d with %d cases", katPath, f.Q, len(f.Cases))
	}
	for _, c := range f.Cases {
		t.Run(c.Name, func(t *testing.T) {
			// The file agrees with math/big …
			ref := bigKAT(katCase{Name: c.Name, Coef: c.Coef, Xs: c.Xs})
			if !slices.Equal(ref.Ys, c.Ys) || !slices.Equal(ref.Lambda, c.Lambda) {
				t.Fatalf("file disagrees with math/big: ys %v lambda %v, want %v %v", c.Ys, c.Lambda, ref.Ys, ref.Lambda)
			}
			// … and so does the package: Split with the polynomial's
			// coefficients as its random words, NewRecoverer, Recover.
			th := len(c.Coef)
			xs := xsOf(c.Xs...)
			sp, err := NewSplitter(xs, th, coefReader(c.Coef[1:]))
			if err != nil {
				t.Fatal(err)
			}
			ys := make([]Element, len(xs))
			if err := sp.Split(Element{c.Coef[0]}, ys); err != nil {
				t.Fatal(err)
			}
			for i := range ys {
				if ys[i].v != c.Ys[i] {
					t.Fatalf("share %d = %d, want %d", i, ys[i].v, c.Ys[i])
				}
			}
			rec, err := NewRecoverer(xs[:th])
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(rec.lambda, c.Lambda) {
				t.Fatalf("λ = %v, want %v", rec.lambda, c.Lambda)
			}
			if s, err := rec.Recover(ys[:th]); err != nil || s.v != c.Coef[0] {
				t.Fatalf("recovered %d (%v), want %d", s.v, err, c.Coef[0])
			}
		})
	}
}

// TestSplitRedrawsQ feeds a word whose low 61 bits equal q before the
// coefficients: it must be skipped (uniform sampling by rejection), giving
// the same shares as the known-answer polynomial, on the fast path (t ≤ 4)
// and the general one.
func TestSplitRedrawsQ(t *testing.T) {
	for _, in := range []katCase{katInputs[0], katInputs[5]} {
		want := bigKAT(in)
		for pos := 0; pos < len(in.Coef)-1; pos++ {
			words := slices.Insert(slices.Clone(in.Coef[1:]), pos, math.MaxUint64)
			sp, err := NewSplitter(xsOf(in.Xs...), len(in.Coef), coefReader(words))
			if err != nil {
				t.Fatal(err)
			}
			ys := make([]Element, len(in.Xs))
			if err := sp.Split(Element{in.Coef[0]}, ys); err != nil {
				t.Fatal(err)
			}
			for i := range ys {
				if ys[i].v != want.Ys[i] {
					t.Fatalf("%s, q at word %d: share %d = %d, want %d", in.Name, pos, i, ys[i].v, want.Ys[i])
				}
			}
		}
	}
}
