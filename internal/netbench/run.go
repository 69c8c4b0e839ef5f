package netbench

import (
	"context"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"text/tabwriter"
	"time"
)

// Options sizes a benchmark run. Zero values take the defaults in
// brackets, which are the figures docs/performance.md reports.
type Options struct {
	Dir  string // scratch directory for the servers' stores (default: a temporary one)
	Seed uint64 // readings and share randomness [1]

	RawMessages int // 64-byte messages for the raw baseline [200000]

	UnbatchedMeters int // single-meter producers in the unbatched ingest [2000]
	UnbatchedRounds int // rounds of them, the first warm-up [31]

	BatchedMeters int // meters of the one concentrator in the batched ingest [100000]
	BatchedChunk  int // meters per bundle [4096]
	BatchedRounds int // rounds, all measured from the PPN's start [10]

	E2EMeters    int // meters in the end-to-end round [100000]
	E2EProducers int // concentrators they send through [100]
	E2ET         int // threshold t [3]
	E2ERounds    int // measured rounds, after one warm-up [10]
}

func (o *Options) defaults() {
	def := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	def(&o.RawMessages, 200000)
	def(&o.UnbatchedMeters, 2000)
	def(&o.UnbatchedRounds, 31)
	def(&o.BatchedMeters, 100000)
	def(&o.BatchedChunk, 4096)
	def(&o.BatchedRounds, 10)
	def(&o.E2EMeters, 100000)
	def(&o.E2EProducers, 100)
	def(&o.E2ET, 3)
	def(&o.E2ERounds, 10)
	if o.Seed == 0 {
		o.Seed = 1
	}
}

// check rejects sizes no measurement can run with, naming the flag.
func (o *Options) check() error {
	for _, f := range []struct {
		name string
		v    int
		min  int
	}{
		{"raw-messages", o.RawMessages, 1}, {"unbatched-meters", o.UnbatchedMeters, 1}, {"unbatched-rounds", o.UnbatchedRounds, 2},
		{"batched-meters", o.BatchedMeters, 1}, {"batched-chunk", o.BatchedChunk, 1}, {"batched-rounds", o.BatchedRounds, 1},
		{"e2e-meters", o.E2EMeters, 2}, {"e2e-producers", o.E2EProducers, 1}, {"e2e-t", o.E2ET, 1}, {"e2e-rounds", o.E2ERounds, 1},
	} {
		if f.v < f.min {
			return fmt.Errorf("netbench: --%s %d; use at least %d", f.name, f.v, f.min)
		}
	}
	switch {
	case o.E2ET > 5:
		return fmt.Errorf("netbench: --e2e-t %d; the network has 5 PPNs, use t ≤ 5", o.E2ET)
	case o.E2EProducers > o.E2EMeters:
		return fmt.Errorf("netbench: --e2e-producers %d exceeds --e2e-meters %d; a producer needs at least one meter", o.E2EProducers, o.E2EMeters)
	case o.BatchedChunk > 65535*64 || o.BatchedMeters/o.BatchedChunk > 65535:
		return fmt.Errorf("netbench: --batched-meters %d in chunks of %d makes more than 65536 bundles per round; raise --batched-chunk", o.BatchedMeters, o.BatchedChunk)
	}
	return nil
}

// Report is every figure of one run.
type Report struct {
	Opts      Options
	Raw       *RawResult
	Unbatched *IngestResult
	Batched   *IngestResult
	E2E       *E2EResult
}

// Run measures the raw baseline and the ppnet figures in one process and
// prints the table to w. An error means a measurement could not be made or
// a result was wrong; a missed target is reported in the table.
func Run(ctx context.Context, o Options, w io.Writer) (*Report, error) {
	o.defaults()
	if err := o.check(); err != nil {
		return nil, err
	}
	if o.Dir == "" {
		dir, err := os.MkdirTemp("", "ppnet-netbench-")
		if err != nil {
			return nil, fmt.Errorf("netbench: %v", err)
		}
		defer os.RemoveAll(dir)
		o.Dir = dir
	}
	rep := &Report{Opts: o}
	var err error
	fmt.Fprintf(w, "netbench: embedded nats-server, file storage, GOMAXPROCS=%d, seed %d\n", runtime.GOMAXPROCS(0), o.Seed)
	if rep.Raw, err = Raw(ctx, o.Dir, o.RawMessages); err != nil {
		return nil, err
	}
	if rep.Unbatched, err = Ingest(ctx, o.Dir, o.Seed, o.UnbatchedMeters, o.UnbatchedMeters, 0, o.UnbatchedRounds, 1); err != nil {
		return nil, err
	}
	// One concentrator has one key per PPN: no warm-up, the time includes
	// the PPN's start and every fetch from the server.
	if rep.Batched, err = Ingest(ctx, o.Dir, o.Seed, o.BatchedMeters, 1, o.BatchedChunk, o.BatchedRounds, 0); err != nil {
		return nil, err
	}
	if rep.E2E, err = E2E(ctx, o.Dir, o.Seed, o.E2EMeters, o.E2EProducers, o.E2ET, o.E2ERounds); err != nil {
		return nil, err
	}
	rep.Print(w)
	return rep, nil
}

// Print writes the table: the raw baseline, then each ppnet figure beside
// its target computed from the baseline of the same run.
func (r *Report) Print(w io.Writer) {
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	raw := r.Raw
	fmt.Fprintf(tw, "\nraw baseline: plain nats.go, %d messages of 64 bytes\t\t\t\n", raw.Messages)
	fmt.Fprintf(tw, "  async publish (acks awaited)\t%s msgs/s\t%v\t\n", count(raw.PublishRate), raw.Publish.Round(time.Millisecond))
	fmt.Fprintf(tw, "  ordered consume\t%s msgs/s\t%v\t\n", count(raw.OrderedRate), raw.Ordered.Round(time.Millisecond))
	fmt.Fprintf(tw, "  durable pull, explicit ack\t%s msgs/s\t%v\t\n", count(raw.DurRate), raw.Durable.Round(time.Millisecond))
	tw.Flush()

	tw = tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "\nppnet\tmeasured (wall)\ttarget\tmet\tCPU-time check\t\n")
	u := r.Unbatched
	durCPURate := 1e9 / perItem(raw.DurableCPU, raw.Messages) // messages per CPU-second
	uCPURate := 1e9 / perItem(u.CPU, u.Bundles)
	fmt.Fprintf(tw, "  one PPN, unbatched single-meter bundles (%d B; %d meters × %d rounds)\t%s bundles/s\t≥ 50%% of durable = %s\t%s\t%s vs %s per CPU·s: %s\t\n",
		u.BundleBytes, u.Meters, u.Rounds-u.Warm, count(u.BundleRate), count(raw.DurRate/2), yes(u.BundleRate >= raw.DurRate/2),
		count(uCPURate), count(durCPURate/2), yes(uCPURate >= durCPURate/2))
	b := r.Batched
	bCPURate := 1e9 / perItem(b.CPU, b.Shares)
	fmt.Fprintf(tw, "  one PPN, concentrator bundles of %d meters (%d meters × %d rounds)\t%s shares/s\t≥ 1,000,000\t%s\t%s per CPU·s: %s\t\n",
		b.Chunk, b.Meters, b.Rounds-b.Warm, count(b.ShareRate), yes(b.ShareRate >= 1e6), count(bCPURate), yes(bCPURate >= 1e6))
	e := r.E2E
	ratio := medianF(e.Ratio)
	cpuRatio := float64(median(e.PPNetCPU)) / float64(median(e.RawCPU))
	fmt.Fprintf(tw, "  round end to end: %d meters in %d bundles (%d B), 5 PPNs, t=%d (median of %d paired rounds)\t%v vs raw %v: %.2f×\t≤ 2×\t%s\tCPU %v vs %v: %.2f×: %s\t\n",
		e.Meters, e.Bundles, e.BundleBytes, e.T, e.Rounds, median(e.PPNet).Round(time.Millisecond), median(e.Raw).Round(time.Millisecond),
		ratio, yes(ratio <= 2), median(e.PPNetCPU).Round(time.Millisecond), median(e.RawCPU).Round(time.Millisecond), cpuRatio, yes(cpuRatio <= 2))
	fmt.Fprintf(tw, "  seal → result (%d results)\tp50 %v  p99 %v\t\t\t\t\n", len(e.SealToResult),
		quantile(e.SealToResult, 0.5).Round(time.Millisecond), quantile(e.SealToResult, 0.99).Round(time.Millisecond))
	tw.Flush()

	fmt.Fprintf(w, "\nCPU-time check: process CPU (user+system, the embedded server included), less sensitive than wall time to\n")
	fmt.Fprintf(w, "other load on the machine; per item: durable pull %.1f µs/message, unbatched PPN ingest %.1f µs/bundle, concentrator ingest %.0f ns/share\n",
		perItem(raw.DurableCPU, raw.Messages)/1e3, perItem(u.CPU, u.Bundles)/1e3, perItem(b.CPU, b.Shares))
	fmt.Fprintf(w, "end-to-end phases (median, from the round's first publish): bundles acknowledged %v, all 5 PPNs past the seal %v, last result %v\n",
		median(e.Published).Round(time.Millisecond), median(e.Applied).Round(time.Millisecond), median(e.PPNet).Round(time.Millisecond))
	fmt.Fprintf(w, "state commits (synced bbolt transactions) per PPN per round: %.1f\n", e.Commits)
	fmt.Fprintf(w, "per round, ppnet: %v\nper round, raw:   %v\nratios: %.2f\n", rounded(e.PPNet), rounded(e.Raw), e.Ratio)
	fmt.Fprintf(w, "set-up not timed: building (split + seal) the unbatched rounds %v, batched %v, end-to-end %v\n",
		u.Build.Round(time.Millisecond), b.Build.Round(time.Millisecond), e.Build.Round(time.Millisecond))
}

func perItem(d time.Duration, n int) float64 {
	if n == 0 {
		return 0
	}
	return float64(d.Nanoseconds()) / float64(n)
}

func medianF(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	return s[(len(s)-1)/2]
}

func yes(ok bool) string {
	if ok {
		return "yes"
	}
	return "NO"
}

// count formats a rate with thousands separators.
func count(v float64) string {
	s := fmt.Sprintf("%.0f", v)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

func median(ds []time.Duration) time.Duration { return quantile(ds, 0.5) }

// quantile returns the q-quantile of ds (nearest rank); 0 when empty.
func quantile(ds []time.Duration, q float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := int(q*float64(len(s))+0.999999) - 1
	return s[max(0, min(i, len(s)-1))]
}

func rounded(ds []time.Duration) []time.Duration {
	out := make([]time.Duration, len(ds))
	for i, d := range ds {
		out[i] = d.Round(time.Millisecond)
	}
	return out
}
