package netbench

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"
)

// TestRunSmall runs every measurement at a small size: each must complete
// with correct results, and the table must carry every row. (The rates of
// so small a run mean little: the PPN's client prefetches 1024 messages.)
func TestRunSmall(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	o := Options{Dir: t.TempDir(), RawMessages: 2000, UnbatchedMeters: 200, UnbatchedRounds: 40,
		BatchedMeters: 4000, BatchedChunk: 64, BatchedRounds: 20, E2EMeters: 2000, E2EProducers: 4, E2ERounds: 2}
	var sb strings.Builder
	rep, err := Run(ctx, o, &sb)
	if err != nil {
		t.Fatal(err)
	}
	t.Log("\n" + sb.String())
	u, b := rep.Unbatched, rep.Batched
	if u.Bundles <= 0 || u.Bundles > 200*39 || u.Shares != u.Bundles || b.Shares != 4000*20 {
		t.Errorf("measured %d unbatched bundles (%d shares), %d batched shares; want 1..7800 bundles of one share each, 80000 shares",
			u.Bundles, u.Shares, b.Shares)
	}
	if len(rep.E2E.PPNet) != 2 || len(rep.E2E.Raw) != 2 || len(rep.E2E.SealToResult) != 4 {
		t.Errorf("%d ppnet and %d raw end-to-end rounds, %d latencies; want 2, 2, 4", len(rep.E2E.PPNet), len(rep.E2E.Raw), len(rep.E2E.SealToResult))
	}
	for _, row := range []string{"async publish", "ordered consume", "durable pull", "unbatched", "concentrator", "end to end", "seal → result"} {
		if !strings.Contains(sb.String(), row) {
			t.Errorf("table has no %q row", row)
		}
	}
}

func TestQuantile(t *testing.T) {
	ds := []time.Duration{5, 1, 4, 2, 3, 6, 7, 8, 9, 10}
	for _, tc := range []struct {
		q    float64
		want time.Duration
	}{{0.5, 5}, {0.99, 10}, {0.1, 1}, {1, 10}} {
		if got := quantile(ds, tc.q); got != tc.want {
			t.Errorf("quantile(%v) = %v, want %v", tc.q, got, tc.want)
		}
	}
	if quantile(nil, 0.5) != 0 {
		t.Error("quantile of nothing is not 0")
	}
}

func TestCount(t *testing.T) {
	for v, want := range map[float64]string{0: "0", 999: "999", 1000: "1,000", 1234567: "1,234,567"} {
		if got := count(v); got != want {
			t.Errorf("count(%v) = %q, want %q", v, got, want)
		}
	}
}

func TestOptionsRejected(t *testing.T) {
	for _, tc := range []struct {
		o    Options
		flag string
	}{
		{Options{E2ERounds: -1}, "--e2e-rounds"},
		{Options{RawMessages: -5}, "--raw-messages"},
		{Options{UnbatchedRounds: 1}, "--unbatched-rounds"},
		{Options{E2ET: 6}, "--e2e-t"},
		{Options{E2EMeters: 10, E2EProducers: 20}, "--e2e-producers"},
	} {
		_, err := Run(context.Background(), tc.o, io.Discard)
		if err == nil || !strings.Contains(err.Error(), tc.flag) {
			t.Errorf("%+v: error %v, want one naming %s", tc.o, err, tc.flag)
		}
	}
}
