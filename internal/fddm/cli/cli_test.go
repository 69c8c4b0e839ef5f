package cli

import (
	"context"
	"encoding/csv"
	"math"
	"os"
	"strconv"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"fddm": func() {
			os.Exit(Main(context.Background(), os.Args[1:], &Env{Stdout: os.Stdout, Stderr: os.Stderr}))
		},
	})
}

// TestScripts runs the end-to-end scripts in testdata/script.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:  "testdata/script",
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){"checkeval": checkEval},
	})
}

// checkEval FILE ROWS checks an `fddm eval` CSV: ROWS schemes; the exact
// row changes nothing and links every bill; static rounding and masking
// change readings; suppressing everything leaves re-identification and
// linkage at exactly 1/N; every rate lies in [0, 1].
func checkEval(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: checkeval FILE ROWS")
	}
	f, err := os.Open(ts.MkAbs(args[0]))
	ts.Check(err)
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	ts.Check(err)
	want, _ := strconv.Atoi(args[1])
	if len(recs) != want+1 {
		ts.Fatalf("%d schemes, want %d", len(recs)-1, want)
	}
	col := map[string]int{}
	for i, name := range recs[0] {
		col[name] = i
	}
	val := func(rec []string, name string) float64 {
		i, ok := col[name]
		if !ok {
			ts.Fatalf("no column %s", name)
		}
		v, err := strconv.ParseFloat(rec[i], 64)
		ts.Check(err)
		return v
	}
	for _, rec := range recs[1:] {
		for _, name := range []string{"changed", "occupancy_balanced_accuracy", "reid_top1", "linkage_top1", "unchanged", "household_hourly_error"} {
			if v := val(rec, name); !(v >= 0 && v <= 1) {
				ts.Fatalf("%s: %s = %g, outside [0, 1]", rec[0], name, v)
			}
		}
		if c, u := val(rec, "changed"), val(rec, "unchanged"); math.Abs(c+u-1) > 1e-9 {
			ts.Fatalf("%s: changed %g + unchanged %g ≠ 1", rec[0], c, u)
		}
		chance := val(rec, "reid_chance")
		switch rec[col["kind"]] {
		case "exact":
			if val(rec, "changed") != 0 || val(rec, "household_hourly_error") != 0 || val(rec, "linkage_top1") != 1 {
				ts.Fatalf("exact row %v: should change nothing and link every bill", rec)
			}
		case "static", "dynamic":
			if val(rec, "changed") == 0 {
				ts.Fatalf("%s changed nothing", rec[0])
			}
		case "reference":
			if val(rec, "unchanged") != 0 || math.Abs(val(rec, "reid_top1")-chance) > 1e-12 || math.Abs(val(rec, "linkage_top1")-chance) > 1e-12 {
				ts.Fatalf("suppress-all row %v: nothing unchanged, attacks at chance %g", rec, chance)
			}
		}
	}
}
