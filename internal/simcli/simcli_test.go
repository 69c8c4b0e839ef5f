package simcli

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/ppnet/ppnet/sim"
	"github.com/ppnet/ppnet/sim/meterdata"
)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"sim": func() {
			os.Exit(Main(context.Background(), os.Args[1:], &Env{Stdout: os.Stdout, Stderr: os.Stderr}))
		},
	})
}

// TestScripts runs the end-to-end scripts in testdata/script.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir: "testdata/script",
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"checkloss":  checkLoss,
			"checkmeter": checkMeterData,
		},
	})
}

// checkLoss FILE ROWS checks a `sim loss` CSV: ROWS rows, every analytic
// value equal to the model's, estimates inside their intervals.
func checkLoss(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: checkloss FILE ROWS")
	}
	f, err := os.Open(ts.MkAbs(args[0]))
	ts.Check(err)
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	ts.Check(err)
	want, _ := strconv.Atoi(args[1])
	if len(recs)-1 != want {
		ts.Fatalf("%d rows, want %d", len(recs)-1, want)
	}
	col := map[string]int{}
	for i, h := range recs[0] {
		col[h] = i
	}
	for _, r := range recs[1:] {
		num := func(name string) float64 {
			v, err := strconv.ParseFloat(r[col[name]], 64)
			if err != nil {
				ts.Fatalf("column %s: %v", name, err)
			}
			return v
		}
		m := sim.PaperModel{W: int(num("w")), T: int(num("t")), K: int(num("k")), M: int64(num("m")), Pe: num("pe")}
		if got, want := num("analytic"), m.Success(); math.Abs(got-want) > 1e-15 {
			ts.Fatalf("row %v: analytic %v, model %v", r, got, want)
		}
		for _, p := range []string{"montecarlo", "design_montecarlo"} {
			lo, hi, v := num(p[:len(p)-len("montecarlo")]+"ci_low"), num(p[:len(p)-len("montecarlo")]+"ci_high"), num(p)
			if !(0 <= lo && lo <= v && v <= hi && hi <= 1) {
				ts.Fatalf("row %v: %s %v outside [%v, %v]", r, p, v, lo, hi)
			}
		}
	}
}

// checkMeterData FILE ROWS reads a meter CSV with ground truth and checks
// the number of rows.
func checkMeterData(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: checkmeter FILE ROWS")
	}
	f, err := os.Open(ts.MkAbs(args[0]))
	ts.Check(err)
	defer f.Close()
	r, err := meterdata.NewReader(f)
	ts.Check(err)
	if !r.HasTruth() {
		ts.Fatalf("no ground-truth columns")
	}
	n := 0
	for {
		_, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		ts.Check(err)
		n++
	}
	if fmt.Sprint(n) != args[1] {
		ts.Fatalf("%d rows, want %s", n, args[1])
	}
}

func TestParseRanges(t *testing.T) {
	tests := []struct {
		in   string
		want []float64
		err  string
	}{
		{"1e-4,1e-3,1e-2", []float64{1e-4, 1e-3, 1e-2}, ""},
		{"10:1000:log1", []float64{10, 100, 1000}, ""},
		{"10:100:log2", []float64{10, 10 * math.Sqrt(10), 100}, ""},
		{"1:2:0.5,1", []float64{1, 1.5, 2}, ""},
		{"1:20:log1", []float64{1, 10, 20}, ""},
		{"5", []float64{5}, ""},
		{"10:1:log", nil, "below start"},
		{"0:10:log", nil, "start > 0"},
		{"1:2:0", nil, "positive number"},
		{"1:1e9:1", nil, "at most 10000"},
		{"a", nil, "not a finite number"},
		{"1,,2", nil, "empty item"},
		{"1:2", nil, "start:stop:step"},
		{"1:10:logx", nil, "logN"},
		{"-1.7e308:1.7e308:1e300", nil, "at most 10000"},
		{"1e-320:1e308:log", nil, "at most 10000"},
	}
	for _, tc := range tests {
		got, err := parseFloats("x", tc.in)
		if tc.err != "" {
			if err == nil || !contains(err.Error(), tc.err) {
				t.Errorf("%q: error %v, want %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || len(got) != len(tc.want) {
			t.Errorf("%q: %v, %v; want %v", tc.in, got, err, tc.want)
			continue
		}
		for i := range got {
			if math.Abs(got[i]-tc.want[i]) > 1e-9*tc.want[i] {
				t.Errorf("%q: %v, want %v", tc.in, got, tc.want)
			}
		}
	}
}

func contains(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}

// FuzzParseFloats: flag values are outside input; the parser must not panic
// and what it accepts is sorted, finite and bounded in length.
func FuzzParseFloats(f *testing.F) {
	for _, s := range []string{"1e-4,1e-3,1e-2", "10:1e7:log", "10:1e7:log2", "1:10:1", "0.1:0.5:0.1,1", "-1.7e308:1.7e308:1e305"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		vs, err := parseFloats("x", s)
		if err != nil {
			return
		}
		if len(vs) == 0 || len(vs) > maxPoints*(1+len(s)) {
			t.Fatalf("%q gave %d values", s, len(vs))
		}
		for i, v := range vs {
			if math.IsNaN(v) || math.IsInf(v, 0) || i > 0 && v <= vs[i-1] {
				t.Fatalf("%q gave %v", s, vs)
			}
		}
	})
}
