// Command netbench measures ppnet's data plane beside a raw nats.go
// baseline on the same embedded nats-server, in one run, and prints one
// table with each target checked against the baseline (figures and how to
// read them: docs/performance.md, section "network").
//
//	go run ./cmd/netbench [--e2e-meters 100000] [--e2e-producers 100] [--seed 1]
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"

	"github.com/ppnet/ppnet/internal/netbench"
)

func main() {
	var o netbench.Options
	flag.Uint64Var(&o.Seed, "seed", 1, "seed of the readings and share randomness")
	flag.StringVar(&o.Dir, "dir", "", "scratch directory for the server stores (default: a temporary one)")
	flag.IntVar(&o.RawMessages, "raw-messages", 200000, "64-byte messages in the raw baseline")
	flag.IntVar(&o.UnbatchedMeters, "unbatched-meters", 2000, "single-meter producers in the unbatched ingest")
	flag.IntVar(&o.UnbatchedRounds, "unbatched-rounds", 31, "rounds of the unbatched ingest (first is warm-up)")
	flag.IntVar(&o.BatchedMeters, "batched-meters", 100000, "meters of the concentrator in the batched ingest")
	flag.IntVar(&o.BatchedChunk, "batched-chunk", 4096, "meters per bundle in the batched ingest")
	flag.IntVar(&o.BatchedRounds, "batched-rounds", 10, "rounds of the batched ingest (all timed from the PPN's start)")
	flag.IntVar(&o.E2EMeters, "e2e-meters", 100000, "meters in the end-to-end rounds")
	flag.IntVar(&o.E2EProducers, "e2e-producers", 100, "producers (concentrators) the end-to-end meters send through")
	flag.IntVar(&o.E2ET, "e2e-t", 3, "threshold t of the end-to-end network (5 PPNs)")
	flag.IntVar(&o.E2ERounds, "e2e-rounds", 10, "measured end-to-end rounds (after one warm-up)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if _, err := netbench.Run(ctx, o, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
