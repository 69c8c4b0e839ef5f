package consumer

import "github.com/prometheus/client_golang/prometheus"

type metrics struct {
	in, recoveries, inconsistent, final prometheus.Counter
	rejected, faulty                    *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	c := func(name, help string) prometheus.Counter {
		return prometheus.NewCounter(prometheus.CounterOpts{Namespace: "ppnet", Subsystem: "consumer", Name: name, Help: help})
	}
	m := &metrics{
		in:           c("aggregates_in_total", "Aggregated shares verified and stored."),
		recoveries:   c("recoveries_total", "Recoveries run (a window is recombined as shares arrive)."),
		inconsistent: c("inconsistent_total", "Recoveries whose shares disagreed beyond correction."),
		final:        c("results_final_total", "Results made final."),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "ppnet", Subsystem: "consumer", Name: "rejected_total",
			Help: "Aggregated shares rejected, by reason."}, []string{"reason"}),
		faulty: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "ppnet", Subsystem: "consumer", Name: "faulty_ppn_total",
			Help: "Wrong aggregated shares detected and corrected, by PPN."}, []string{"ppn"}),
	}
	reg.MustRegister(m.in, m.recoveries, m.inconsistent, m.final, m.rejected, m.faulty)
	return m
}
