// Command producer runs a ppnet producer: one meter or a concentrator,
// reading the synthetic household model, sealing one part per PPN and
// publishing one bundle per round. See internal/producer.
//
//	producer [--config producer.yaml] --network network.yaml --id c1 --key c1.key [--nats URL] --data DIR
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/ppnet/ppnet/internal/daemon"
	"github.com/ppnet/ppnet/internal/producer"
)

func main() {
	cfg := producer.Config{From: -1, NATSPort: -1}
	if p := daemon.ConfigFlag(os.Args[1:]); p != "" {
		if err := daemon.LoadYAML(p, &cfg); err != nil {
			fail(err)
		}
	}
	flag.String("config", "", "YAML file with these settings (flags override it)")
	flag.StringVar(&cfg.Network, "network", cfg.Network, "network configuration file")
	flag.StringVar(&cfg.ID, "id", cfg.ID, "producer id in the network configuration")
	flag.StringVar(&cfg.KeyFile, "key", cfg.KeyFile, "private key file (base64 X25519)")
	flag.StringVar(&cfg.NATS, "nats", cfg.NATS, "NATS URL (empty: run an embedded server)")
	flag.IntVar(&cfg.NATSPort, "nats-port", cfg.NATSPort, "embedded NATS port (-1: any)")
	flag.StringVar(&cfg.DataDir, "data", cfg.DataDir, "data directory (history, embedded NATS store)")
	flag.StringVar(&cfg.HTTP, "http", cfg.HTTP, "metrics/healthz address (default 127.0.0.1:0)")
	flag.Uint64Var(&cfg.Seed, "seed", cfg.Seed, "household model seed")
	flag.Int64Var(&cfg.From, "from", cfg.From, "first round to produce (-1: the current round)")
	level := flag.String("log", "info", "log level: debug, info, warn, error")
	flag.Parse()
	var err error
	if cfg.Logger, err = daemon.Logger(*level); err != nil {
		fail(err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := producer.Run(ctx, cfg); err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, err)
	os.Exit(1)
}
