// Command consumer runs an information consumer: it recovers its rules'
// aggregates from the PPNs' shares, stores them with their coverage, serves
// them at /results and, with --jsonl, prints each final result as a JSON
// line on stdout. See internal/consumer.
//
//	consumer [--config consumer.yaml] --network network.yaml --id dso --key dso.key [--nats URL] --data DIR [--jsonl]
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/ppnet/ppnet/internal/consumer"
	"github.com/ppnet/ppnet/internal/daemon"
)

func main() {
	cfg := consumer.Config{NATSPort: -1}
	if p := daemon.ConfigFlag(os.Args[1:]); p != "" {
		if err := daemon.LoadYAML(p, &cfg); err != nil {
			fail(err)
		}
	}
	flag.String("config", "", "YAML file with these settings (flags override it)")
	flag.StringVar(&cfg.Network, "network", cfg.Network, "network configuration file")
	flag.StringVar(&cfg.ID, "id", cfg.ID, "consumer id in the network configuration")
	flag.StringVar(&cfg.KeyFile, "key", cfg.KeyFile, "private key file (base64 X25519)")
	flag.StringVar(&cfg.NATS, "nats", cfg.NATS, "NATS URL (empty: run an embedded server)")
	flag.IntVar(&cfg.NATSPort, "nats-port", cfg.NATSPort, "embedded NATS port (-1: any)")
	flag.StringVar(&cfg.DataDir, "data", cfg.DataDir, "data directory (results, embedded NATS store)")
	flag.StringVar(&cfg.HTTP, "http", cfg.HTTP, "results/metrics/healthz address (default 127.0.0.1:0)")
	flag.DurationVar(&cfg.Settle, "settle", cfg.Settle, "wait for the last of w shares (default 2s)")
	jsonl := flag.Bool("jsonl", false, "print final results as JSON lines on stdout")
	level := flag.String("log", "info", "log level: debug, info, warn, error")
	flag.Parse()
	var err error
	if cfg.Logger, err = daemon.Logger(*level); err != nil {
		fail(err)
	}
	if *jsonl {
		cfg.Out = os.Stdout
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := consumer.Run(ctx, cfg); err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, err)
	os.Exit(1)
}
