package producer

import (
	"fmt"

	"github.com/ppnet/ppnet/sim/household"
)

// Source supplies readings: dst[i] is the reading (Wh) of meter ids[i] in
// round, with round τ read as interval τ of the source, or NoReading.
type Source interface {
	Read(round uint64, ids []uint64, dst []int64) error
}

// HouseholdSource reads the synthetic household model (package
// sim/household): meter index m is household m of the population. It
// generates a day of every meter at once and keeps it, so a round costs a
// lookup per meter. It is not safe for concurrent use.
type HouseholdSource struct {
	pop     *household.Population
	scratch *household.Meter
	perDay  uint64
	day     int64
	cache   map[uint64][]int64 // meter → the day's readings
}

// NewHouseholdSource returns a source over the default household model
// (opts nil) or opts, for seed.
func NewHouseholdSource(opts *household.Options, seed uint64) (*HouseholdSource, error) {
	pop, err := household.NewPopulation(opts, seed)
	if err != nil {
		return nil, fmt.Errorf("producer: household model: %w", err)
	}
	o := pop.Options()
	perDay := uint64((24 * 60) / int(o.Interval.Minutes()))
	return &HouseholdSource{pop: pop, scratch: pop.Meter(0), perDay: perDay, day: -1}, nil
}

// Read implements Source.
func (s *HouseholdSource) Read(round uint64, ids []uint64, dst []int64) error {
	if len(ids) != len(dst) {
		return fmt.Errorf("producer: %d meters, %d slots", len(ids), len(dst))
	}
	day := int64(round / s.perDay)
	if day != s.day {
		s.day, s.cache = day, make(map[uint64][]int64, len(ids))
	}
	for i, id := range ids {
		r, ok := s.cache[id]
		if !ok {
			s.scratch.Reset(id)
			r = make([]int64, 0, s.perDay)
			for rd := range s.scratch.Readings(day*int64(s.perDay), int(s.perDay)) {
				r = append(r, int64(rd.Wh))
			}
			s.cache[id] = r
		}
		dst[i] = r[round%s.perDay]
	}
	return nil
}
