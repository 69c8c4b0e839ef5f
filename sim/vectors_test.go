package sim

import (
	"bytes"
	"encoding/csv"
	"flag"
	"fmt"
	"math/big"
	"os"
	"strconv"
	"testing"
)

var updateVectors = flag.Bool("update", false, "rewrite testdata/eq13.csv from the math/big reference")

const vectorsFile = "testdata/eq13.csv"

// vectorParams are the parameters of testdata/eq13.csv: the paper's
// setting and this package's documented examples, the extremes of the
// supported range, and the edge cases of the log-space evaluation.
var vectorParams = []struct {
	w, t int
	pe   float64
	k    int
	m    int64
}{
	{4, 4, 1e-6, 96, 1000}, // ExamplePaperModel: a feeder of 1000 meters over a day
	{4, 4, 1e-6, 1, 10},
	{4, 4, 1e-5, 96, 100},
	{4, 4, 1e-4, 1, 1000},
	{4, 4, 1e-4, 96, 10_000_000},
	{4, 3, 1e-4, 96, 10_000},
	{4, 3, 1e-6, 1, 1_000_000},
	{5, 3, 1e-6, 96, 1000},
	{5, 3, 1e-4, 1, 316},
	{5, 3, 1e-2, 1, 10},
	{7, 4, 1e-3, 1, 1000},
	{4, 1, 1e-6, 4, 10_000_000},
	{4, 4, 1e-9, 1, 10_000_000},
	{4, 4, 1e-9, 96, 10_000_000}, // docs/simulation.md: analytic only at the extremes
	{4, 2, 1e-9, 1, 1},           // failure ~ 6e-27: lost if computed as 1 − S
	{4, 4, 0.5, 1, 2000},         // success ~ 1e-2408 underflows float64
	{3, 2, 0, 1, 10},
	{3, 2, 1, 1, 10},
}

var vectorHeader = []string{"w", "t", "pe", "k", "m", "success", "failure"}

// writeVectors renders the vector file from bigPaper.
func writeVectors() []byte {
	var b bytes.Buffer
	b.WriteString("# Known answers of eq. 13 (Rottondi et al. 2012): P_T|M = success and 1 − P_T|M = failure\n")
	b.WriteString("# for w PPNs, threshold t, share loss p_e, k rounds, M producers; a = (1−p_e)^(k·M).\n")
	b.WriteString("# Computed in 256-bit math/big floating point (bigPaper in loss_test.go), 25 digits.\n")
	b.WriteString("# Regenerate: go test ./sim -run TestEq13Vectors -update\n")
	cw := csv.NewWriter(&b)
	cw.Write(vectorHeader)
	for _, v := range vectorParams {
		s, f := bigPaper(v.w, v.t, v.pe, int64(v.k)*v.m)
		cw.Write([]string{strconv.Itoa(v.w), strconv.Itoa(v.t), strconv.FormatFloat(v.pe, 'g', -1, 64),
			strconv.Itoa(v.k), strconv.FormatInt(v.m, 10), s.Text('g', 25), f.Text('g', 25)})
	}
	cw.Flush()
	return b.Bytes()
}

// TestEq13Vectors checks PaperModel against the known answers in
// testdata/eq13.csv, and the file against the math/big reference.
func TestEq13Vectors(t *testing.T) {
	if *updateVectors {
		if err := os.WriteFile(vectorsFile, writeVectors(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	f, err := os.Open(vectorsFile)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.Comment = '#'
	recs, err := r.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) < 2 || fmt.Sprint(recs[0]) != fmt.Sprint(vectorHeader) {
		t.Fatalf("%s: header %v, want %v and rows", vectorsFile, recs[0], vectorHeader)
	}
	for _, rec := range recs[1:] {
		line := fmt.Sprint(rec)
		num := func(i int) float64 {
			v, err := strconv.ParseFloat(rec[i], 64)
			if err != nil {
				t.Fatalf("%s: %s: %v", vectorsFile, line, err)
			}
			return v
		}
		exact := func(i int) *big.Float {
			v, _, err := big.ParseFloat(rec[i], 10, 256, big.ToNearestEven)
			if err != nil {
				t.Fatalf("%s: %s: %v", vectorsFile, line, err)
			}
			return v
		}
		m := PaperModel{W: int(num(0)), T: int(num(1)), Pe: num(2), K: int(num(3)), M: int64(num(4))}
		if err := m.Validate(); err != nil {
			t.Fatalf("%s: %s: %v", vectorsFile, line, err)
		}
		succ, fail := exact(5), exact(6)
		if e := relErr(m.Success(), succ); e > 1e-11 {
			t.Errorf("%+v: success %g, known answer %s (rel. error %g)", m, m.Success(), rec[5], e)
		}
		if e := relErr(m.Failure(), fail); e > 1e-11 {
			t.Errorf("%+v: failure %g, known answer %s (rel. error %g)", m, m.Failure(), rec[6], e)
		}
		// The file is what the reference computes, to its 25 digits
		// (compared in math/big: formatting 1e−166778 takes seconds).
		bs, bf := bigPaper(m.W, m.T, m.Pe, int64(m.K)*m.M)
		for _, c := range []struct{ got, want *big.Float }{{bs, succ}, {bf, fail}} {
			diff := new(big.Float).Sub(c.got, c.want)
			tol := new(big.Float).Mul(c.want, big.NewFloat(1e-24))
			if diff.Abs(diff).Cmp(tol) > 0 {
				t.Errorf("%+v: reference gives %.25g, %s has %.25g; regenerate with -update", m, c.got, vectorsFile, c.want)
			}
		}
	}
}
