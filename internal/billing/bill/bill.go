package bill

import (
	"errors"
	"fmt"
	"math/big"
	"regexp"
	"sort"
	"time"

	"github.com/ppnet/ppnet/internal/billing/customer"
	"github.com/ppnet/ppnet/internal/billing/tariff"
)

// MeterTotal is one meter's total in one released result.
type MeterTotal struct {
	MeterID       string `json:"meter_id"`
	Wh            int64  `json:"wh"`
	RoundsCovered int    `json:"rounds_covered"`
	RoundsMissing int    `json:"rounds_missing"`
}

// Totals is one released result of a per-producer rule for a period.
type Totals struct {
	RuleID     string       `json:"rule_id"`
	Band       string       `json:"band,omitempty"` // time-of-use band; "" for all rounds
	FirstRound uint64       `json:"first_round"`
	LastRound  uint64       `json:"last_round"`
	Digest     string       `json:"digest"` // digest of the covered (producer, round) set
	Meters     []MeterTotal `json:"meters"`
}

// Trace records where one part of a bill's usage came from.
type Trace struct {
	RuleID        string `json:"rule_id"`
	Band          string `json:"band,omitempty"`
	FirstRound    uint64 `json:"first_round"`
	LastRound     uint64 `json:"last_round"`
	Digest        string `json:"digest"`
	RoundsCovered int    `json:"rounds_covered"`
	RoundsMissing int    `json:"rounds_missing"`
	MeasuredWh    int64  `json:"measured_wh"`
	EstimatedWh   int64  `json:"estimated_wh"` // added for missing rounds by the policy
}

// Status of a bill.
const (
	StatusIssued = "issued"
	StatusHeld   = "held"
)

// Bill is one immutable revision of a customer's bill for a period.
type Bill struct {
	CustomerID  string          `json:"customer_id"`
	Period      string          `json:"period"` // YYYY-MM
	Revision    int             `json:"revision"`
	Customer    customer.Masked `json:"customer"` // masked snapshot at issue
	Status      string          `json:"status"`
	HoldReason  string          `json:"hold_reason,omitempty"`
	IssuedAt    time.Time       `json:"issued_at"`
	DueDate     string          `json:"due_date,omitempty"` // YYYY-MM-DD, India time
	Estimated   bool            `json:"estimated"`
	MeasuredWh  int64           `json:"measured_wh"`
	EstimatedWh int64           `json:"estimated_wh"`
	BilledWh    int64           `json:"billed_wh"`
	Sources     []Trace         `json:"sources"`
	Charges     tariff.Charges  `json:"charges"`
	TotalPaise  int64           `json:"total_paise"`
	Supersedes  int             `json:"supersedes,omitempty"` // previous revision, 0 if none
	Correction  string          `json:"correction,omitempty"` // why this revision was issued
}

// ID is the bill's stable identifier, "customer/period/rN".
func (b Bill) ID() string { return fmt.Sprintf("%s/%s/r%d", b.CustomerID, b.Period, b.Revision) }

// Policy is the missing-data policy.
type Policy struct {
	// MinCoverage is the least fraction of rounds covered, in basis points,
	// for which missing rounds are estimated; below it the bill is held.
	// Zero means the default, 7500 (75%).
	MinCoverageBP int64
}

func (p Policy) min() int64 {
	if p.MinCoverageBP <= 0 {
		return 7500
	}
	return p.MinCoverageBP
}

// ErrInput is wrapped by errors about malformed totals.
var ErrInput = errors.New("bill: invalid totals")

var periodPattern = regexp.MustCompile(`^[0-9]{4}-(0[1-9]|1[0-2])$`)

// India is Indian Standard Time, in which due dates are stated.
var India = time.FixedZone("IST", 5*3600+1800)

// CheckPeriod checks a billing month in the form YYYY-MM.
func CheckPeriod(period string) error {
	if !periodPattern.MatchString(period) {
		return fmt.Errorf("%w: period %q; fix: give the billing month as YYYY-MM", ErrInput, period)
	}
	return nil
}

// Compose prices one customer's period from the sources that carry their
// meter. It never fails for missing data: that yields a held bill. A period
// outside the schedule's validity (valid_from … valid_to) is held too, with
// the schedule and both date ranges in the reason.
func Compose(c customer.Masked, s *tariff.Schedule, period string, sources []Totals, p Policy, now time.Time) (Bill, error) {
	if err := CheckPeriod(period); err != nil {
		return Bill{}, err
	}
	b := Bill{CustomerID: c.ID, Period: period, Revision: 1, Customer: c, IssuedAt: now.UTC()}
	hold := func(reason string) (Bill, error) {
		b.Status, b.HoldReason, b.Charges, b.TotalPaise = StatusHeld, reason, tariff.Charges{Schedule: s.Ref()}, 0
		return b, nil
	}
	bands := len(s.TimeOfUse) > 0
	bandWh := map[string]int64{}
	var holdReasons []string
	for _, t := range sources {
		if err := t.check(); err != nil {
			return Bill{}, err
		}
		m, ok := t.meter(c.MeterID)
		if !ok {
			continue
		}
		tr := Trace{RuleID: t.RuleID, Band: t.Band, FirstRound: t.FirstRound, LastRound: t.LastRound, Digest: t.Digest,
			RoundsCovered: m.RoundsCovered, RoundsMissing: m.RoundsMissing, MeasuredWh: m.Wh}
		used := bands == (t.Band != "") // the sources this schedule bills from
		est, reason := estimate(m, p)
		if used && reason != "" {
			holdReasons = append(holdReasons, fmt.Sprintf("%s (rule %s%s)", reason, t.RuleID, bandNote(t.Band)))
		}
		if used {
			tr.EstimatedWh = est
		}
		b.Sources = append(b.Sources, tr)
		if used {
			b.MeasuredWh += m.Wh
			b.EstimatedWh += est
			if bands {
				if _, dup := bandWh[t.Band]; dup {
					return Bill{}, fmt.Errorf("%w: band %q given twice for meter %s; fix: send one result per band", ErrInput, t.Band, c.MeterID)
				}
				bandWh[t.Band] = m.Wh + est
			}
		}
	}
	sort.Slice(b.Sources, func(i, j int) bool { return b.Sources[i].Band < b.Sources[j].Band })
	b.BilledWh = b.MeasuredWh + b.EstimatedWh
	b.Estimated = b.EstimatedWh != 0
	outside := s.CheckPeriod(period)
	switch {
	case outside != nil:
		return hold(outside.Error())
	case len(holdReasons) > 0:
		return hold(fmt.Sprint(holdReasons))
	case bands && len(bandWh) != len(s.TimeOfUse):
		return hold(fmt.Sprintf("time-of-use schedule %s needs %d band totals for meter %s, got %d", s.Ref(), len(s.TimeOfUse), c.MeterID, len(bandWh)))
	case !bands && !b.hasAllDay():
		return hold(fmt.Sprintf("no total for meter %s in period %s", c.MeterID, period))
	}
	if bands {
		if err := b.crossCheck(); err != nil {
			return hold(err.Error())
		}
	} else {
		bandWh = nil
	}
	ch, err := s.Compute(tariff.Usage{Wh: b.BilledWh, BandWh: bandWh, SanctionedLoadW: c.SanctionedLoadW})
	if err != nil {
		return Bill{}, fmt.Errorf("bill: customer %s: %w", c.ID, err)
	}
	b.Status, b.Charges, b.TotalPaise = StatusIssued, ch, ch.TotalPaise
	b.DueDate = now.In(India).AddDate(0, 0, s.DueDays).Format(time.DateOnly)
	return b, nil
}

func (b *Bill) hasAllDay() bool {
	for _, t := range b.Sources {
		if t.Band == "" {
			return true
		}
	}
	return false
}

// crossCheck compares fully covered band totals with a fully covered
// all-rounds total for the same meter, when both were released.
func (b *Bill) crossCheck() error {
	var all, sum int64
	haveAll, complete := false, true
	for _, t := range b.Sources {
		if t.RoundsMissing != 0 {
			complete = false
		}
		if t.Band == "" {
			all, haveAll = t.MeasuredWh, true
		} else {
			sum += t.MeasuredWh
		}
	}
	if haveAll && complete && all != sum {
		return fmt.Errorf("band totals (%d Wh) disagree with the all-rounds total (%d Wh)", sum, all)
	}
	return nil
}

// estimate applies the missing-data policy to one meter's total: the Wh to
// add for missing rounds, or a reason to hold.
func estimate(m MeterTotal, p Policy) (int64, string) {
	all := int64(m.RoundsCovered + m.RoundsMissing)
	switch {
	case m.RoundsMissing == 0:
		return 0, ""
	case m.RoundsCovered == 0:
		return 0, fmt.Sprintf("no rounds covered of %d", all)
	case int64(m.RoundsCovered)*10000 < p.min()*all:
		return 0, fmt.Sprintf("only %d of %d rounds covered, below the %d.%02d%% minimum", m.RoundsCovered, all, p.min()/100, p.min()%100)
	}
	num := new(big.Int).Mul(big.NewInt(m.Wh), big.NewInt(int64(m.RoundsMissing)))
	q, r := new(big.Int).QuoRem(num, big.NewInt(int64(m.RoundsCovered)), new(big.Int))
	if r.Lsh(r, 1).Cmp(big.NewInt(int64(m.RoundsCovered))) >= 0 {
		q.Add(q, big.NewInt(1))
	}
	return q.Int64(), ""
}

func (t *Totals) check() error {
	if t.RuleID == "" || t.Digest == "" || t.LastRound < t.FirstRound {
		return fmt.Errorf("%w: rule %q window %d..%d digest %q; fix: pass the rule id, window and digest the consumer recovered", ErrInput, t.RuleID, t.FirstRound, t.LastRound, t.Digest)
	}
	window := t.LastRound - t.FirstRound + 1
	for _, m := range t.Meters {
		if m.Wh < 0 || m.RoundsCovered < 0 || m.RoundsMissing < 0 || uint64(m.RoundsCovered+m.RoundsMissing) > window {
			return fmt.Errorf("%w: rule %s meter %s: %d Wh, %d covered + %d missing rounds in a %d-round window; fix: coverage must fit the window and energy be non-negative",
				ErrInput, t.RuleID, m.MeterID, m.Wh, m.RoundsCovered, m.RoundsMissing, window)
		}
		if m.Wh > 1_000_000_000_000 {
			return fmt.Errorf("%w: rule %s meter %s: %d Wh exceeds 1 TWh; fix: check the units (Wh)", ErrInput, t.RuleID, m.MeterID, m.Wh)
		}
	}
	return nil
}

func (t *Totals) meter(id string) (MeterTotal, bool) {
	for _, m := range t.Meters {
		if m.MeterID == id {
			return m, true
		}
	}
	return MeterTotal{}, false
}

func bandNote(b string) string {
	if b == "" {
		return ""
	}
	return ", band " + b
}
