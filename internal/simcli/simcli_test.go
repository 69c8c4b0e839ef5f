package simcli

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
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

// issueColumns are the first columns of every `sim loss` CSV, in order.
var issueColumns = []string{"w", "t", "pe", "k", "m", "analytic", "montecarlo", "ci_low", "ci_high"}

// checkLoss FILE ROWS [mc] checks a `sim loss` CSV: ROWS rows, the issue's
// columns first, every analytic value equal to the models', and, in rows
// with Monte Carlo columns (every row with mc), each analytic value inside
// its Monte Carlo interval. Run `sim loss` with a high --confidence (such
// as 0.9999): the intervals are then wide enough that a correct model and
// simulation pass, and narrow enough that a wrong one fails.
func checkLoss(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 || len(args) > 3 || len(args) == 3 && args[2] != "mc" {
		ts.Fatalf("usage: checkloss FILE ROWS [mc]")
	}
	needMC := len(args) == 3
	f, err := os.Open(ts.MkAbs(args[0]))
	ts.Check(err)
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	ts.Check(err)
	want, _ := strconv.Atoi(args[1])
	if len(recs)-1 != want {
		ts.Fatalf("%d rows, want %d", len(recs)-1, want)
	}
	if len(recs[0]) < len(issueColumns) || !slices.Equal(recs[0][:len(issueColumns)], issueColumns) {
		ts.Fatalf("header %v does not start with %v", recs[0], issueColumns)
	}
	col := map[string]int{}
	for i, h := range recs[0] {
		col[h] = i
	}
	for _, r := range recs[1:] {
		has := func(name string) bool {
			i, ok := col[name]
			if !ok {
				ts.Fatalf("no column %s", name)
			}
			return r[i] != ""
		}
		num := func(name string) float64 {
			if !has(name) {
				ts.Fatalf("row %v: column %s empty", r, name)
			}
			v, err := strconv.ParseFloat(r[col[name]], 64)
			if err != nil {
				ts.Fatalf("row %v: column %s: %v", r, name, err)
			}
			return v
		}
		p := sim.PaperModel{W: int(num("w")), T: int(num("t")), K: int(num("k")), M: int64(num("m")), Pe: num("pe"), Rules: int(num("rules"))}
		d := sim.DesignModel{W: p.W, T: p.T, K: p.K, M: p.M, Pb: num("design_pb"), Retries: int(num("design_retries")), Pf: num("design_pf"), Rules: p.Rules}
		for _, c := range []struct {
			name string
			want float64
		}{
			{"analytic", p.Success()}, {"failure", p.Failure()}, {"all_rules", p.AllRules()},
			{"expected_producers", p.ExpectedProducers()},
			{"design_analytic", d.Success()}, {"design_expected_producers", d.ExpectedProducers()},
		} {
			if got := num(c.name); got != c.want {
				ts.Fatalf("row %v: %s %v, model %v", r, c.name, got, c.want)
			}
		}
		// in checks an estimate column, its interval and the analytic value.
		in := func(est, lo, hi string, analytic float64) {
			l, v, h := num(lo), num(est), num(hi)
			if !(0 <= l && l <= v && v <= h && h <= 1) {
				ts.Fatalf("row %v: %s %v outside [%v, %v]", r, est, v, l, h)
			}
			if analytic < l || analytic > h {
				ts.Fatalf("row %v: analytic %v outside the %s interval [%v, %v]", r, analytic, est, l, h)
			}
		}
		// producers checks a Monte Carlo mean of producers reached against
		// the analytic expectation: within 5 standard errors, plus M times
		// the width of the success interval, for runs where the rare
		// events that make up the variance were not seen (SE 0).
		producers := func(mean, se, lo, hi string, want float64) {
			m, e := num(mean), num(se)
			if e < 0 || math.Abs(m-want) > 5*e+float64(p.M)*(num(hi)-num(lo))+1e-9*want {
				ts.Fatalf("row %v: %s %v ± %v, analytic %v", r, mean, m, e, want)
			}
		}
		if needMC || has("montecarlo") {
			in("montecarlo", "ci_low", "ci_high", p.Success())
			in("all_rules_mc", "all_rules_ci_low", "all_rules_ci_high", p.AllRules())
			producers("mc_producers", "mc_producers_se", "ci_low", "ci_high", p.ExpectedProducers())
			// The paper's aggregate is all or nothing: M producers times the
			// success fraction.
			if got, want := num("mc_producers"), float64(p.M)*num("montecarlo"); math.Abs(got-want) > 1e-9*want {
				ts.Fatalf("row %v: mc_producers %v, M × montecarlo %v", r, got, want)
			}
		}
		if needMC || has("design_montecarlo") {
			in("design_montecarlo", "design_ci_low", "design_ci_high", d.Success())
			producers("design_mc_producers", "design_mc_producers_se", "design_ci_low", "design_ci_high", d.ExpectedProducers())
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
