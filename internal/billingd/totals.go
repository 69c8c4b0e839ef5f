package billingd

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"time"

	"github.com/ppnet/ppnet/internal/billing/bill"
	"github.com/ppnet/ppnet/internal/consumer"
	"github.com/ppnet/ppnet/internal/netconfig"
	"github.com/ppnet/ppnet/internal/wire"
)

// Period is a billing month and the rounds it bills: [FirstRound, LastRound].
type Period struct {
	Name       string `yaml:"name" json:"name"` // YYYY-MM
	FirstRound uint64 `yaml:"first_round" json:"first_round"`
	LastRound  uint64 `yaml:"last_round" json:"last_round"`
}

// RuleBand names a per-producer rule the bills are made from, and the
// tariff's time-of-use band it measures ("" for all rounds). Band must name
// a band of the customers' schedule (e.g. "peak") and is taken from the
// rule's band.name in the network file when not given; a rule with a band
// is billed only as a band, a rule without one only as all rounds.
type RuleBand struct {
	Rule string `yaml:"rule"`
	Band string `yaml:"band"`
}

// CalendarPeriods cuts the epoch's rounds into calendar months in India
// time (bill.India): period P holds the rounds that start in P. It needs a
// bounded epoch (rounds.count > 0).
func CalendarPeriods(n *netconfig.Network) ([]Period, error) {
	count := n.Config.Rounds.Count
	if count == 0 {
		return nil, fmt.Errorf("billingd: the network's epoch is unbounded (rounds.count 0); fix: give the billing periods explicitly (periods: name, first_round, last_round)")
	}
	var out []Period
	for r := uint64(0); r < count; {
		start := n.RoundStart(r).In(bill.India)
		name := start.Format("2006-01")
		next := time.Date(start.Year(), start.Month()+1, 1, 0, 0, 0, 0, bill.India)
		last := count - 1
		if at := n.RoundAt(next); at >= 0 && uint64(at) <= last {
			last = uint64(at) - 1
			if n.RoundStart(uint64(at)).Before(next) {
				last = uint64(at) // round at straddles midnight: it started in this month
			}
		}
		out = append(out, Period{Name: name, FirstRound: r, LastRound: last})
		r = last + 1
	}
	return out, nil
}

// windowsIn returns the first rounds of the rule's windows that lie wholly
// inside p, and whether some round of p falls in a window that straddles
// its boundary.
func windowsIn(k uint64, p Period) (starts []uint64, straddle bool) {
	first := (p.FirstRound + k - 1) / k * k
	if first != p.FirstRound {
		straddle = true
	}
	w := first
	for ; w+k-1 <= p.LastRound; w += k {
		starts = append(starts, w)
	}
	if w <= p.LastRound {
		straddle = true
	}
	return starts, straddle
}

// periodTotals turns the final results of one per-producer rule over one
// period into one bill.Totals: each meter's Wh summed over the period's
// windows, with the rounds covered and missing. It reports ready = false
// while a window of the period has no final result yet.
//
// A window whose result carries an error (no consistent t shares) counts
// every round of it as missing for every meter: its energy is unknown, so
// the policy estimates or holds, never bills it as zero.
//
// The digest is the window's coverage digest (wire.CoverageDigest,
// recomputed from the result's missing pairs, so it equals the digest the
// PPNs signed into their aggregates) when the period is one window, and
// otherwise hex SHA-256 over the windows' digests in window order.
func periodTotals(n *netconfig.Network, rb RuleBand, p Period, results map[uint64]consumer.Result) (t bill.Totals, ready bool, err error) {
	ri := ruleIndex(n, rb.Rule)
	if ri < 0 {
		return t, false, fmt.Errorf("billingd: rule %q is not in the network configuration; fix: list a per-producer rule of this consumer", rb.Rule)
	}
	r := &n.Rules[ri]
	starts, straddle := windowsIn(r.K, p)
	if straddle || len(starts) == 0 {
		return t, false, tileError(r.ID, r.K, p)
	}
	t = bill.Totals{RuleID: r.ID, Band: rb.Band, FirstRound: p.FirstRound, LastRound: p.LastRound}
	per := make(map[string]*bill.MeterTotal, len(r.Meters))
	for _, m := range r.Meters {
		id := n.Meters[m]
		per[id] = &bill.MeterTotal{MeterID: id}
	}
	var digests [][]byte
	for _, w := range starts {
		res, ok := results[w]
		if !ok || !res.Final {
			return t, false, nil
		}
		missing, d, err := coverage(n, r, res)
		if err != nil {
			return t, false, err
		}
		digests = append(digests, d[:])
		for _, m := range r.Meters {
			id := n.Meters[m]
			mt := per[id]
			if res.Error != "" || res.Values == nil {
				mt.RoundsMissing += int(r.Rows)
				continue
			}
			v, ok := res.Values[id]
			if !ok {
				return t, false, fmt.Errorf("billingd: rule %q window %d has no value for meter %s", r.ID, w, id)
			}
			mt.Wh += v
			mt.RoundsMissing += missing[id]
			mt.RoundsCovered += int(r.Rows) - missing[id]
		}
	}
	if len(digests) == 1 {
		t.Digest = hex.EncodeToString(digests[0])
	} else {
		h := sha256.New()
		for _, d := range digests {
			h.Write(d)
		}
		t.Digest = hex.EncodeToString(h.Sum(nil))
	}
	for _, m := range r.Meters {
		t.Meters = append(t.Meters, *per[n.Meters[m]])
	}
	return t, true, nil
}

// coverage counts each meter's missing rounds in a result and recomputes
// the window's coverage digest from them.
func coverage(n *netconfig.Network, r *netconfig.ResolvedRule, res consumer.Result) (map[string]int, wire.Digest, error) {
	missing := map[string]int{}
	nm := uint64(len(r.Meters))
	slots := make([]uint32, 0, len(res.Missing))
	for _, pair := range res.Missing {
		id, _ := pair[0].(string)
		var round uint64
		switch v := pair[1].(type) {
		case float64: // decoded from JSON
			round = uint64(v)
		case uint64:
			round = v
		default:
			return nil, wire.Digest{}, fmt.Errorf("billingd: rule %q window %d: missing pair %v has no round number", r.ID, res.WindowStart, pair)
		}
		mi, err := n.MeterIndex(id)
		if err != nil {
			return nil, wire.Digest{}, fmt.Errorf("billingd: rule %q window %d: %v", r.ID, res.WindowStart, err)
		}
		pos, ok := r.Pos[uint32(mi)]
		var row uint64
		if ok && round >= res.WindowStart && round < res.WindowStart+r.K {
			row, ok = r.Row(round - res.WindowStart)
		} else {
			ok = false
		}
		if !ok {
			return nil, wire.Digest{}, fmt.Errorf("billingd: rule %q window %d: missing pair (%s, round %d) is outside the rule's meters, window or band", r.ID, res.WindowStart, id, round)
		}
		missing[id]++
		slots = append(slots, uint32(row*nm+uint64(pos)))
	}
	slices.Sort(slots)
	var runs []wire.Run
	for _, s := range slots {
		if l := len(runs); l > 0 && runs[l-1].Start+runs[l-1].Len == s {
			runs[l-1].Len++
			continue
		}
		runs = append(runs, wire.Run{Start: s, Len: 1})
	}
	return missing, wire.CoverageDigest(n.Config.Epoch, uint16(r.Index), res.WindowStart, r.Slots, runs), nil
}

func ruleIndex(n *netconfig.Network, id string) int {
	for i := range n.Rules {
		if n.Rules[i].ID == id {
			return i
		}
	}
	return -1
}

func tileError(rule string, k uint64, p Period) error {
	return fmt.Errorf("billingd: rule %q has %d-round windows that do not tile period %s (rounds %d–%d); fix: give periods that start and end on window boundaries, or a window that divides the period, e.g. 96 rounds (one day of 15-minute rounds)",
		rule, k, p.Name, p.FirstRound, p.LastRound)
}
