package faulttest

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/ppnet/ppnet/internal/consumer"
	"github.com/ppnet/ppnet/internal/netconfig"
	"github.com/ppnet/ppnet/internal/producer"
)

// Report compares every result with the meters' own stored readings.
type Report struct {
	Results  int      // final results found
	Want     int      // results a full run yields
	Exact    int      // results equal to Σ of the readings they say they cover
	Complete int      // results covering every (meter, round) pair of their window
	Readings int      // readings the meters stored
	Problems []string // one line per result that is not exact or not complete, or a count mismatch
}

// OK reports whether every expected result is there, exact and complete.
func (r *Report) OK() bool { return len(r.Problems) == 0 }

// Check stops the producers (call it after Wait), reads their histories and
// compares every consumer result with the plain sums.
func (n *Net) Check(ctx context.Context) (*Report, error) {
	for _, p := range n.producers {
		if err := p.Shutdown(ctx); err != nil {
			return nil, err
		}
	}
	n.producers = nil
	readings := map[[2]uint64]int64{}
	for _, p := range n.Cfg.Producers {
		h, err := producer.OpenHistory(filepath.Join(n.Opts.Dir, "producer-"+p.ID, "producer-"+p.ID+".db"))
		if err != nil {
			return nil, err
		}
		for e, err := range h.All() {
			if err != nil {
				h.Close()
				return nil, err
			}
			readings[[2]uint64{uint64(e.Meter), e.Round}] = e.Wh
		}
		h.Close()
	}
	rep := &Report{Want: n.WantResults(), Readings: len(readings)}
	if rep.Readings != n.Opts.Meters*int(n.Opts.Rounds) {
		rep.Problems = append(rep.Problems, fmt.Sprintf("meters stored %d readings, want %d", rep.Readings, n.Opts.Meters*int(n.Opts.Rounds)))
	}
	for _, c := range n.consumers {
		res, err := c.Results()
		if err != nil {
			return nil, err
		}
		for _, r := range res {
			if !r.Final {
				continue
			}
			rep.Results++
			exact, complete, why := n.checkOne(r, readings)
			if exact {
				rep.Exact++
			}
			if complete {
				rep.Complete++
			}
			if !exact || !complete {
				rep.Problems = append(rep.Problems, fmt.Sprintf("%s window %d: %s", r.Rule, r.WindowStart, why))
			}
		}
	}
	if rep.Results != rep.Want {
		rep.Problems = append(rep.Problems, fmt.Sprintf("%d final results, want %d", rep.Results, rep.Want))
	}
	return rep, nil
}

// checkOne recomputes a result from the readings it claims to cover.
func (n *Net) checkOne(r consumer.Result, readings map[[2]uint64]int64) (exact, complete bool, why string) {
	var rule *netconfig.ResolvedRule
	for i := range n.Net.Rules {
		if n.Net.Rules[i].ID == r.Rule {
			rule = &n.Net.Rules[i]
		}
	}
	if rule == nil {
		return false, false, "unknown rule"
	}
	if r.Error != "" {
		return false, false, "error: " + r.Error
	}
	missing := map[[2]uint64]bool{}
	for _, m := range r.Missing {
		id, _ := m[0].(string)
		round, _ := m[1].(float64) // numbers decode from the stored JSON as float64
		mi, err := n.Net.MeterIndex(id)
		if err != nil {
			return false, false, fmt.Sprintf("missing pair names unknown meter %q", id)
		}
		missing[[2]uint64{uint64(mi), uint64(round)}] = true
	}
	var plain int64
	perMeter := map[string]int64{}
	var covered uint64
	for j := uint64(0); j < rule.K; j++ {
		if !rule.InBand(r.WindowStart + j) {
			continue // a banded rule covers only its in-band rounds
		}
		for _, m := range rule.Meters {
			k := [2]uint64{uint64(m), r.WindowStart + j}
			if missing[k] {
				continue
			}
			v, ok := readings[k]
			if !ok {
				return false, false, fmt.Sprintf("covers meter %s round %d, which the meter never read", n.Net.Meters[m], k[1])
			}
			covered++
			plain += v
			perMeter[n.Net.Meters[m]] += v
		}
	}
	complete = len(missing) == 0 && r.Covered == uint64(rule.Slots)
	if covered != r.Covered {
		return false, complete, fmt.Sprintf("claims %d covered pairs, the missing list implies %d", r.Covered, covered)
	}
	why = fmt.Sprintf("covers %d of %d pairs", r.Covered, rule.Slots)
	if rule.Kind == netconfig.KindSum {
		if r.Value == nil || *r.Value != plain {
			return false, complete, fmt.Sprintf("value %v, plain sum %d; %s", r.Value, plain, why)
		}
		return true, complete, why
	}
	if len(r.Values) != len(rule.Meters) {
		return false, complete, fmt.Sprintf("%d per-meter values, want %d; %s", len(r.Values), len(rule.Meters), why)
	}
	for _, m := range rule.Meters {
		id := n.Net.Meters[m]
		if v, ok := r.Values[id]; !ok || v != perMeter[id] {
			return false, complete, fmt.Sprintf("meter %s: %d (present %v), plain sum %d; %s", id, v, ok, perMeter[id], why)
		}
	}
	return true, complete, why
}
