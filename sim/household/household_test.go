package household

import (
	"flag"
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode"
)

var seedFlag = flag.Uint64("seed", 20260105, "seed of the randomized household tests")

func newPop(t *testing.T, o *Options) *Population {
	t.Helper()
	t.Logf("seed %d (set with -seed)", *seedFlag)
	p, err := NewPopulation(o, *seedFlag)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestDeterministicAndRandomAccess(t *testing.T) {
	p := newPop(t, nil)
	q, _ := NewPopulation(nil, *seedFlag)
	const n = 3 * 96
	var seq []Reading
	for r := range p.Meter(42).Readings(0, n) {
		seq = append(seq, r)
	}
	// Another population with the same seed, read backwards, after other
	// meters, with a reused Meter: the same series.
	m := q.Meter(7)
	for range m.Readings(0, 200) {
	}
	m.Reset(42)
	for i := n - 1; i >= 0; i-- {
		if got := m.Reading(int64(i)); got != seq[i] {
			t.Fatalf("interval %d: sequential %+v, random access %+v", i, seq[i], got)
		}
	}
	other, _ := NewPopulation(nil, *seedFlag+1)
	same := 0
	for i, r := range seq {
		if other.Meter(42).Reading(int64(i)) == r {
			same++
		}
	}
	if same == n {
		t.Fatal("a different seed gave the same series")
	}
}

func TestIntervalsAggregate(t *testing.T) {
	// Readings at 60 minutes must be the minute readings combined: energy
	// within rounding, appliances OR-ed, occupants the maximum.
	fine, coarse := DefaultOptions(), DefaultOptions()
	fine.Interval, coarse.Interval = time.Minute, time.Hour
	pf, pc := newPop(t, fine), newPop(t, coarse)
	for _, id := range []uint64{0, 1, 99} {
		mf, mc := pf.Meter(id), pc.Meter(id)
		for h := int64(0); h < 48; h++ {
			c := mc.Reading(h)
			var wh uint64
			var on uint64
			occ := 0
			for r := range mf.Readings(h*60, 60) {
				wh += r.Wh
				on |= r.On
				occ = max(occ, r.ActiveOccupants)
			}
			if d := math.Abs(float64(wh) - float64(c.Wh)); d > 31 || on != c.On || occ != c.ActiveOccupants || c.Occupied != (occ > 0) {
				t.Fatalf("meter %d hour %d: hourly %+v, minutes give Wh %d on %b occupants %d", id, h, c, wh, on, occ)
			}
		}
	}
}

func TestEnergyAndSeasons(t *testing.T) {
	p := newPop(t, nil)
	names := p.Appliances()
	bit := func(name string) uint64 {
		for i, n := range names {
			if n == name {
				return 1 << i
			}
		}
		t.Fatalf("no appliance %q", name)
		return 0
	}
	tests := []struct {
		name       string
		day        int64 // days after Monday 5 January 2026
		lo, hi     float64
		never, ran string
	}{
		{"january", 0, 1.5, 4.5, "ac", "geyser"},
		{"july", 180, 3, 7, "geyser", "ceiling_fan"},
	}
	const meters, days = 200, 7
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var wh uint64
			var seen uint64
			for id := range uint64(meters) {
				for r := range p.Meter(id).Readings(tc.day*96, days*96) {
					wh += r.Wh
					seen |= r.On
				}
			}
			kwh := float64(wh) / 1000 / meters / days
			t.Logf("mean %.2f kWh per household-day", kwh)
			if kwh < tc.lo || kwh > tc.hi {
				t.Errorf("mean %.2f kWh/day, want within [%v, %v] (Indian urban household)", kwh, tc.lo, tc.hi)
			}
			if seen&bit(tc.never) != 0 {
				t.Errorf("%s ran out of season", tc.never)
			}
			if seen&bit(tc.ran) == 0 {
				t.Errorf("%s never ran in season", tc.ran)
			}
		})
	}
}

func TestOccupancyMarginals(t *testing.T) {
	// With persistence 0 every resident is active independently with the
	// profile's probability: the mean active fraction per hour must match
	// the day's profile (weekday or weekend) within 5 standard errors. With
	// persistence the chain must change state less often.
	o := DefaultOptions()
	o.Appliances = nil
	o.Persistence = 0
	// Day 0 is Monday 5 January 2026. Hours where the two profiles differ
	// by far more than 5 standard errors make a day read with the wrong
	// profile fail.
	days := []struct {
		name    string
		day     int64
		profile []float64
	}{
		{"monday", 0, o.Weekday},
		{"friday", 4, o.Weekday},
		{"saturday", 5, o.Weekend},
		{"sunday", 6, o.Weekend},
	}
	if wd := o.Start.AddDate(0, 0, 5).Weekday(); wd != time.Saturday {
		t.Fatalf("day 5 is a %v, want Saturday", wd)
	}
	flips := func(p *Population, day int64, act, res *[24]float64) (n int) {
		for id := range uint64(300) {
			m := p.Meter(id)
			d := m.day(day)
			for s := range stepsPerDay {
				act[s/6] += float64(d.active[s])
				res[s/6] += float64(m.house.Residents)
				if s > 0 && d.active[s] != d.active[s-1] {
					n++
				}
			}
		}
		return n
	}
	p := newPop(t, o)
	f0 := 0
	for _, tc := range days {
		var act, res [24]float64
		f0 += flips(p, tc.day, &act, &res)
		for h := range 24 {
			pi := tc.profile[h]
			got := act[h] / res[h]
			if se := math.Sqrt(pi*(1-pi)/res[h]) + 1e-3; math.Abs(got-pi) > 5*se {
				t.Errorf("%s hour %d: active fraction %.3f, profile %.3f", tc.name, h, got, pi)
			}
		}
	}
	o.Persistence = 0.85
	q, f1 := newPop(t, o), 0
	for _, tc := range days {
		var act, res [24]float64
		f1 += flips(q, tc.day, &act, &res)
	}
	if f1*2 > f0 {
		t.Errorf("persistence 0.85 changed the active count %d times, persistence 0: %d", f1, f0)
	}
}

func TestLateEventsRunPastMidnight(t *testing.T) {
	// A heater used only from 23:00 to 24:00, in runs of 60–120 minutes,
	// must run on after midnight, never later than the spill allows, and
	// the spill must not depend on the order days are read in.
	for _, needs := range []bool{false, true} {
		t.Run(fmt.Sprintf("needs_occupant=%v", needs), func(t *testing.T) { lateEvents(t, needs) })
	}
}

func lateEvents(t *testing.T, needsOccupant bool) {
	o := DefaultOptions()
	o.Interval = time.Minute
	o.Appliances = []Appliance{{Name: "heater", PowerW: 1000, Ownership: 1, Units: 1, NeedsOccupant: needsOccupant,
		Windows: []Window{{1380, 1440}}, DailyMinutes: 120, CycleMinutes: 60}}
	p := newPop(t, o)
	after := 0
	for id := range uint64(20) {
		m := p.Meter(id)
		fwd := make([]Reading, 0, 3*1440)
		for r := range m.Readings(0, 3*1440) {
			fwd = append(fwd, r)
		}
		m.Reset(id)
		for i := len(fwd) - 1; i >= 0; i-- {
			r := fwd[i]
			if got := m.Reading(int64(i)); got != r {
				t.Fatalf("meter %d minute %d: forward %+v, backward %+v", id, i, r, got)
			}
			min := i % 1440
			if r.On != 0 && min >= 120 && min < 1380 {
				t.Fatalf("meter %d: heater on at minute %d of the day", id, min)
			}
			if r.On != 0 && min < 120 {
				after++
			}
		}
	}
	if after == 0 {
		t.Fatal("no heater minute after midnight: late events are cut at 24:00")
	}
}

func TestFridgeDutyCycle(t *testing.T) {
	o := DefaultOptions()
	o.Appliances = []Appliance{{Name: "fridge", PowerW: 150, Ownership: 1, Cycling: &Cycling{OnMinutes: 12, OffMinutes: 24}}}
	o.Interval = time.Minute
	p := newPop(t, o)
	on := 0
	for r := range p.Meter(5).Readings(0, 7*1440) {
		if r.On != 0 {
			on++
			if r.Wh != 3 { // 150 W for one minute = 2.5 Wh, rounded
				t.Fatalf("minute %d: %d Wh with the fridge on, want 3", r.Interval, r.Wh)
			}
		}
	}
	if duty := float64(on) / (7 * 1440); math.Abs(duty-1.0/3) > 0.03 {
		t.Errorf("duty cycle %.3f, want ≈ 1/3", duty)
	}
}

func TestYAMLRoundTrip(t *testing.T) {
	data, err := DefaultOptions().YAML()
	if err != nil {
		t.Fatal(err)
	}
	got, err := ParseOptions(data)
	if err != nil {
		t.Fatalf("%v\n%s", err, data)
	}
	if want := DefaultOptions(); !reflect.DeepEqual(got, want) {
		t.Fatalf("round trip changed the model:\n%s", data)
	}
	got, err = ParseOptions([]byte("interval: 30m\n"))
	if err != nil || got.Interval != 30*time.Minute || len(got.Appliances) != 10 {
		t.Fatalf("partial file: %v, %+v", err, got)
	}
}

func TestParseOptionsErrors(t *testing.T) {
	tests := []struct{ name, yaml, want string }{
		{"interval seconds", "interval: 90s", "whole number of minutes"},
		{"interval long", "interval: 25h", "between 1m and 24h"},
		{"unknown key", "intervall: 15m", "field intervall not found"},
		{"start not midnight", "start: 2026-01-05T10:00:00Z", "UTC midnight"},
		{"profile length", "weekday: [0.5, 0.5]", "weekday profile has 2 values"},
		{"profile range", "weekend: [" + strings.Repeat("0.5, ", 23) + "1.5]", "weekend[23] = 1.5"},
		{"persistence", "persistence: 1", "persistence 1 must be in [0, 1)"},
		{"occupants", "occupants: [0, 0]", "sum to 0"},
		{"window syntax", "appliances: [{name: fan, power_w: 75, windows: [\"18-23\"], daily_minutes: 60, cycle_minutes: 10}]", "not a time HH:MM"},
		{"window junk", "appliances: [{name: fan, power_w: 75, windows: [\"18:00xx-23:00\"], daily_minutes: 60, cycle_minutes: 10}]", `window "18:00xx-23:00": "18:00xx" is not a time HH:MM`},
		{"window order", "appliances: [{name: fan, power_w: 75, windows: [\"23:00-01:00\"], daily_minutes: 60, cycle_minutes: 10}]", "split a window across midnight"},
		{"window overlap", "appliances: [{name: fan, power_w: 75, windows: [\"10:00-12:00\", \"11:00-13:00\"], daily_minutes: 60, cycle_minutes: 10}]", "overlap"},
		{"no windows", "appliances: [{name: fan, power_w: 75, daily_minutes: 60, cycle_minutes: 10}]", "no windows"},
		{"zero power", "appliances: [{name: fan, windows: [\"10:00-12:00\"], daily_minutes: 60, cycle_minutes: 10}]", "power_w 0"},
		{"standby", "appliances: [{name: tv, power_w: 10, standby_w: 20, windows: [\"10:00-12:00\"], daily_minutes: 60, cycle_minutes: 10}]", "standby_w 20 exceeds"},
		{"month", "appliances: [{name: ac, power_w: 10, months: [13], windows: [\"10:00-12:00\"], daily_minutes: 60, cycle_minutes: 10}]", "month 13"},
		{"cycle", "appliances: [{name: ac, power_w: 10, windows: [\"10:00-12:00\"], daily_minutes: 60}]", "cycle_minutes 0"},
		{"duplicate", "appliances: [{name: f, power_w: 1, cycling: {on_minutes: 1, off_minutes: 1}}, {name: f, power_w: 1, cycling: {on_minutes: 1, off_minutes: 1}}]", "appears twice"},
		{"bad name", "appliances: [{name: 'a,b', power_w: 1, cycling: {on_minutes: 1, off_minutes: 1}}]", "letters, digits"},
		{"not yaml", "interval: [", "household: model file"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseOptions([]byte(tc.yaml))
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "household: ") {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func TestLoadOptions(t *testing.T) {
	path := t.TempDir() + "/model.yaml"
	if _, err := LoadOptions(path); err == nil || !strings.Contains(err.Error(), "reading model file") {
		t.Fatalf("missing file: %v", err)
	}
}

func FuzzParseOptions(f *testing.F) {
	def, _ := DefaultOptions().YAML()
	f.Add(def)
	f.Add([]byte("interval: 30m\nappliances: [{name: fan, power_w: 75, windows: [\"18:00-23:00\"], daily_minutes: 60, cycle_minutes: 10}]"))
	f.Fuzz(func(t *testing.T, data []byte) {
		o, err := ParseOptions(data)
		if err != nil {
			return
		}
		p, err := NewPopulation(o, 1)
		if err != nil {
			t.Fatalf("ParseOptions accepted a model NewPopulation refuses: %v", err)
		}
		p.Meter(0).Reading(0)
	})
}

func TestParseWindow(t *testing.T) {
	tests := []struct {
		in   string
		want Window
		err  string
	}{
		{"18:00-23:30", Window{1080, 1410}, ""},
		{" 6:00 - 09:15 ", Window{360, 555}, ""},
		{"00:00-24:00", Window{0, 1440}, ""},
		{"18:00xx-23:00", Window{}, `"18:00xx" is not a time HH:MM`},
		{"18:00-23:00xx", Window{}, `"23:00xx" is not a time HH:MM`},
		{"18:00-23:00:00", Window{}, "not a time HH:MM"},
		{"18:0-23:00", Window{}, "two-digit minutes"},
		{"+6:00-09:00", Window{}, "not a time HH:MM"},
		{"18-23", Window{}, "not a time HH:MM"},
		{"18:00", Window{}, `want "HH:MM-HH:MM"`},
		{"006:00-09:00", Window{}, "not a time HH:MM"},
		{"18:60-19:00", Window{}, "outside 00:00–24:00"},
		{"18:00-24:01", Window{}, "outside 00:00–24:00"},
		{"19:00-18:00", Window{}, "ends before it starts"},
	}
	for _, tc := range tests {
		got, err := ParseWindow(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) || !strings.HasPrefix(err.Error(), "household: window ") {
				t.Errorf("%q: %v, %v; want an error containing %q", tc.in, got, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%q: %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
}

// FuzzParseWindow: whatever ParseWindow accepts is digits, colons, one
// dash and spaces, and its canonical form parses back to the same window.
func FuzzParseWindow(f *testing.F) {
	for _, s := range []string{"18:00-23:00", " 6:00 - 09:15 ", "00:00-24:00", "18:00xx-23:00", "5:30-7:30", "23:59-24:00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		w, err := ParseWindow(s)
		if err != nil {
			return
		}
		other := func(r rune) bool { return !unicode.IsSpace(r) && !strings.ContainsRune("0123456789:-", r) }
		if strings.IndexFunc(s, other) >= 0 || strings.Count(s, "-") != 1 {
			t.Fatalf("%q accepted as %v", s, w)
		}
		if w.From < 0 || w.From >= w.To || w.To > 1440 {
			t.Fatalf("%q gave %v", s, w)
		}
		if back, err := ParseWindow(w.String()); err != nil || back != w {
			t.Fatalf("%q gave %v, which reads back as %v, %v", s, w, back, err)
		}
	})
}
