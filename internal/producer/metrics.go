package producer

import "github.com/prometheus/client_golang/prometheus"

type metrics struct {
	rounds, published, failures, rejected, sealed prometheus.Counter
	outbox                                        prometheus.Gauge
}

func newMetrics(reg prometheus.Registerer) *metrics {
	c := func(name, help string) prometheus.Counter {
		return prometheus.NewCounter(prometheus.CounterOpts{Namespace: "ppnet", Subsystem: "producer", Name: name, Help: help})
	}
	m := &metrics{
		rounds:    c("rounds_total", "Rounds read, split, sealed and stored."),
		published: c("bundles_published_total", "Bundles acknowledged by JetStream."),
		failures:  c("publish_failures_total", "Bundle publishes that failed or timed out and will be retried."),
		rejected:  c("readings_rejected_total", "Readings outside ±max_reading, left out of their round."),
		sealed:    c("shares_sealed_total", "Shares sealed into parts."),
		outbox: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: "ppnet", Subsystem: "producer", Name: "outbox_bundles",
			Help: "Bundles stored and not yet acknowledged."}),
	}
	reg.MustRegister(m.rounds, m.published, m.failures, m.rejected, m.sealed, m.outbox)
	return m
}
