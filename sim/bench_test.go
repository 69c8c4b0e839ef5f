package sim

import (
	"context"
	"testing"
)

// BenchmarkSim measures the loss analysis and the scale path. Baselines in
// the same run: the analytic formula (for Monte Carlo, per trial) and the
// plain sum stage that Scale reports with every run.
func BenchmarkSim(b *testing.B) {
	paper := PaperModel{W: 4, T: 3, K: 96, M: 1_000_000, Pe: 1e-8}
	design := DesignModel{W: 4, T: 3, K: 96, M: 1_000_000, Pb: 1e-3, Retries: 2, Pf: 1e-3}
	b.Run("analytic-paper", func(b *testing.B) {
		for b.Loop() {
			paper.Success()
		}
	})
	b.Run("montecarlo-paper-per-trial", func(b *testing.B) {
		opts := &MCOptions{Trials: b.N, Workers: 1}
		b.ResetTimer()
		if _, err := paper.MonteCarlo(context.Background(), opts); err != nil {
			b.Fatal(err)
		}
	})
	b.Run("montecarlo-design-per-trial", func(b *testing.B) {
		opts := &MCOptions{Trials: b.N, Workers: 1}
		b.ResetTimer()
		if _, err := design.MonteCarlo(context.Background(), opts); err != nil {
			b.Fatal(err)
		}
	})
	b.Run("scale-1000x96x4-per-reading", func(b *testing.B) {
		var split, plain float64
		for b.Loop() {
			rep, err := Scale(context.Background(), ScaleConfig{Producers: 1000, Workers: 1, ThreadCPU: ThreadCPUAvailable()})
			if err != nil {
				b.Fatal(err)
			}
			plain += rep.Stages[1].Busy.Seconds()
			split += rep.Stages[2].Busy.Seconds()
		}
		b.ReportMetric(split/plain, "split/plain-sum")
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/96000, "ns/reading")
	})
}
