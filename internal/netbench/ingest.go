package netbench

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/ppnet/ppnet/internal/daemon"
	"github.com/ppnet/ppnet/internal/natsx"
	"github.com/ppnet/ppnet/internal/netconfig"
	"github.com/ppnet/ppnet/internal/ppn"
)

// IngestResult is one PPN reading a stream of bundles published before it
// started: the rate over the measured rounds, after warm-up rounds that
// derive and cache the pairwise keys (with no warm-up, from just before
// the PPN starts, so connecting and fetching are inside the time). The
// PPN's client prefetches up to 1024 messages, so up to 1024 bundles after
// a warm-up may already be in its buffer when the clock starts.
type IngestResult struct {
	Meters, Producers, Chunk int
	Rounds, Warm             int
	Bundles, Shares          int // applied in the measured interval
	BundleBytes              int // mean encoded bundle size
	Build                    time.Duration
	Elapsed                  time.Duration // from the first position past the warm-up to the last
	CPU                      time.Duration // process CPU time over Elapsed (the server's included)
	BundleRate, ShareRate    float64
}

// Ingest publishes rounds rounds of a network of meters (producers
// producers, chunk meters per bundle), then starts one PPN and times how
// fast it applies the rounds after the first warm ones.
func Ingest(ctx context.Context, dir string, seed uint64, meters, producers, chunk, rounds, warm int) (*IngestResult, error) {
	if warm < 0 || warm >= rounds {
		return nil, fmt.Errorf("netbench: %d warm-up rounds of %d; need 0 ≤ warm < rounds", warm, rounds)
	}
	rules := []netconfig.RuleSpec{{ID: "all", Consumer: "c", Kind: netconfig.KindSum, Window: uint64(rounds), Fraction: 1}}
	nw, err := newNetwork(seed, meters, producers, chunk, 3, uint64(rounds), rules)
	if err != nil {
		return nil, err
	}
	e, err := newEnv(dir)
	if err != nil {
		return nil, err
	}
	defer e.close()
	if err := natsx.EnsureStreams(ctx, e.js, nw.net); err != nil {
		return nil, err
	}
	res := &IngestResult{Meters: meters, Producers: producers, Chunk: chunk, Rounds: rounds, Warm: warm}
	warmEnd, total, prefix, err := publishRounds(ctx, e, nw, rounds, warm, res)
	if err != nil {
		return nil, err
	}

	nc, err := nats.Connect(e.srv.ClientURL())
	if err != nil {
		return nil, fmt.Errorf("netbench: connect: %v", err)
	}
	defer nc.Close()
	reg := daemon.NewRegistry()
	p, err := ppn.New(ppn.Config{ID: nw.cfg.PPNs[0].ID, DataDir: filepath.Join(e.dir, "ppn"), Net: nw.net, Key: nw.keys.PPNs[0],
		Conn: nc, NoSealer: true, Registry: reg, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return nil, err
	}
	// Watch the position from before Start, so the warm-up boundary is
	// seen when it is crossed.
	marks, stopWatch := watch(p, warm == 0, warmEnd, total)
	if err := p.Start(ctx); err != nil {
		close(stopWatch)
		return nil, err
	}
	defer p.Shutdown(context.Background())
	var m [2]mark
	select {
	case m = <-marks:
	case <-ctx.Done():
		close(stopWatch)
		applied, _ := p.Position()
		return nil, fmt.Errorf("netbench: PPN applied %d of %d bundles: %w", applied, total, ctx.Err())
	}
	if m[1].seq <= m[0].seq || !m[1].at.After(m[0].at) {
		return nil, fmt.Errorf("netbench: the PPN applied all %d bundles before the watch saw the warm-up end; too small to measure, add rounds", total)
	}
	res.Elapsed, res.CPU = m[1].at.Sub(m[0].at), m[1].cpu-m[0].cpu
	res.Bundles = int(m[1].seq - m[0].seq)
	res.Shares = prefix[m[1].seq] - prefix[m[0].seq]
	in, err := counter(reg, "ppnet_ppn_bundles_in_total")
	if err != nil {
		return nil, err
	}
	if in != float64(total) {
		return nil, fmt.Errorf("netbench: PPN added %v of %d bundles; see its rejected_total metric", in, total)
	}
	res.BundleRate = rate(res.Bundles, res.Elapsed)
	res.ShareRate = rate(res.Shares, res.Elapsed)
	return res, nil
}

// publishRounds builds and publishes every round, filling res's build
// time and bundle size. It returns the stream sequence ending the warm-up,
// the last sequence, and prefix[s], the shares for one PPN in sequences
// 1..s.
func publishRounds(ctx context.Context, e *env, nw *network, rounds, warm int, res *IngestResult) (warmEnd, total uint64, prefix []int, err error) {
	bytes := 0
	prefix = []int{0}
	for r := range rounds {
		t0 := time.Now()
		bs, _, err := nw.buildRound(uint64(r))
		if err != nil {
			return 0, 0, nil, err
		}
		res.Build += time.Since(t0)
		if err := e.publishAsync(ctx, bs); err != nil {
			return 0, 0, nil, err
		}
		total += uint64(len(bs))
		if r < warm {
			warmEnd = total
		}
		for _, b := range bs {
			bytes += len(b.data)
			prefix = append(prefix, prefix[len(prefix)-1]+b.meters)
		}
	}
	res.BundleBytes = bytes / int(total)
	return warmEnd, total, prefix, nil
}

// mark is a PPN position observed at a time, with the process CPU time.
type mark struct {
	at  time.Time
	cpu time.Duration
	seq uint64
}

// watch polls p's applied position and sends two marks: the first at or
// past warmEnd (or now, if fromStart), the second at total. The rate is
// over the sequences actually applied between them. Closing stop ends the
// watch early (zero marks are sent).
func watch(p *ppn.PPN, fromStart bool, warmEnd, total uint64) (<-chan [2]mark, chan<- struct{}) {
	marks := make(chan [2]mark, 1)
	stop := make(chan struct{})
	go func() {
		var first mark
		if fromStart {
			first = mark{time.Now(), processCPU(), 0}
		}
		for {
			applied, _ := p.Position()
			if first.at.IsZero() && applied >= warmEnd {
				first = mark{time.Now(), processCPU(), applied}
			}
			if applied >= total {
				marks <- [2]mark{first, {time.Now(), processCPU(), applied}}
				return
			}
			select {
			case <-stop:
				marks <- [2]mark{}
				return
			case <-time.After(100 * time.Microsecond): // timing resolution, not correctness
			}
		}
	}()
	return marks, stop
}

// counter reads a counter's total over its label values from reg.
func counter(reg *prometheus.Registry, name string) (float64, error) {
	mfs, err := reg.Gather()
	if err != nil {
		return 0, fmt.Errorf("netbench: gather metrics: %v", err)
	}
	var sum float64
	for _, mf := range mfs {
		if mf.GetName() == name {
			for _, m := range mf.GetMetric() {
				sum += m.GetCounter().GetValue()
			}
		}
	}
	return sum, nil
}
