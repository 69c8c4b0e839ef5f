package netbench

import (
	"context"
	"testing"
)

// BenchmarkNetwork reports the netbench figures as benchmark metrics, at
// sizes small enough for -bench; cmd/netbench runs the full sizes. Profile
// the PPN with -cpuprofile on the sub-benchmark of interest.
func BenchmarkNetwork(b *testing.B) {
	ctx := context.Background()
	b.Run("raw", func(b *testing.B) {
		for b.Loop() {
			r, err := Raw(ctx, b.TempDir(), 50000)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(r.PublishRate, "publish-msgs/s")
			b.ReportMetric(r.OrderedRate, "ordered-msgs/s")
			b.ReportMetric(r.DurRate, "durable-msgs/s")
		}
	})
	b.Run("ingest-unbatched", func(b *testing.B) {
		for b.Loop() {
			r, err := Ingest(ctx, b.TempDir(), 1, 1000, 1000, 0, 21, 1)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(r.BundleRate, "bundles/s")
		}
	})
	b.Run("ingest-batched", func(b *testing.B) {
		for b.Loop() {
			r, err := Ingest(ctx, b.TempDir(), 1, 100000, 1, 4096, 10, 0)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(r.ShareRate, "shares/s")
		}
	})
	b.Run("e2e", func(b *testing.B) {
		for b.Loop() {
			r, err := E2E(ctx, b.TempDir(), 1, 100000, 100, 3, 5)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(medianF(r.Ratio), "ppnet/raw")
			b.ReportMetric(float64(median(r.PPNet).Microseconds())/1e3, "ppnet-ms/round")
			b.ReportMetric(float64(median(r.Raw).Microseconds())/1e3, "raw-ms/round")
			b.ReportMetric(float64(quantile(r.SealToResult, 0.5).Microseconds())/1e3, "seal-result-p50-ms")
		}
	})
}
