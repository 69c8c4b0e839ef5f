// Command devnet runs a whole ppnet network in one process — embedded NATS,
// PPNs, a concentrator of synthetic meters, three consumers — on a fast
// clock, and prints every result beside the plain sum of the readings it
// covers.
//
//	go run ./cmd/devnet [--meters 1000] [--ppns 5] [--t 3] [--w 5] [--rounds 96] [--out DIR]
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"

	"github.com/ppnet/ppnet/internal/devnet"
)

func main() {
	var o devnet.Options
	flag.IntVar(&o.Meters, "meters", 1000, "synthetic meters")
	flag.IntVar(&o.PPNs, "ppns", 5, "PPNs")
	flag.IntVar(&o.T, "t", 3, "threshold t")
	flag.IntVar(&o.W, "w", 5, "PPNs per rule w (t ≤ w ≤ ppns)")
	flag.Uint64Var(&o.Rounds, "rounds", 96, "rounds to run")
	flag.IntVar(&o.Producers, "producers", 1, "concentrators sharing the meters (= --meters for one producer per meter)")
	flag.DurationVar(&o.Round, "round", 0, "fast-clock round length (default 100ms)")
	flag.Uint64Var(&o.Seed, "seed", 1, "household model seed")
	flag.IntVar(&o.NATSPort, "nats-port", -1, "embedded NATS port (-1: any free port)")
	flag.StringVar(&o.NATSURL, "nats", "", "external NATS URL instead of the embedded server")
	flag.StringVar(&o.Out, "out", "", "directory for readings.csv, rules.json, results.jsonl")
	verbose := flag.Bool("v", false, "log daemon events to stderr")
	write := flag.String("write-network", "", "only write network.yaml and keys/ for separate daemons to DIR, rounds starting in one minute, and exit")
	flag.Parse()
	if *write != "" {
		if err := devnet.WriteGenerated(*write, o); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		return
	}
	if *verbose {
		o.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if _, err := devnet.Run(ctx, o, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
