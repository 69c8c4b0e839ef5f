package tariff

import (
	"errors"
	"fmt"
	"time"
)

// ErrOutsideValidity is wrapped by the error CheckPeriod returns for a
// billing period the schedule does not cover.
var ErrOutsideValidity = errors.New("tariff: period outside the schedule's validity")

// Validity returns the first and last day the schedule applies to
// (valid_from, valid_to), as dates at midnight UTC. Parse has checked them.
func (s *Schedule) Validity() (from, to time.Time, err error) {
	from, err1 := time.Parse(time.DateOnly, s.ValidFrom)
	to, err2 := time.Parse(time.DateOnly, s.ValidTo)
	if err1 != nil || err2 != nil {
		return time.Time{}, time.Time{}, fmt.Errorf("%w %q: validity %q to %q; fix: give valid_from and valid_to as YYYY-MM-DD", ErrInvalid, s.ID, s.ValidFrom, s.ValidTo)
	}
	return from, to, nil
}

// CheckPeriod reports whether the billing month period (YYYY-MM) lies
// wholly inside the schedule's validity: its first day on or after
// valid_from and its last day on or before valid_to. A month the schedule
// only partly covers is refused too, since the engine does not split a bill
// between two schedules.
func (s *Schedule) CheckPeriod(period string) error {
	first, err := time.Parse("2006-01", period)
	if err != nil {
		return fmt.Errorf("tariff: period %q; fix: give the billing month as YYYY-MM", period)
	}
	last := first.AddDate(0, 1, -1)
	from, to, err := s.Validity()
	if err != nil {
		return err
	}
	if first.Before(from) || last.After(to) {
		return fmt.Errorf("%w: schedule %s is valid from %s to %s, period %s runs from %s to %s; fix: bill this period on the schedule in force then (a new schedule, or a version with valid dates from the tariff order)",
			ErrOutsideValidity, s.Ref(), s.ValidFrom, s.ValidTo, period, first.Format(time.DateOnly), last.Format(time.DateOnly))
	}
	return nil
}
