package cli

import (
	"context"
	"fmt"
	"time"

	"github.com/ppnet/ppnet/internal/fddm/model"
	"github.com/ppnet/ppnet/sim/household"
)

// dataset is a synthetic population over three stretches of time: the
// training history (the month before the period), the billing period that
// is masked, and one auxiliary week after it (the re-identification
// attacker's side information).
type dataset struct {
	pop      *household.Population
	perDay   int
	interval time.Duration
	train    []meterData
	period   []meterData
	aux      [][]uint64
	profile  []float64 // population mean reading per slot of the day, period
	bills    []float64 // exact period totals, Wh
}

// meterData is one meter's readings over a stretch, with ground truth.
type meterData struct {
	start    time.Time
	wh       []uint64
	occupied []bool
	active   []bool // an appliance that needs an occupant ran
	baseline model.Baseline
}

type dataOptions struct {
	seed       uint64
	households int
	days       int // days of training history and of the period
	firstDay   int
}

func (o dataOptions) validate() error {
	switch {
	case o.households < 4 || o.households > 5000:
		// The evaluation holds every reading and feature row in memory:
		// about 0.6 MB per household at 28 days.
		return usageError{fmt.Sprintf("-households %d: use 4 to 5000 (the evaluation keeps every household in memory)", o.households)}
	case o.days < 7 || o.days > 366:
		return usageError{fmt.Sprintf("-days %d: use 7 to 366 (the period must hold a whole week)", o.days)}
	case o.firstDay < 0 || o.firstDay > 3650:
		return usageError{fmt.Sprintf("-first-day %d: use 0 to 3650", o.firstDay)}
	}
	return nil
}

func buildDataset(ctx context.Context, o dataOptions) (*dataset, error) {
	pop, err := household.NewPopulation(nil, o.seed)
	if err != nil {
		return nil, fmt.Errorf("population: %w", err)
	}
	var occupantBits uint64
	for a, app := range pop.Options().Appliances {
		if app.NeedsOccupant {
			occupantBits |= 1 << a
		}
	}
	d := &dataset{pop: pop, interval: pop.Interval(), perDay: int(24 * time.Hour / pop.Interval())}
	first := int64(o.firstDay * d.perDay)
	n := o.days * d.perDay
	d.profile = make([]float64, d.perDay)
	for h := range o.households {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		m := pop.Meter(uint64(h))
		tr := stretch(pop, m, first, n, occupantBits)
		tr.baseline = model.NewBaseline(tr.wh)
		pe := stretch(pop, m, first+int64(n), n, occupantBits)
		pe.baseline = tr.baseline // the meter's baseline comes from its history
		ax := stretch(pop, m, first+int64(2*n), 7*d.perDay, occupantBits)
		d.train = append(d.train, tr)
		d.period = append(d.period, pe)
		d.aux = append(d.aux, ax.wh)
		var bill float64
		for i, x := range pe.wh {
			d.profile[i%d.perDay] += float64(x)
			bill += float64(x)
		}
		d.bills = append(d.bills, bill)
	}
	for s := range d.profile {
		d.profile[s] /= float64(o.households * o.days)
	}
	return d, nil
}

func stretch(pop *household.Population, m *household.Meter, from int64, n int, occupantBits uint64) meterData {
	md := meterData{start: pop.IntervalStart(from)}
	for r := range m.Readings(from, n) {
		md.wh = append(md.wh, r.Wh)
		md.occupied = append(md.occupied, r.Occupied)
		md.active = append(md.active, r.On&occupantBits != 0)
	}
	return md
}

// features returns a meter's feature rows and meter-computed labels.
func (md meterData) features(interval time.Duration, labels model.Labels) (X, Y []float64, err error) {
	X, err = model.Features(nil, model.Series{Wh: md.wh, Start: md.start, Interval: interval}, md.baseline)
	if err != nil {
		return nil, nil, err
	}
	return X, labels.Label(nil, md.wh, md.baseline), nil
}
