// Command ppn runs a Privacy Preserving Node: it adds the shares sealed for
// it, seals rounds, and emits one aggregated share per rule and window.
// See internal/ppn.
//
//	ppn [--config ppn.yaml] --network network.yaml --id ppn1 --key ppn1.key [--nats URL] --data DIR
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/ppnet/ppnet/internal/daemon"
	"github.com/ppnet/ppnet/internal/ppn"
)

func main() {
	cfg := ppn.Config{NATSPort: -1}
	if p := daemon.ConfigFlag(os.Args[1:]); p != "" {
		if err := daemon.LoadYAML(p, &cfg); err != nil {
			fail(err)
		}
	}
	flag.String("config", "", "YAML file with these settings (flags override it)")
	flag.StringVar(&cfg.Network, "network", cfg.Network, "network configuration file")
	flag.StringVar(&cfg.ID, "id", cfg.ID, "PPN id in the network configuration")
	flag.StringVar(&cfg.KeyFile, "key", cfg.KeyFile, "private key file (base64 X25519)")
	flag.StringVar(&cfg.NATS, "nats", cfg.NATS, "NATS URL (empty: run an embedded server)")
	flag.IntVar(&cfg.NATSPort, "nats-port", cfg.NATSPort, "embedded NATS port (-1: any)")
	flag.StringVar(&cfg.DataDir, "data", cfg.DataDir, "data directory (state, embedded NATS store)")
	flag.StringVar(&cfg.HTTP, "http", cfg.HTTP, "metrics/healthz address (default 127.0.0.1:0)")
	flag.IntVar(&cfg.CommitEvery, "commit-every", cfg.CommitEvery, "messages per state commit under load (default 1024)")
	level := flag.String("log", "info", "log level: debug, info, warn, error")
	flag.Parse()
	var err error
	if cfg.Logger, err = daemon.Logger(*level); err != nil {
		fail(err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := ppn.Run(ctx, cfg); err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, err)
	os.Exit(1)
}
