package household

import (
	"encoding/binary"
	"fmt"
	"iter"
	"math"
	"math/rand/v2"
	"slices"
	"time"
)

const (
	minutesPerDay = 1440
	stepMinutes   = 10 // occupancy step
	stepsPerDay   = minutesPerDay / stepMinutes
)

// Population is a seeded population of households. It is immutable and
// safe for concurrent use; each goroutine draws its own [Meter]s.
type Population struct {
	opts     Options
	seed     uint64
	interval int64 // minutes
	occCDF   []float64
	apps     []compiled
	// spill is how many minutes past midnight an event that starts in a
	// window ending at 24:00 may run on into the next day.
	spill int
	// spillOcc: some appliance that can spill needs an occupant, so a day
	// generated only for its spill needs its occupancy too.
	spillOcc bool
}

// compiled holds per-appliance values derived once from the options.
type compiled struct {
	Appliance
	windowLen int    // total minutes of the windows
	months    uint16 // bit m set if used in month m; all set if unrestricted
	spills    bool   // a window ends at midnight: events may run into the next day
}

// NewPopulation validates opts (nil means [DefaultOptions]) and returns the
// population for seed. Meter m of seed s is the same household with the
// same readings on every run and machine.
func NewPopulation(opts *Options, seed uint64) (*Population, error) {
	if opts == nil {
		opts = DefaultOptions()
	}
	o := *opts
	o.Appliances = append([]Appliance(nil), opts.Appliances...)
	for i := range o.Appliances {
		if o.Appliances[i].Units == 0 {
			o.Appliances[i].Units = 1
		}
	}
	if err := o.Validate(); err != nil {
		return nil, err
	}
	p := &Population{opts: o, seed: seed, interval: int64(o.Interval / time.Minute)}
	var sum float64
	for _, w := range o.Occupants {
		sum += w
		p.occCDF = append(p.occCDF, sum)
	}
	for i := range p.occCDF {
		p.occCDF[i] /= sum
	}
	for _, a := range o.Appliances {
		c := compiled{Appliance: a, months: 1<<13 - 2}
		for _, w := range a.Windows {
			c.windowLen += w.To - w.From
		}
		if len(a.Months) > 0 {
			c.months = 0
			for _, m := range a.Months {
				c.months |= 1 << m
			}
		}
		if a.Cycling == nil && slices.ContainsFunc(a.Windows, func(w Window) bool { return w.To == minutesPerDay }) {
			c.spills = true
			p.spill = max(p.spill, min(2*a.CycleMinutes, minutesPerDay))
			p.spillOcc = p.spillOcc || a.NeedsOccupant
		}
		p.apps = append(p.apps, c)
	}
	return p, nil
}

// Seed returns the population's seed.
func (p *Population) Seed() uint64 { return p.seed }

// Interval returns the reading interval.
func (p *Population) Interval() time.Duration { return p.opts.Interval }

// Options returns a copy of the population's options.
func (p *Population) Options() Options {
	o := p.opts
	o.Appliances = append([]Appliance(nil), p.opts.Appliances...)
	return o
}

// Appliances returns the appliance names, in the bit order of [Reading.On].
func (p *Population) Appliances() []string {
	names := make([]string, len(p.apps))
	for i, a := range p.apps {
		names[i] = a.Name
	}
	return names
}

// IntervalStart returns the instant interval i begins.
func (p *Population) IntervalStart(i int64) time.Time {
	return p.opts.Start.Add(time.Duration(i) * p.opts.Interval)
}

// Reading is one meter's reading for one interval, with ground truth.
type Reading struct {
	Interval int64  // interval index from Options.Start
	Wh       uint64 // energy used in the interval, Wh, rounded to nearest
	// ActiveOccupants is the largest number of residents at home and awake
	// during the interval; Occupied is ActiveOccupants > 0.
	ActiveOccupants int
	Occupied        bool
	// On has bit a set if appliance a (Population.Appliances()[a]) ran
	// during the interval.
	On uint64
}

// Household describes a meter's household, fixed for its whole series.
type Household struct {
	Residents int   // number of residents
	Units     []int // Units[a]: how many of appliance a it owns (0: none)
}

// Meter generates one meter's readings. Readings are computed a day at a
// time from the day's own random stream, so reading order is free, but
// sequential reading is cheapest (two days are cached). A Meter is not safe
// for concurrent use.
type Meter struct {
	p     *Population
	id    uint64
	house Household
	src   rand.ChaCha8
	rng   *rand.Rand
	days  [2]day
	prev  day    // scratch: the day before one being generated, if not cached
	unit  []bool // scratch: minutes one unit is on; all false between units
	runs  []run  // scratch: the runs marked in unit
}

// noDay marks an empty day slot.
const noDay = math.MinInt64

// day holds one generated day. Minutes 1440 and on are the spill: what the
// day's late events use after midnight, added into the next day.
type day struct {
	index  int64
	active [stepsPerDay]uint8
	power  []uint32 // W in each minute
	on     []uint64 // appliances on in each minute
}

func newDay(n int) day {
	return day{index: noDay, power: make([]uint32, n), on: make([]uint64, n)}
}

// Meter returns the generator for meter id.
func (p *Population) Meter(id uint64) *Meter {
	n := minutesPerDay + p.spill
	m := &Meter{p: p, days: [2]day{newDay(n), newDay(n)}, prev: newDay(n), unit: make([]bool, n)}
	m.rng = rand.New(&m.src)
	m.Reset(id)
	return m
}

// Reset makes m generate meter id's readings, reusing its buffers.
func (m *Meter) Reset(id uint64) {
	m.id = id
	m.days[0].index, m.days[1].index, m.prev.index = noDay, noDay, noDay
	m.reseed(streamHousehold, id, 0)
	h := Household{Residents: len(m.p.occCDF), Units: make([]int, len(m.p.apps))}
	u := m.rng.Float64()
	for i, c := range m.p.occCDF {
		if u < c {
			h.Residents = i + 1
			break
		}
	}
	for i, a := range m.p.apps {
		if m.rng.Float64() < a.Ownership {
			h.Units[i] = a.Units
		}
	}
	m.house = h
}

// ID returns the meter's id.
func (m *Meter) ID() uint64 { return m.id }

// Household returns the meter's household.
func (m *Meter) Household() Household {
	h := m.house
	h.Units = append([]int(nil), h.Units...)
	return h
}

// Random streams: a meter's household, and each of its days.
const (
	streamHousehold = 1
	streamDay       = 2 // occupancy of a day
	streamAppliance = 3 // one appliance on one day: value day<<6 | appliance
)

// reseed sets the random stream to the one of (seed, kind, meter, value).
func (m *Meter) reseed(kind, id, value uint64) {
	var key [32]byte
	x := m.p.seed
	for i, v := range []uint64{kind, id, value} {
		x = splitmix(x ^ splitmix(v+uint64(i)))
		binary.LittleEndian.PutUint64(key[8*i:], x)
	}
	binary.LittleEndian.PutUint64(key[24:], splitmix(x))
	m.src.Seed(key)
}

// splitmix is the SplitMix64 output function, a bijective bit mixer.
func splitmix(z uint64) uint64 {
	z += 0x9e3779b97f4a7c15
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// Reading returns the reading of interval i ≥ 0. A negative i is a
// programmer error and panics.
func (m *Meter) Reading(i int64) Reading {
	if i < 0 {
		panic(fmt.Sprintf("household: negative interval %d", i))
	}
	r := Reading{Interval: i}
	var wmin uint64
	lo, hi := i*m.p.interval, (i+1)*m.p.interval
	for t := lo; t < hi; {
		d := m.day(t / minutesPerDay)
		end := min(hi, (d.index+1)*minutesPerDay)
		for k := t - d.index*minutesPerDay; t < end; t, k = t+1, k+1 {
			wmin += uint64(d.power[k])
			r.On |= d.on[k]
			if a := int(d.active[k/stepMinutes]); a > r.ActiveOccupants {
				r.ActiveOccupants = a
			}
		}
	}
	r.Wh = (wmin + 30) / 60
	r.Occupied = r.ActiveOccupants > 0
	return r
}

// Readings yields n readings from interval from on, in order.
func (m *Meter) Readings(from int64, n int) iter.Seq[Reading] {
	return func(yield func(Reading) bool) {
		for i := from; i < from+int64(n); i++ {
			if !yield(m.Reading(i)) {
				return
			}
		}
	}
}

// day returns day d, generating it if it is not cached.
func (m *Meter) day(d int64) *day {
	slot := &m.days[d&1]
	if slot.index != d {
		m.generate(slot, d)
	}
	return slot
}
