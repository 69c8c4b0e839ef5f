package devnet

import (
	"testing"

	"github.com/ppnet/ppnet/internal/netconfig"
)

// TestBandExactness runs time-of-use rules over the real data plane: an
// 8-round "day" cut into peak [5, 7) and the rest, per meter, and a banded
// feeder sum. Every result must equal the plain sum of the in-band readings
// it covers (Verify), coverage must count in-band rounds only, and each
// meter's peak and off-peak totals must add up to its daily total when all
// three cover everything.
func TestBandExactness(t *testing.T) {
	o := small(t)
	o.Extra = []netconfig.RuleSpec{
		{ID: "tou-peak", Consumer: "utility", Kind: netconfig.KindPerProducer, Window: 8, Fraction: 1,
			Band: &netconfig.Band{Name: "peak", Rounds: [][2]uint64{{5, 7}}}},
		{ID: "tou-rest", Consumer: "utility", Kind: netconfig.KindPerProducer, Window: 8, Fraction: 1,
			Band: &netconfig.Band{Name: "normal", Rounds: [][2]uint64{{0, 5}, {7, 8}}}},
		{ID: "feeder-morning", Consumer: "dso", Kind: netconfig.KindSum, Window: 8, Fraction: 0.5,
			Band: &netconfig.Band{Rounds: [][2]uint64{{2, 4}}}},
	}
	rep := run(t, o, nil)
	byRule := map[string]Row{}
	for _, r := range rep.Rows {
		byRule[r.Rule] = r
	}
	want := map[string]uint32{"tou-peak": 40 * 2, "tou-rest": 40 * 6, "feeder-morning": 20 * 2, BillingRule: 40 * 8}
	for id, slots := range want {
		r, ok := byRule[id]
		if !ok {
			t.Fatalf("no result for rule %s", id)
		}
		if r.Slots != slots || r.Covered == 0 || r.Covered+uint64(len(r.Missing)) != uint64(slots) {
			t.Fatalf("rule %s: %d slots, %d covered, %d missing; want %d slots, some covered, covered+missing = slots", id, r.Slots, r.Covered, len(r.Missing), slots)
		}
	}
	missing := map[string]bool{}
	for _, spec := range o.Extra {
		for _, m := range byRule[spec.ID].Missing {
			id, _ := m[0].(string)
			missing[id] = true
			round, ok := m[1].(uint64)
			if f, isFloat := m[1].(float64); isFloat {
				round, ok = uint64(f), true
			}
			if !ok || !inBand(spec.Band, round%8) {
				t.Fatalf("rule %s reports meter %s missing in round %v, outside its band", spec.ID, id, m[1])
			}
		}
	}
	peak, rest, day := byRule["tou-peak"], byRule["tou-rest"], byRule[BillingRule]
	for _, m := range day.Missing {
		id, _ := m[0].(string)
		missing[id] = true
	}
	checked := 0
	for id, v := range day.Values {
		if missing[id] {
			continue
		}
		if peak.Values[id]+rest.Values[id] != v {
			t.Fatalf("meter %s: peak %d + rest %d ≠ day %d", id, peak.Values[id], rest.Values[id], v)
		}
		checked++
	}
	if checked == 0 {
		t.Fatal("no meter fully covered by all three rules; nothing to compare the band partition with")
	}
}

func inBand(b *netconfig.Band, d uint64) bool {
	for _, r := range b.Rounds {
		if d >= r[0] && d < r[1] {
			return true
		}
	}
	return false
}
