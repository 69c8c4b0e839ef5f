package tariff

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io"
	"path"
	"slices"
	"sort"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

//go:embed schedules/*.yaml
var builtin embed.FS

// DefaultID is the id of the default built-in schedule (Karnataka LT-2(a),
// FY2025-26).
const DefaultID = "kerc-lt2a-fy2025-26"

// Limits that keep every product in int64 and reject absurd schedules.
const (
	maxRate       = 1_000_000 // paise per unit: Rs 10,000
	maxSlabs      = 32
	maxBands      = 24
	maxSurcharges = 16
	maxDueDays    = 366
)

// Tax base components, as named in a schedule's tax.base list.
const (
	BaseFixed     = "fixed"
	BaseEnergy    = "energy"
	BaseToU       = "tou"
	BaseSurcharge = "surcharge"
)

// Rounding rules for a bill's total.
const (
	RoundNone         = "none"
	RoundNearestRupee = "nearest-rupee"
)

// Schedule is one versioned tariff schedule.
type Schedule struct {
	ID          string      `yaml:"id"`
	Version     int         `yaml:"version"`
	Name        string      `yaml:"name"`
	Category    string      `yaml:"category"`
	Source      string      `yaml:"source"`
	ValidFrom   string      `yaml:"valid_from"`
	ValidTo     string      `yaml:"valid_to"`
	FixedCharge FixedCharge `yaml:"fixed_charge"`
	Energy      []Slab      `yaml:"energy_slabs"`
	TimeOfUse   []Band      `yaml:"time_of_use,omitempty"`
	Surcharges  []Surcharge `yaml:"surcharges,omitempty"`
	Tax         Tax         `yaml:"tax"`
	Rounding    string      `yaml:"rounding"`
	DueDays     int         `yaml:"due_days"`
}

// FixedCharge is a monthly charge per kW of sanctioned load.
type FixedCharge struct {
	PaisePerKWMonth int64  `yaml:"paise_per_kw_month"`
	PartKW          string `yaml:"part_kw"` // "ceil" or "exact"
}

// Slab is one energy slab: units up to UpToKWh (nil: all remaining units)
// at PaisePerKWh.
type Slab struct {
	UpToKWh     *int64 `yaml:"up_to_kwh,omitempty"`
	PaisePerKWh int64  `yaml:"paise_per_kwh"`
}

// Band is a time-of-use band with a multiplier on the energy rate.
type Band struct {
	Name         string `yaml:"name"`
	Hours        string `yaml:"hours"`
	MultiplierBP int64  `yaml:"multiplier_bp"`
}

// Surcharge is a per-unit surcharge.
type Surcharge struct {
	Name        string `yaml:"name"`
	PaisePerKWh int64  `yaml:"paise_per_kwh"`
}

// Tax is a percentage tax on the listed base components.
type Tax struct {
	Name   string   `yaml:"name"`
	RateBP int64    `yaml:"rate_bp"`
	Base   []string `yaml:"base"`
}

// ErrInvalid is wrapped by every schedule validation error.
var ErrInvalid = errors.New("tariff: invalid schedule")

// Parse decodes and validates one YAML schedule. Unknown fields are errors,
// so a misspelt key is reported rather than silently ignored.
func Parse(data []byte) (*Schedule, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var s Schedule
	if err := dec.Decode(&s); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%w: empty document; fix: provide a YAML schedule (see %s)", ErrInvalid, DefaultID)
		}
		return nil, fmt.Errorf("%w: %v; fix: correct the YAML (field names are listed in docs/billing.md)", ErrInvalid, err)
	}
	if err := s.Validate(); err != nil {
		return nil, err
	}
	s.normalize()
	return &s, nil
}

// normalize makes empty lists nil, so equal schedules compare equal however
// their YAML spelt an empty list.
func (s *Schedule) normalize() {
	if len(s.TimeOfUse) == 0 {
		s.TimeOfUse = nil
	}
	if len(s.Surcharges) == 0 {
		s.Surcharges = nil
	}
	if len(s.Tax.Base) == 0 {
		s.Tax.Base = nil
	}
}

// Builtin lists the ids of the embedded schedules, sorted.
func Builtin() []string {
	entries, err := builtin.ReadDir("schedules")
	if err != nil {
		panic("tariff: embedded schedules missing: " + err.Error()) // build defect
	}
	var ids []string
	for _, e := range entries {
		ids = append(ids, strings.TrimSuffix(e.Name(), ".yaml"))
	}
	sort.Strings(ids)
	return ids
}

// Load returns the embedded schedule with the given id.
func Load(id string) (*Schedule, error) {
	data, err := builtin.ReadFile(path.Join("schedules", id+".yaml"))
	if err != nil {
		return nil, fmt.Errorf("tariff: no built-in schedule %q; fix: use one of %v or load a file", id, Builtin())
	}
	return Parse(data)
}

// Validate checks a schedule and reports the first problem with its fix.
func (s *Schedule) Validate() error {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w %q: %s", ErrInvalid, s.ID, fmt.Sprintf(format, a...))
	}
	if s.ID == "" {
		return fmt.Errorf("%w: missing id; fix: add `id: <name>`", ErrInvalid)
	}
	if s.Version < 1 {
		return bad("version %d; fix: set version to 1 or more and raise it on every change", s.Version)
	}
	if s.Source == "" {
		return bad("missing source; fix: cite the tariff order the rates come from")
	}
	from, err1 := time.Parse(time.DateOnly, s.ValidFrom)
	to, err2 := time.Parse(time.DateOnly, s.ValidTo)
	if err1 != nil || err2 != nil || to.Before(from) {
		return bad("validity %q to %q; fix: give valid_from and valid_to as YYYY-MM-DD, from not after to", s.ValidFrom, s.ValidTo)
	}
	if r := s.FixedCharge.PaisePerKWMonth; r < 0 || r > maxRate {
		return bad("fixed_charge.paise_per_kw_month %d; fix: use 0..%d paise", r, maxRate)
	}
	if p := s.FixedCharge.PartKW; p != "ceil" && p != "exact" {
		return bad("fixed_charge.part_kw %q; fix: use ceil or exact", p)
	}
	if err := s.validateSlabs(bad); err != nil {
		return err
	}
	if err := s.validateBands(bad); err != nil {
		return err
	}
	if len(s.Surcharges) > maxSurcharges {
		return bad("%d surcharges; fix: at most %d", len(s.Surcharges), maxSurcharges)
	}
	for i, c := range s.Surcharges {
		if c.Name == "" || c.PaisePerKWh < 0 || c.PaisePerKWh > maxRate {
			return bad("surcharge %d (%q, %d paise/kWh); fix: give a name and 0..%d paise", i+1, c.Name, c.PaisePerKWh, maxRate)
		}
	}
	if s.Tax.RateBP < 0 || s.Tax.RateBP > 10000 {
		return bad("tax.rate_bp %d; fix: use 0..10000 basis points (900 = 9%%)", s.Tax.RateBP)
	}
	for _, b := range s.Tax.Base {
		if !slices.Contains([]string{BaseFixed, BaseEnergy, BaseToU, BaseSurcharge}, b) {
			return bad("tax.base %q; fix: use fixed, energy, tou or surcharge", b)
		}
	}
	if s.Rounding != RoundNone && s.Rounding != RoundNearestRupee {
		return bad("rounding %q; fix: use %s or %s", s.Rounding, RoundNearestRupee, RoundNone)
	}
	if s.DueDays < 1 || s.DueDays > maxDueDays {
		return bad("due_days %d; fix: use 1..%d", s.DueDays, maxDueDays)
	}
	return nil
}

func (s *Schedule) validateSlabs(bad func(string, ...any) error) error {
	if len(s.Energy) == 0 || len(s.Energy) > maxSlabs {
		return bad("%d energy slabs; fix: give 1..%d", len(s.Energy), maxSlabs)
	}
	var prev int64
	for i, sl := range s.Energy {
		if sl.PaisePerKWh < 0 || sl.PaisePerKWh > maxRate {
			return bad("energy slab %d rate %d; fix: use 0..%d paise/kWh", i+1, sl.PaisePerKWh, maxRate)
		}
		last := i == len(s.Energy)-1
		switch {
		case last && sl.UpToKWh != nil:
			return bad("last energy slab has up_to_kwh %d; fix: leave it out so the last slab covers all remaining units", *sl.UpToKWh)
		case !last && sl.UpToKWh == nil:
			return bad("energy slab %d has no up_to_kwh; fix: only the last slab may be open-ended", i+1)
		case !last && (*sl.UpToKWh <= prev || *sl.UpToKWh > 1_000_000_000):
			return bad("energy slab %d up_to_kwh %d; fix: slab limits must increase (previous %d) and stay below 10^9", i+1, *sl.UpToKWh, prev)
		}
		if !last {
			prev = *sl.UpToKWh
		}
	}
	return nil
}

func (s *Schedule) validateBands(bad func(string, ...any) error) error {
	if len(s.TimeOfUse) > maxBands {
		return bad("%d time-of-use bands; fix: at most %d", len(s.TimeOfUse), maxBands)
	}
	seen := map[string]bool{}
	for i, b := range s.TimeOfUse {
		if b.Name == "" || seen[b.Name] {
			return bad("time-of-use band %d name %q; fix: give each band a distinct name", i+1, b.Name)
		}
		seen[b.Name] = true
		if b.MultiplierBP < 0 || b.MultiplierBP > 100000 {
			return bad("band %q multiplier_bp %d; fix: use 0..100000 (10000 = 100%%)", b.Name, b.MultiplierBP)
		}
	}
	if len(s.TimeOfUse) == 0 && slices.Contains(s.Tax.Base, BaseToU) {
		return bad("tax.base lists tou but there are no time-of-use bands; fix: remove tou from the base")
	}
	return nil
}

// Marshal encodes the schedule as YAML.
func (s *Schedule) Marshal() ([]byte, error) { return yaml.Marshal(s) }

// Ref is the "id@vN" form that bills record to trace their tariff.
func (s *Schedule) Ref() string { return fmt.Sprintf("%s@v%d", s.ID, s.Version) }
