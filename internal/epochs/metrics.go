package epochs

import (
	"slices"
	"strconv"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

type metrics struct {
	running             prometheus.Gauge
	restarts, done, bad prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) *metrics {
	c := func(name, help string) prometheus.Counter {
		return prometheus.NewCounter(prometheus.CounterOpts{Namespace: "ppnet", Subsystem: "epochs", Name: name, Help: help})
	}
	m := &metrics{
		running: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: "ppnet", Subsystem: "epochs", Name: "running",
			Help: "Epoch instances running."}),
		restarts: c("restarts_total", "Instances restarted because their epoch was re-published with a new round count."),
		done:     c("done_total", "Instances stopped because their bounded epoch was done."),
		bad:      c("entries_refused_total", "Bucket entries that did not decode to a network file of their epoch."),
	}
	reg.MustRegister(m.running, m.restarts, m.done, m.bad)
	return m
}

// gatherer serves the supervisor's registry and every instance's (those
// of stopped instances too, so final counts stay visible), each instance's
// metrics labelled epoch="<n>": the instances register the same names on
// registries of their own, so nothing is registered twice.
type gatherer struct{ s *Supervisor }

func (g gatherer) Gather() ([]*dto.MetricFamily, error) {
	gs := prometheus.Gatherers{g.s.reg}
	g.s.mu.Lock()
	for _, n := range g.s.sorted() {
		if reg := g.s.epochs[n].reg; reg != nil {
			gs = append(gs, labelled{reg, strconv.FormatUint(uint64(n), 10)})
		}
	}
	g.s.mu.Unlock()
	return gs.Gather()
}

// labelled adds the label epoch to every metric of a gatherer.
type labelled struct {
	g     prometheus.Gatherer
	epoch string
}

func (l labelled) Gather() ([]*dto.MetricFamily, error) {
	mfs, err := l.g.Gather()
	name := "epoch"
	for _, mf := range mfs {
		for _, m := range mf.Metric {
			m.Label = append(m.Label, &dto.LabelPair{Name: &name, Value: &l.epoch})
			slices.SortFunc(m.Label, func(a, b *dto.LabelPair) int { return strings.Compare(a.GetName(), b.GetName()) })
		}
	}
	return mfs, err
}
