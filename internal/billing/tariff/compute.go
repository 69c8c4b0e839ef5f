package tariff

import (
	"errors"
	"fmt"
	"math/big"
	"slices"
)

// Line kinds on a bill.
const (
	KindFixed     = "fixed"
	KindEnergy    = "energy"
	KindToU       = "tou"
	KindSurcharge = "surcharge"
	KindTax       = "tax"
	KindRounding  = "rounding"
)

// maxWh bounds the usage one bill may carry (10^12 Wh = 1 TWh), which keeps
// Wh·rate inside int64.
const maxWh = 1_000_000_000_000

// ErrUsage is wrapped by errors about the usage handed to Compute.
var ErrUsage = errors.New("tariff: invalid usage")

// Usage is what one customer consumed in one billing month.
type Usage struct {
	Wh              int64            // total energy, Wh
	BandWh          map[string]int64 // per time-of-use band, Wh; required iff the schedule has bands
	SanctionedLoadW int64            // sanctioned load, W
}

// Line is one charge line of a bill, in paise.
type Line struct {
	Kind        string `json:"kind"`
	Label       string `json:"label"`
	Quantity    string `json:"quantity"`     // human-readable basis, e.g. "312.456 kWh"
	RatePaise   int64  `json:"rate_paise"`   // per unit of the basis; 0 where not a simple rate
	AmountPaise int64  `json:"amount_paise"` // may be negative (off-peak credit, rounding)
}

// Charges is the computed breakdown of a bill.
type Charges struct {
	Schedule    string `json:"schedule"` // id@vN
	Lines       []Line `json:"lines"`
	TaxBase     int64  `json:"tax_base_paise"`
	TotalPaise  int64  `json:"total_paise"`
	BeforeRound int64  `json:"before_round_paise"`
}

// Compute prices one month of usage under the schedule.
func (s *Schedule) Compute(u Usage) (Charges, error) {
	if err := s.checkUsage(u); err != nil {
		return Charges{}, err
	}
	c := Charges{Schedule: s.Ref()}
	base := int64(0)
	add := func(l Line, kindInBase string) {
		c.Lines = append(c.Lines, l)
		if slices.Contains(s.Tax.Base, kindInBase) {
			base += l.AmountPaise
		}
	}

	kw := u.SanctionedLoadW / 1000
	kwText := fmt.Sprintf("%d kW", kw)
	fixed := kw * s.FixedCharge.PaisePerKWMonth
	if rem := u.SanctionedLoadW % 1000; rem != 0 {
		if s.FixedCharge.PartKW == "ceil" {
			kw++
			kwText = fmt.Sprintf("%d kW (of %s)", kw, Milli(u.SanctionedLoadW))
			fixed = kw * s.FixedCharge.PaisePerKWMonth
		} else {
			kwText = Milli(u.SanctionedLoadW) + " kW"
			fixed = divRound(big.NewInt(u.SanctionedLoadW*s.FixedCharge.PaisePerKWMonth), big.NewInt(1000))
		}
	}
	add(Line{Kind: KindFixed, Label: "Fixed charge", Quantity: kwText, RatePaise: s.FixedCharge.PaisePerKWMonth, AmountPaise: fixed}, BaseFixed)

	energy := int64(0)
	rest, lower := u.Wh, int64(0)
	for i, sl := range s.Energy {
		inSlab := rest
		label := "Energy charge"
		if len(s.Energy) > 1 {
			if sl.UpToKWh != nil {
				inSlab = min(rest, (*sl.UpToKWh-lower)*1000)
				label = fmt.Sprintf("Energy %d-%d kWh", lower, *sl.UpToKWh)
				lower = *sl.UpToKWh
			} else {
				label = fmt.Sprintf("Energy above %d kWh", lower)
			}
		}
		rest -= inSlab
		if inSlab == 0 && i > 0 {
			continue
		}
		amt := whCharge(inSlab, sl.PaisePerKWh)
		energy += amt
		add(Line{Kind: KindEnergy, Label: label, Quantity: Milli(inSlab) + " kWh", RatePaise: sl.PaisePerKWh, AmountPaise: amt}, BaseEnergy)
	}

	for _, b := range s.TimeOfUse {
		wb := u.BandWh[b.Name]
		if b.MultiplierBP == 10000 || wb == 0 || u.Wh == 0 {
			continue
		}
		// E·(W_b/W)·(m_b−10000)/10000, one rounding.
		num := new(big.Int).Mul(big.NewInt(energy), big.NewInt(wb))
		num.Mul(num, big.NewInt(b.MultiplierBP-10000))
		den := new(big.Int).Mul(big.NewInt(u.Wh), big.NewInt(10000))
		amt := divRound(num, den)
		add(Line{Kind: KindToU, Label: fmt.Sprintf("Time-of-use %s (%s) %s", b.Name, b.Hours, pct(b.MultiplierBP)),
			Quantity: Milli(wb) + " kWh", AmountPaise: amt}, BaseToU)
	}

	for _, sc := range s.Surcharges {
		add(Line{Kind: KindSurcharge, Label: sc.Name, Quantity: Milli(u.Wh) + " kWh", RatePaise: sc.PaisePerKWh,
			AmountPaise: whCharge(u.Wh, sc.PaisePerKWh)}, BaseSurcharge)
	}

	c.TaxBase = base
	if s.Tax.RateBP > 0 {
		tax := divRound(big.NewInt(base*s.Tax.RateBP), big.NewInt(10000))
		c.Lines = append(c.Lines, Line{Kind: KindTax, Label: fmt.Sprintf("%s %s", s.Tax.Name, pct(s.Tax.RateBP)),
			Quantity: fmt.Sprintf("on Rs %s", Rupees(base)), AmountPaise: tax})
	}

	for _, l := range c.Lines {
		c.BeforeRound += l.AmountPaise
	}
	c.TotalPaise = c.BeforeRound
	if s.Rounding == RoundNearestRupee {
		c.TotalPaise = divRound(big.NewInt(c.BeforeRound), big.NewInt(100)) * 100
		if d := c.TotalPaise - c.BeforeRound; d != 0 {
			c.Lines = append(c.Lines, Line{Kind: KindRounding, Label: "Rounding to the rupee", AmountPaise: d})
		}
	}
	return c, nil
}

func (s *Schedule) checkUsage(u Usage) error {
	if u.Wh < 0 || u.Wh > maxWh {
		return fmt.Errorf("%w: %d Wh; fix: usage must be 0..%d Wh", ErrUsage, u.Wh, int64(maxWh))
	}
	if u.SanctionedLoadW <= 0 || u.SanctionedLoadW > 10_000_000 {
		return fmt.Errorf("%w: sanctioned load %d W; fix: give the customer's sanctioned load, 1 W..10 MW", ErrUsage, u.SanctionedLoadW)
	}
	if len(s.TimeOfUse) == 0 {
		if len(u.BandWh) != 0 {
			return fmt.Errorf("%w: band totals given but schedule %s has no time-of-use bands; fix: bill with a time-of-use schedule or drop the bands", ErrUsage, s.Ref())
		}
		return nil
	}
	var sum int64
	for name, wh := range u.BandWh {
		if !slices.ContainsFunc(s.TimeOfUse, func(b Band) bool { return b.Name == name }) {
			return fmt.Errorf("%w: unknown band %q for schedule %s; fix: use the schedule's band names", ErrUsage, name, s.Ref())
		}
		if wh < 0 || wh > maxWh {
			return fmt.Errorf("%w: band %q has %d Wh; fix: band totals must be 0..%d Wh", ErrUsage, name, wh, int64(maxWh))
		}
		sum += wh
	}
	if sum != u.Wh {
		return fmt.Errorf("%w: band totals sum to %d Wh but the total is %d Wh; fix: the bands must partition the period's rounds", ErrUsage, sum, u.Wh)
	}
	return nil
}

// whCharge is Wh·rate/1000 paise, rounded half away from zero.
func whCharge(wh, paisePerKWh int64) int64 {
	return divRound(big.NewInt(wh*paisePerKWh), big.NewInt(1000))
}

// divRound divides and rounds half away from zero; the result fits int64
// for every input Compute admits.
func divRound(num, den *big.Int) int64 {
	q, r := new(big.Int).QuoRem(num, den, new(big.Int))
	r.Abs(r).Lsh(r, 1)
	if r.Cmp(new(big.Int).Abs(den)) >= 0 {
		if num.Sign()*den.Sign() < 0 {
			q.Sub(q, big.NewInt(1))
		} else {
			q.Add(q, big.NewInt(1))
		}
	}
	return q.Int64()
}

// Milli formats a thousandth-unit integer as a decimal, e.g. 1500 → "1.500".
func Milli(v int64) string {
	sign := ""
	if v < 0 {
		sign, v = "-", -v
	}
	return fmt.Sprintf("%s%d.%03d", sign, v/1000, v%1000)
}

// Rupees formats paise as rupees with two decimals, e.g. 12345 → "123.45".
func Rupees(p int64) string {
	sign := ""
	if p < 0 {
		sign, p = "-", -p
	}
	return fmt.Sprintf("%s%d.%02d", sign, p/100, p%100)
}

func pct(bp int64) string { return fmt.Sprintf("%d.%02d%%", bp/100, bp%100) }
