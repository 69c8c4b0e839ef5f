package simcli

import (
	"encoding/csv"
	"fmt"
	"strconv"
)

// lossColumn is one column of the `sim loss` CSV; value returns "" when
// the row has no such value (a Monte Carlo not run).
type lossColumn struct {
	name  string
	value func(r *lossRow) string
}

func fmtFloat(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
func fmtInt(v int64) string     { return strconv.FormatInt(v, 10) }

// paperMC and designMC give a column of a Monte Carlo result, or "".
func paperMC(f func(r *lossRow) float64) func(r *lossRow) string {
	return func(r *lossRow) string {
		if r.pmc == nil {
			return ""
		}
		return fmtFloat(f(r))
	}
}

func designMC(f func(r *lossRow) float64) func(r *lossRow) string {
	return func(r *lossRow) string {
		if r.dmc == nil {
			return ""
		}
		return fmtFloat(f(r))
	}
}

// lossColumns are the CSV columns of `sim loss`, in order: the issue's
// w,t,pe,k,m,analytic,montecarlo,ci_low,ci_high first, then the rest of
// the paper's model, then this design's.
var lossColumns = []lossColumn{
	{"w", func(r *lossRow) string { return fmtInt(int64(r.paper.W)) }},
	{"t", func(r *lossRow) string { return fmtInt(int64(r.paper.T)) }},
	{"pe", func(r *lossRow) string { return fmtFloat(r.paper.Pe) }},
	{"k", func(r *lossRow) string { return fmtInt(int64(r.paper.K)) }},
	{"m", func(r *lossRow) string { return fmtInt(r.paper.M) }},
	{"analytic", func(r *lossRow) string { return fmtFloat(r.paper.Success()) }},
	{"montecarlo", paperMC(func(r *lossRow) float64 { return r.pmc.Success.P })},
	{"ci_low", paperMC(func(r *lossRow) float64 { return r.pmc.Success.Low })},
	{"ci_high", paperMC(func(r *lossRow) float64 { return r.pmc.Success.High })},
	{"rules", func(r *lossRow) string { return fmtInt(int64(max(r.paper.Rules, 1))) }},
	{"failure", func(r *lossRow) string { return fmtFloat(r.paper.Failure()) }},
	{"all_rules", func(r *lossRow) string { return fmtFloat(r.paper.AllRules()) }},
	{"all_rules_mc", paperMC(func(r *lossRow) float64 { return r.pmc.AllRules.P })},
	{"all_rules_ci_low", paperMC(func(r *lossRow) float64 { return r.pmc.AllRules.Low })},
	{"all_rules_ci_high", paperMC(func(r *lossRow) float64 { return r.pmc.AllRules.High })},
	{"expected_producers", func(r *lossRow) string { return fmtFloat(r.paper.ExpectedProducers()) }},
	{"mc_producers", paperMC(func(r *lossRow) float64 { return r.pmc.MeanProducers })},
	{"mc_producers_se", paperMC(func(r *lossRow) float64 { return r.pmc.MeanProducersSE })},
	{"design_pb", func(r *lossRow) string { return fmtFloat(r.design.Pb) }},
	{"design_retries", func(r *lossRow) string { return fmtInt(int64(r.design.Retries)) }},
	{"design_pf", func(r *lossRow) string { return fmtFloat(r.design.Pf) }},
	{"design_analytic", func(r *lossRow) string { return fmtFloat(r.design.Success()) }},
	{"design_montecarlo", designMC(func(r *lossRow) float64 { return r.dmc.Success.P })},
	{"design_ci_low", designMC(func(r *lossRow) float64 { return r.dmc.Success.Low })},
	{"design_ci_high", designMC(func(r *lossRow) float64 { return r.dmc.Success.High })},
	{"design_expected_producers", func(r *lossRow) string { return fmtFloat(r.design.ExpectedProducers()) }},
	{"design_mc_producers", designMC(func(r *lossRow) float64 { return r.dmc.MeanProducers })},
	{"design_mc_producers_se", designMC(func(r *lossRow) float64 { return r.dmc.MeanProducersSE })},
}

func (c *lossConfig) writeCSV(rows []lossRow, env *Env) (err error) {
	out, closeOut, err := env.output(c.out)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := closeOut(); err == nil {
			err = cerr
		}
	}()
	cw := csv.NewWriter(out)
	rec := make([]string, len(lossColumns))
	for i, col := range lossColumns {
		rec[i] = col.name
	}
	cw.Write(rec)
	for i := range rows {
		for j, col := range lossColumns {
			rec[j] = col.value(&rows[i])
		}
		cw.Write(rec)
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("writing CSV: %w", err)
	}
	return nil
}
