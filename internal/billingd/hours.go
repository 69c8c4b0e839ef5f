package billingd

import (
	"fmt"
	"strings"
	"time"

	"github.com/ppnet/ppnet/internal/netconfig"
)

const minutesPerDay = 24 * 60

// checkBandHours checks, for every time-of-use schedule a registered
// customer is on, that each band billed here from a rule covers exactly
// the schedule's hours for that band: round of the day d covers minutes
// [d·m, (d+1)·m) with m = 1440 / rounds.per_day. A mismatch would bill
// the wrong hours at the band's rate, so it is refused.
func (d *Daemon) checkBandHours() error {
	cs, err := d.svc.Customers().List()
	if err != nil {
		return err
	}
	seen := map[string]bool{}
	for _, c := range cs {
		if seen[c.Tariff] {
			continue
		}
		seen[c.Tariff] = true
		s, err := d.svc.Schedule(c.Tariff)
		if err != nil {
			continue // an unknown schedule is reported on the customer's bill
		}
		for _, b := range s.TimeOfUse {
			for _, rb := range d.cfg.Rules {
				r := &d.net.Rules[ruleIndex(d.net, rb.Rule)]
				if rb.Band != b.Name || r.Band == nil {
					continue
				}
				if err := sameHours(r, b.Hours); err != nil {
					return fmt.Errorf("billingd: rule %q is billed as band %q of schedule %s (%s): %v", r.ID, b.Name, s.Ref(), b.Hours, err)
				}
			}
		}
	}
	return nil
}

// sameHours compares a rule's band with a schedule's hours.
func sameHours(r *netconfig.ResolvedRule, hours string) error {
	want, err := parseHours(hours)
	if err != nil {
		return err
	}
	if minutesPerDay%r.PerDay != 0 {
		return fmt.Errorf("rounds.per_day %d does not cut a day into whole minutes; fix: use a divisor of 1440 such as 96", r.PerDay)
	}
	m := minutesPerDay / r.PerDay
	var got [minutesPerDay]bool
	for _, rg := range r.Band.Rounds {
		for i := rg[0] * m; i < rg[1]*m; i++ {
			got[i] = true
		}
	}
	if got == want {
		return nil
	}
	// The rounds the schedule's hours are, when they fall on round starts.
	var fix []string
	for d := uint64(0); d < r.PerDay; d++ {
		for i := d * m; i < (d+1)*m; i++ {
			if want[i] != want[d*m] {
				return fmt.Errorf("its rounds %v at %d rounds a day differ from the schedule's hours, which do not start on round boundaries (%d minutes a round); fix: use rounds that fit the tariff's hours", r.Band.Rounds, r.PerDay, m)
			}
		}
		if want[d*m] && (d == 0 || !want[(d-1)*m]) {
			e := d
			for e < r.PerDay && want[e*m] {
				e++
			}
			fix = append(fix, fmt.Sprintf("[%d, %d]", d, e))
		}
	}
	return fmt.Errorf("its rounds %v at %d rounds a day are not the schedule's hours; fix: set the rule's band rounds to [%s]", r.Band.Rounds, r.PerDay, strings.Join(fix, ", "))
}

// parseHours reads "HH:MM-HH:MM" (a range past midnight wraps), or several
// such ranges separated by commas, into a minute-of-day mask.
func parseHours(s string) (mask [minutesPerDay]bool, err error) {
	for _, part := range strings.Split(s, ",") {
		from, to, ok := strings.Cut(strings.TrimSpace(part), "-")
		a, errA := time.Parse("15:04", strings.TrimSpace(from))
		b, errB := time.Parse("15:04", strings.TrimSpace(to))
		if !ok || errA != nil || errB != nil || a.Equal(b) {
			return mask, fmt.Errorf("the schedule's hours %q are not HH:MM-HH:MM ranges; fix: write them as e.g. 18:00-22:00", s)
		}
		i, e := a.Hour()*60+a.Minute(), b.Hour()*60+b.Minute()
		for ; i != e; i = (i + 1) % minutesPerDay {
			mask[i] = true
		}
	}
	return mask, nil
}

// BandRounds converts a schedule band's hours to the round-of-day ranges
// of a rule with perDay rounds a day (e.g. "22:00-06:00" at 96 rounds a day
// is [[0, 24], [88, 96]]). The hours must start and end on round
// boundaries.
func BandRounds(hours string, perDay uint64) ([][2]uint64, error) {
	mask, err := parseHours(hours)
	if err != nil {
		return nil, fmt.Errorf("billingd: %v", err)
	}
	if perDay == 0 || minutesPerDay%perDay != 0 {
		return nil, fmt.Errorf("billingd: %d rounds a day do not cut a day into whole minutes; fix: use a divisor of 1440 such as 96", perDay)
	}
	m := minutesPerDay / perDay
	var out [][2]uint64
	for d := uint64(0); d < perDay; d++ {
		for i := d * m; i < (d+1)*m; i++ {
			if mask[i] != mask[d*m] {
				return nil, fmt.Errorf("billingd: hours %q do not start and end on round boundaries (%d minutes a round); fix: use a schedule whose hours fit the rounds", hours, m)
			}
		}
		if !mask[d*m] {
			continue
		}
		if l := len(out); l > 0 && out[l-1][1] == d {
			out[l-1][1]++
		} else {
			out = append(out, [2]uint64{d, d + 1})
		}
	}
	return out, nil
}
