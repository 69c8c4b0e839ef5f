package household

import "testing"

// BenchmarkHousehold measures generating one meter-day of 15-minute
// readings (96), against the baseline of summing 96 precomputed readings.
func BenchmarkHousehold(b *testing.B) {
	p, err := NewPopulation(nil, 1)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("baseline-sum-96", func(b *testing.B) {
		m := p.Meter(0)
		var rs [96]Reading
		for i := range rs {
			rs[i] = m.Reading(int64(i))
		}
		var s uint64
		for b.Loop() {
			for i := range rs {
				s += rs[i].Wh
			}
		}
		_ = s
	})
	b.Run("meter-day", func(b *testing.B) {
		m := p.Meter(0)
		id := uint64(0)
		for b.Loop() {
			m.Reset(id)
			for r := range m.Readings(0, 96) {
				_ = r
			}
			id++
		}
	})
	b.Run("meter-year", func(b *testing.B) {
		m := p.Meter(0)
		id := uint64(0)
		for b.Loop() {
			m.Reset(id)
			for r := range m.Readings(0, 365*96) {
				_ = r
			}
			id++
		}
	})
}
