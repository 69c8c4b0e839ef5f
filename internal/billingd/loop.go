package billingd

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ppnet/ppnet/internal/billing/bill"
	"github.com/ppnet/ppnet/internal/billing/notify"
	"github.com/ppnet/ppnet/internal/consumer"
)

type metrics struct {
	bills    *prometheus.CounterVec
	periods  prometheus.Counter
	unknown  prometheus.Gauge
	sent     prometheus.Counter
	failures prometheus.Counter
}

func newMetrics(reg *prometheus.Registry) *metrics {
	m := &metrics{
		bills: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "ppnet_billing_bills_total",
			Help: "Bill revisions written, by outcome (issued, estimated, held)."}, []string{"outcome"}),
		periods: prometheus.NewCounter(prometheus.CounterOpts{Name: "ppnet_billing_periods_issued_total",
			Help: "Billing periods issued from released totals."}),
		unknown: prometheus.NewGauge(prometheus.GaugeOpts{Name: "ppnet_billing_unknown_meters",
			Help: "Meters in the last issued period's totals without a customer."}),
		sent: prometheus.NewCounter(prometheus.CounterOpts{Name: "ppnet_billing_notifications_attempted_total",
			Help: "Notification delivery attempts made by the outbox."}),
		failures: prometheus.NewCounter(prometheus.CounterOpts{Name: "ppnet_billing_step_errors_total",
			Help: "Billing steps that failed (logged; retried at the next poll)."}),
	}
	reg.MustRegister(m.bills, m.periods, m.unknown, m.sent, m.failures)
	return m
}

// loop bills what is ready and runs the outbox every poll interval.
func (d *Daemon) loop(ctx context.Context) {
	tick := time.NewTicker(d.cfg.Poll)
	defer tick.Stop()
	for {
		if err := d.step(ctx); err != nil {
			d.m.failures.Inc()
			d.log.Error("billing step failed; retrying", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// step issues every period whose results are all final, then runs the
// outbox once.
func (d *Daemon) step(ctx context.Context) error {
	if err := d.issueReady(); err != nil {
		return err
	}
	n, err := d.svc.Outbox().RunOnce(ctx)
	d.m.sent.Add(float64(n))
	if err != nil {
		return err
	}
	return d.checkDone()
}

func (d *Daemon) issueReady() error {
	var res []consumer.Result
	for i := range d.Periods() {
		d.mu.Lock()
		st := d.status[i]
		d.mu.Unlock()
		if st.State == "issued" {
			continue
		}
		if res == nil {
			var err error
			if res, err = d.src.Results(); err != nil {
				return err
			}
		}
		d.issuePeriod(i, st.Period, byRule(res))
	}
	return nil
}

func byRule(res []consumer.Result) map[string]map[uint64]consumer.Result {
	out := map[string]map[uint64]consumer.Result{}
	for _, r := range res {
		if out[r.Rule] == nil {
			out[r.Rule] = map[uint64]consumer.Result{}
		}
		out[r.Rule][r.WindowStart] = r
	}
	return out
}

// issuePeriod bills period i once every rule has final results for it.
func (d *Daemon) issuePeriod(i int, p Period, res map[string]map[uint64]consumer.Result) {
	set := func(state, detail string) {
		d.mu.Lock()
		d.status[i].State, d.status[i].Detail = state, detail
		d.mu.Unlock()
	}
	var totals []bill.Totals
	for _, rb := range d.cfg.Rules {
		t, ready, err := periodTotals(d.net, rb, p, res[rb.Rule])
		if err != nil {
			set("error", err.Error())
			return
		}
		if !ready {
			set("waiting", "rule "+rb.Rule+": windows of the period without a final result")
			return
		}
		totals = append(totals, t)
	}
	rep, err := d.svc.IssuePeriod(p.Name, totals)
	if err != nil {
		set("error", err.Error())
		d.m.failures.Inc()
		d.log.Error("issuing period failed", "period", p.Name, "err", err)
		return
	}
	d.m.periods.Inc()
	d.m.bills.WithLabelValues("issued").Add(float64(len(rep.Issued)))
	d.m.bills.WithLabelValues("estimated").Add(float64(len(rep.Estimated)))
	d.m.bills.WithLabelValues("held").Add(float64(len(rep.Held)))
	d.m.unknown.Set(float64(len(rep.UnknownMeters)))
	d.log.Info("period issued", "period", p.Name, "rounds", [2]uint64{p.FirstRound, p.LastRound}, "issued", len(rep.Issued),
		"estimated", len(rep.Estimated), "held", len(rep.Held), "unchanged", len(rep.Unchanged), "conflicts", len(rep.Conflicts),
		"meters_without_customer", len(rep.UnknownMeters))
	d.mu.Lock()
	d.status[i].State, d.status[i].Detail, d.status[i].Report, d.status[i].Issued = "issued", "", &rep, d.cfg.Now()
	d.mu.Unlock()
	d.publishClose(p, rep)
}

// checkDone closes Done once every period is issued and nothing waits in
// the outbox.
func (d *Daemon) checkDone() error {
	select {
	case <-d.done:
		return nil
	default:
	}
	for _, st := range d.Periods() {
		if st.State != "issued" {
			return nil
		}
	}
	es, err := d.svc.Outbox().List()
	if err != nil {
		return err
	}
	for _, e := range es {
		if e.State == notify.StatePending {
			return nil
		}
	}
	close(d.done)
	return nil
}

func (d *Daemon) servePeriods(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(d.Periods())
}
