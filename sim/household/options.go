package household

import (
	"fmt"
	"time"
)

// MaxAppliances is the largest number of appliance types a model may have:
// one bit each in [Reading.On].
const MaxAppliances = 64

// Options configure a population of households. The zero value is not
// valid; start from [DefaultOptions] or [LoadOptions].
type Options struct {
	// Interval is the reading interval: a whole number of minutes, from
	// 1 minute to 24 hours. Default 15 minutes.
	Interval time.Duration `yaml:"interval"`
	// Start is day 0: readings are numbered from this instant, which must
	// be a UTC midnight. It decides weekdays, weekends and months.
	Start time.Time `yaml:"start"`
	// Occupants[i] is the relative weight of households with i+1 residents.
	Occupants []float64 `yaml:"occupants"`
	// Persistence ρ ∈ [0, 1) is the chance a resident keeps their state over
	// a 10-minute step regardless of the profile.
	Persistence float64 `yaml:"persistence"`
	// Weekday[h] and Weekend[h] (24 values each, in [0, 1]) are the
	// probability that a resident is at home and awake in hour h.
	Weekday []float64 `yaml:"weekday"`
	Weekend []float64 `yaml:"weekend"`
	// Appliances are the appliance types a household may own.
	Appliances []Appliance `yaml:"appliances"`
}

// Appliance describes one appliance type in the RAMP manner.
type Appliance struct {
	// Name identifies the appliance in ground truth and CSV files.
	Name string `yaml:"name"`
	// PowerW is the rated power of one unit while on, in watts.
	PowerW uint32 `yaml:"power_w"`
	// StandbyW is the power of an owned unit while off, in watts.
	StandbyW uint32 `yaml:"standby_w,omitempty"`
	// Units is how many of it an owning household has (default 1).
	Units int `yaml:"units"`
	// Ownership is the fraction of households owning it, in [0, 1].
	Ownership float64 `yaml:"ownership"`
	// DailyProbability is the chance it is used at all on a given day, in
	// [0, 1]; zero means 1 (used every day).
	DailyProbability float64 `yaml:"daily_probability,omitempty"`
	// Windows are the times of day it may be switched on.
	Windows []Window `yaml:"windows,omitempty"`
	// DailyMinutes is the mean use time per unit per day, in minutes.
	DailyMinutes float64 `yaml:"daily_minutes,omitempty"`
	// Variability v ∈ [0, 1]: the day's use time is uniform in
	// DailyMinutes·(1 ± v).
	Variability float64 `yaml:"variability,omitempty"`
	// CycleMinutes is the shortest a switch-on lasts; each lasts between
	// one and two cycle lengths (or what is left of the day's use time).
	CycleMinutes int `yaml:"cycle_minutes,omitempty"`
	// NeedsOccupant restricts switch-ons to minutes with an active occupant.
	NeedsOccupant bool `yaml:"needs_occupant,omitempty"`
	// Months (1–12) it is used in; empty means all year.
	Months []int `yaml:"months,omitempty"`
	// Cycling, if set, makes it a thermostat appliance running on/off
	// cycles all day; Windows, DailyMinutes and CycleMinutes are then unused.
	Cycling *Cycling `yaml:"cycling,omitempty"`
}

// Cycling is the duty cycle of a thermostat appliance.
type Cycling struct {
	// OnMinutes and OffMinutes are the mean lengths of the on and off
	// phases; each phase varies by ±20%.
	OnMinutes  int `yaml:"on_minutes"`
	OffMinutes int `yaml:"off_minutes"`
}

// Window is a time of day [From, To) in minutes after midnight, 0 ≤ From <
// To ≤ 1440. In YAML it is written "HH:MM-HH:MM" (end "24:00" allowed).
type Window struct{ From, To int }

// String formats the window as "HH:MM-HH:MM".
func (w Window) String() string {
	return fmt.Sprintf("%02d:%02d-%02d:%02d", w.From/60, w.From%60, w.To/60, w.To%60)
}

// DefaultOptions returns the model of an Indian urban household: 15-minute
// readings from Monday 5 January 2026, 1–6 residents (mean ≈ 3.9), and ten
// appliance types with typical ratings (fan 75 W, tube light 40 W, fridge
// 150 W cycling, geyser 2000 W, iron 750 W, washing machine 400 W, TV
// 100 W, mixer 500 W, AC 1500 W, pump 740 W). Fans and AC are seasonal
// (March–October, April–September), the geyser runs November–March.
func DefaultOptions() *Options {
	return &Options{
		Interval:    15 * time.Minute,
		Start:       time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC),
		Occupants:   []float64{0.06, 0.12, 0.18, 0.30, 0.20, 0.14},
		Persistence: 0.85,
		Weekday: []float64{
			0.02, 0.02, 0.02, 0.02, 0.05, 0.25, 0.70, 0.85, 0.75, 0.50, 0.35, 0.35,
			0.40, 0.40, 0.35, 0.35, 0.45, 0.60, 0.80, 0.90, 0.90, 0.80, 0.50, 0.15,
		},
		Weekend: []float64{
			0.05, 0.03, 0.02, 0.02, 0.03, 0.10, 0.35, 0.65, 0.85, 0.85, 0.80, 0.75,
			0.75, 0.70, 0.60, 0.60, 0.65, 0.70, 0.80, 0.90, 0.90, 0.85, 0.60, 0.25,
		},
		Appliances: []Appliance{
			{Name: "ceiling_fan", PowerW: 75, Units: 3, Ownership: 0.95,
				Windows:      []Window{{0, 360}, {720, 960}, {1140, 1440}},
				DailyMinutes: 420, Variability: 0.3, CycleMinutes: 60, Months: []int{3, 4, 5, 6, 7, 8, 9, 10}},
			{Name: "tube_light", PowerW: 40, Units: 4, Ownership: 1,
				Windows:      []Window{{330, 450}, {1080, 1410}},
				DailyMinutes: 180, Variability: 0.3, CycleMinutes: 30, NeedsOccupant: true},
			{Name: "fridge", PowerW: 150, Units: 1, Ownership: 0.75,
				Cycling: &Cycling{OnMinutes: 12, OffMinutes: 24}},
			{Name: "geyser", PowerW: 2000, Units: 1, Ownership: 0.4,
				Windows:      []Window{{330, 540}, {1080, 1260}},
				DailyMinutes: 30, Variability: 0.4, CycleMinutes: 10, NeedsOccupant: true, Months: []int{11, 12, 1, 2, 3}},
			{Name: "iron", PowerW: 750, Units: 1, Ownership: 0.8, DailyProbability: 0.5,
				Windows:      []Window{{420, 600}, {1020, 1200}},
				DailyMinutes: 15, Variability: 0.5, CycleMinutes: 5, NeedsOccupant: true},
			{Name: "washing_machine", PowerW: 400, StandbyW: 2, Units: 1, Ownership: 0.5, DailyProbability: 0.4,
				Windows:      []Window{{420, 720}},
				DailyMinutes: 60, Variability: 0.2, CycleMinutes: 45, NeedsOccupant: true},
			{Name: "tv", PowerW: 100, StandbyW: 3, Units: 1, Ownership: 0.9,
				Windows:      []Window{{420, 600}, {720, 900}, {1080, 1410}},
				DailyMinutes: 240, Variability: 0.4, CycleMinutes: 30, NeedsOccupant: true},
			{Name: "mixer", PowerW: 500, Units: 1, Ownership: 0.85,
				Windows:      []Window{{360, 540}, {690, 810}, {1110, 1260}},
				DailyMinutes: 10, Variability: 0.5, CycleMinutes: 2, NeedsOccupant: true},
			{Name: "ac", PowerW: 1500, StandbyW: 2, Units: 1, Ownership: 0.15,
				Windows:      []Window{{0, 360}, {780, 1020}, {1320, 1440}},
				DailyMinutes: 360, Variability: 0.3, CycleMinutes: 60, Months: []int{4, 5, 6, 7, 8, 9}},
			{Name: "water_pump", PowerW: 740, Units: 1, Ownership: 0.3,
				Windows:      []Window{{300, 480}, {1020, 1140}},
				DailyMinutes: 30, Variability: 0.3, CycleMinutes: 15},
		},
	}
}

// Validate checks every field and returns the first problem found, naming
// the field, the value and the fix.
func (o *Options) Validate() error {
	if o.Interval < time.Minute || o.Interval > 24*time.Hour || o.Interval%time.Minute != 0 {
		return fmt.Errorf("household: interval %v must be a whole number of minutes between 1m and 24h (e.g. 15m)", o.Interval)
	}
	if s := o.Start; s.IsZero() || s.Location() != time.UTC || s.Hour() != 0 || s.Minute() != 0 || s.Second() != 0 || s.Nanosecond() != 0 {
		return fmt.Errorf("household: start %v must be a UTC midnight, e.g. 2026-01-05", o.Start)
	}
	if len(o.Occupants) == 0 || len(o.Occupants) > 16 {
		return fmt.Errorf("household: occupants has %d weights; give 1 to 16 (weight of 1, 2, … residents)", len(o.Occupants))
	}
	var sum float64
	for i, w := range o.Occupants {
		if !(w >= 0) || w > 1e9 {
			return fmt.Errorf("household: occupants[%d] = %v; weights must be finite and ≥ 0", i, w)
		}
		sum += w
	}
	if sum <= 0 {
		return fmt.Errorf("household: occupants weights sum to 0; give at least one positive weight")
	}
	if !(o.Persistence >= 0 && o.Persistence < 1) {
		return fmt.Errorf("household: persistence %v must be in [0, 1)", o.Persistence)
	}
	for _, p := range []struct {
		name string
		v    []float64
	}{{"weekday", o.Weekday}, {"weekend", o.Weekend}} {
		if len(p.v) != 24 {
			return fmt.Errorf("household: %s profile has %d values; give 24 (one per hour)", p.name, len(p.v))
		}
		for h, x := range p.v {
			if !(x >= 0 && x <= 1) {
				return fmt.Errorf("household: %s[%d] = %v; probabilities must be in [0, 1]", p.name, h, x)
			}
		}
	}
	if len(o.Appliances) > MaxAppliances {
		return fmt.Errorf("household: %d appliances; at most %d are supported", len(o.Appliances), MaxAppliances)
	}
	seen := make(map[string]bool, len(o.Appliances))
	for i := range o.Appliances {
		a := &o.Appliances[i]
		if err := a.validate(); err != nil {
			return fmt.Errorf("household: appliance %d (%q): %w", i, a.Name, err)
		}
		if seen[a.Name] {
			return fmt.Errorf("household: appliance name %q appears twice; names must be unique", a.Name)
		}
		seen[a.Name] = true
	}
	return nil
}

func (a *Appliance) validate() error {
	if a.Name == "" {
		return fmt.Errorf("name is empty; give every appliance a name")
	}
	for _, r := range a.Name {
		if !(r == '_' || r == '-' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return fmt.Errorf("name may use only letters, digits, '_' and '-'")
		}
	}
	if a.PowerW == 0 || a.PowerW > 100000 {
		return fmt.Errorf("power_w %d must be between 1 and 100000", a.PowerW)
	}
	if a.StandbyW > a.PowerW {
		return fmt.Errorf("standby_w %d exceeds power_w %d", a.StandbyW, a.PowerW)
	}
	if a.Units < 0 || a.Units > 32 {
		return fmt.Errorf("units %d must be between 1 and 32 (0 means 1)", a.Units)
	}
	if !(a.Ownership >= 0 && a.Ownership <= 1) {
		return fmt.Errorf("ownership %v must be in [0, 1]", a.Ownership)
	}
	if !(a.DailyProbability >= 0 && a.DailyProbability <= 1) {
		return fmt.Errorf("daily_probability %v must be in [0, 1] (0 means every day)", a.DailyProbability)
	}
	for _, m := range a.Months {
		if m < 1 || m > 12 {
			return fmt.Errorf("month %d must be 1–12", m)
		}
	}
	if c := a.Cycling; c != nil {
		if c.OnMinutes < 1 || c.OffMinutes < 1 || c.OnMinutes+c.OffMinutes > 1440 {
			return fmt.Errorf("cycling on_minutes %d and off_minutes %d must be ≥ 1 and together at most 1440", c.OnMinutes, c.OffMinutes)
		}
		return nil
	}
	if len(a.Windows) == 0 {
		return fmt.Errorf("no windows; give use windows like \"18:00-23:00\" (or cycling for a thermostat appliance)")
	}
	for i, w := range a.Windows {
		if w.From < 0 || w.To > 1440 || w.From >= w.To {
			return fmt.Errorf("window %d (%v) must satisfy 00:00 ≤ from < to ≤ 24:00", i, w)
		}
		for _, v := range a.Windows[:i] {
			if w.From < v.To && v.From < w.To {
				return fmt.Errorf("windows %v and %v overlap; merge them", v, w)
			}
		}
	}
	if !(a.DailyMinutes >= 0 && a.DailyMinutes <= 1440) {
		return fmt.Errorf("daily_minutes %v must be in [0, 1440]", a.DailyMinutes)
	}
	if !(a.Variability >= 0 && a.Variability <= 1) {
		return fmt.Errorf("variability %v must be in [0, 1]", a.Variability)
	}
	if a.CycleMinutes < 1 || a.CycleMinutes > 1440 {
		return fmt.Errorf("cycle_minutes %d must be between 1 and 1440", a.CycleMinutes)
	}
	return nil
}
