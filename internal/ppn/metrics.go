package ppn

import "github.com/prometheus/client_golang/prometheus"

type metrics struct {
	bundles, late, lateShares, shares, duplicates, windows prometheus.Counter
	published, pubFailures, sealsPublished, commits        prometheus.Counter
	gaps, gapMessages, withheld                            prometheus.Counter
	rejected, seals                                        *prometheus.CounterVec
	seq, sealedRound                                       prometheus.Gauge
}

func newMetrics(reg prometheus.Registerer) *metrics {
	c := func(name, help string) prometheus.Counter {
		return prometheus.NewCounter(prometheus.CounterOpts{Namespace: "ppnet", Subsystem: "ppn", Name: name, Help: help})
	}
	g := func(name, help string) prometheus.Gauge {
		return prometheus.NewGauge(prometheus.GaugeOpts{Namespace: "ppnet", Subsystem: "ppn", Name: name, Help: help})
	}
	m := &metrics{
		bundles:        c("bundles_in_total", "Bundles whose part opened and was added."),
		late:           c("bundles_late_total", "Bundles for an already sealed round: counted, never added."),
		lateShares:     c("shares_late_total", "Shares in late bundles."),
		shares:         c("shares_added_total", "Shares added to rule accumulators (one per meter, round and rule)."),
		duplicates:     c("shares_duplicate_total", "Shares for a (meter, round) already added: counted once."),
		windows:        c("windows_emitted_total", "Aggregated shares emitted (one per rule and window)."),
		published:      c("aggregates_published_total", "Aggregated shares acknowledged by JetStream."),
		pubFailures:    c("aggregate_publish_failures_total", "Aggregated share publishes to retry."),
		sealsPublished: c("seals_published_total", "Seal markers this PPN appended."),
		commits:        c("commits_total", "State commits (accumulators and stream position in one transaction)."),
		gaps:           c("stream_gaps_total", "Gaps in the bundle stream: messages removed before this PPN applied them."),
		gapMessages:    c("stream_gap_messages_total", "Bundle-stream messages removed before this PPN applied them."),
		withheld:       c("windows_withheld_total", "Windows not emitted: bundles of their rounds may have been lost in a stream gap."),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "ppnet", Subsystem: "ppn", Name: "rejected_total",
			Help: "Messages rejected, by reason."}, []string{"reason"}),
		seals: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "ppnet", Subsystem: "ppn", Name: "seals_total",
			Help: "Seal markers read: applied (first for its rounds) or ignored (later ones)."}, []string{"result"}),
		seq:         g("stream_sequence", "Last bundle-stream sequence applied."),
		sealedRound: g("sealed_round", "Last round sealed."),
	}
	reg.MustRegister(m.bundles, m.late, m.lateShares, m.shares, m.duplicates, m.windows, m.published, m.pubFailures,
		m.sealsPublished, m.commits, m.gaps, m.gapMessages, m.withheld, m.rejected, m.seals, m.seq, m.sealedRound)
	return m
}
