package household

import "time"

// maxAttempts bounds the switch-on draws per unit and day, so an appliance
// that needs an occupant on a day nobody is home does not loop forever.
const maxAttempts = 60

// generate fills slot with day d of the meter, including what the day
// before ran on past midnight.
func (m *Meter) generate(slot *day, d int64) {
	m.generateOwn(slot, d, false)
	if m.p.spill == 0 {
		return
	}
	prev := &m.days[(d-1)&1]
	if prev.index != d-1 { // not cached: generate just what can spill
		prev = &m.prev
		if prev.index != d-1 {
			m.generateOwn(prev, d-1, true)
		}
	}
	for k, w := range prev.power[minutesPerDay:] {
		slot.power[k] += w
		slot.on[k] |= prev.on[minutesPerDay+k]
	}
}

// generateOwn fills slot with day d's own events: the minutes 0–1439 without
// the previous day's spill, and this day's spill after them. With
// spillOnly it generates only the appliances that can spill, which is all
// the next day needs. Occupancy and each appliance have their own stream,
// so skipping appliances changes nothing in the others.
func (m *Meter) generateOwn(slot *day, d int64, spillOnly bool) {
	slot.index = d
	date := m.p.opts.Start.AddDate(0, 0, int(d))
	if !spillOnly || m.p.spillOcc {
		m.reseed(streamDay, m.id, uint64(d))
		m.occupancy(slot, date.Weekday())
	}

	var standby uint32
	for i, a := range m.p.apps {
		standby += a.StandbyW * uint32(m.house.Units[i])
	}
	for k := range slot.power {
		slot.power[k] = 0
		if k < minutesPerDay {
			slot.power[k] = standby
		}
		slot.on[k] = 0
	}
	month := uint16(1) << date.Month()
	for i := range m.p.apps {
		a := &m.p.apps[i]
		if m.house.Units[i] == 0 || a.months&month == 0 || spillOnly && !a.spills {
			continue
		}
		m.reseed(streamAppliance, m.id, uint64(d)<<6|uint64(i))
		extra, bit := a.PowerW-a.StandbyW, uint64(1)<<i
		for range m.house.Units[i] {
			m.runs = m.runs[:0]
			if a.Cycling != nil {
				m.cycle(a.Cycling)
			} else {
				m.events(a, slot)
			}
			// Only the minutes the unit ran are touched, not the whole day.
			for _, r := range m.runs {
				for k := r.from; k < r.to; k++ {
					slot.power[k] += extra
					slot.on[k] |= bit
					m.unit[k] = false
				}
			}
		}
	}
}

// run is a stretch [from, to) of minutes a unit is on.
type run struct{ from, to int }

// mark switches the current unit on over [from, to), recording the run.
func (m *Meter) mark(from, to int) {
	for k := from; k < to; k++ {
		m.unit[k] = true
	}
	m.runs = append(m.runs, run{from, to})
}

// occupancy runs the active-occupant Markov chain over the day's steps.
func (m *Meter) occupancy(slot *day, wd time.Weekday) {
	prof := m.p.opts.Weekday
	if wd == time.Saturday || wd == time.Sunday {
		prof = m.p.opts.Weekend
	}
	rho := m.p.opts.Persistence
	var active [16]bool
	n := m.house.Residents
	for s := range stepsPerDay {
		pi := prof[s*stepMinutes/60]
		count := uint8(0)
		for j := range n {
			if s == 0 {
				active[j] = m.rng.Float64() < pi
			} else if active[j] {
				active[j] = m.rng.Float64() >= (1-rho)*(1-pi)
			} else {
				active[j] = m.rng.Float64() < (1-rho)*pi
			}
			if active[j] {
				count++
			}
		}
		slot.active[s] = count
	}
}

// cycle marks a thermostat unit's on phases, starting at a random phase.
func (m *Meter) cycle(c *Cycling) {
	t := -m.rng.IntN(c.OnMinutes + c.OffMinutes)
	for t < minutesPerDay {
		on := jitter(m, c.OnMinutes)
		if from, to := max(t, 0), min(t+on, minutesPerDay); from < to {
			m.mark(from, to)
		}
		t += on + jitter(m, c.OffMinutes)
	}
}

// jitter returns n varied by up to ±20%, at least 1.
func jitter(m *Meter, n int) int {
	v := int(float64(n) * (0.8 + 0.4*m.rng.Float64()))
	return max(v, 1)
}

// events marks a unit's switch-on events, RAMP style: random starts within
// the windows, each lasting one to two cycles, until the day's use time is
// spent.
func (m *Meter) events(a *compiled, slot *day) {
	if a.DailyProbability > 0 && m.rng.Float64() >= a.DailyProbability {
		return
	}
	remaining := int(a.DailyMinutes*(1+a.Variability*(2*m.rng.Float64()-1)) + 0.5)
	for try := 0; remaining > 0 && try < maxAttempts; try++ {
		start, end := a.pick(m.rng.IntN(a.windowLen))
		if end == minutesPerDay {
			end += m.p.spill // late events run on past midnight
		}
		if m.unit[start] || a.NeedsOccupant && slot.active[start/stepMinutes] == 0 {
			continue
		}
		dur := min(a.CycleMinutes+m.rng.IntN(a.CycleMinutes+1), remaining)
		stop := start
		for stop < min(start+dur, end) && !m.unit[stop] {
			stop++
		}
		m.mark(start, stop)
		remaining -= stop - start
	}
}

// pick maps an offset into the concatenated windows to a minute of the day
// and the end of its window.
func (a *compiled) pick(off int) (minute, end int) {
	for _, w := range a.Windows {
		if n := w.To - w.From; off < n {
			return w.From + off, w.To
		}
		off -= w.To - w.From
	}
	w := a.Windows[len(a.Windows)-1]
	return w.To - 1, w.To
}
