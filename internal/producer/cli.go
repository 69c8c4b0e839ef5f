package producer

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/ppnet/ppnet/internal/daemon"
	"github.com/ppnet/ppnet/internal/epochs"
)

// Hooks are the parts of the producer command that live in packages built
// on this one.
type Hooks struct {
	Participate Participate // FedAvg participation (fednet.Participate)
}

// Main is MainWith without hooks: a producer that cannot take part in
// FedAvg.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return MainWith(ctx, args, stdout, stderr, Hooks{})
}

// MainWith is the producer command: it loads --config (a YAML Config),
// applies the flags over it, runs until ctx ends (or, with
// --exit-when-done, until every round of the epoch is acknowledged; with
// --exit-when-masked, until that period is masked) and returns the exit
// code.
func MainWith(ctx context.Context, args []string, stdout, stderr io.Writer, h Hooks) int {
	cfg := Config{From: -1, NATSPort: -1, Participate: h.Participate}
	if p := daemon.ConfigFlag(args); p != "" {
		if err := daemon.LoadYAML(p, &cfg); err != nil {
			fmt.Fprintln(stderr, err)
			return 2
		}
	}
	fs := flag.NewFlagSet("producer", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.String("config", "", "YAML file with these settings (flags override it)")
	fs.StringVar(&cfg.Network, "network", cfg.Network, "network configuration file")
	fs.StringVar(&cfg.KV, "kv", cfg.KV, "follow the epochs the configurator publishes to this key-value bucket (e.g. ppnet_config; needs --nats) instead of --network")
	fs.StringVar(&cfg.ID, "id", cfg.ID, "producer id in the network configuration")
	fs.StringVar(&cfg.KeyFile, "key", cfg.KeyFile, "private key file (base64 X25519)")
	fs.StringVar(&cfg.NATS, "nats", cfg.NATS, "NATS URL (empty: run an embedded server)")
	fs.IntVar(&cfg.NATSPort, "nats-port", cfg.NATSPort, "embedded NATS port (-1: any)")
	fs.StringVar(&cfg.DataDir, "data", cfg.DataDir, "data directory (history, embedded NATS store)")
	fs.StringVar(&cfg.HTTP, "http", cfg.HTTP, "metrics/healthz address (default 127.0.0.1:0)")
	fs.Uint64Var(&cfg.Seed, "seed", cfg.Seed, "household model seed")
	fs.StringVar(&cfg.ReadingsFile, "readings", cfg.ReadingsFile, "replay this meterdata CSV (meter,start,wh) instead of the synthetic households")
	fs.DurationVar(&cfg.ReadingsInterval, "readings-interval", cfg.ReadingsInterval, "interval length of --readings (default 15m)")
	fs.Int64Var(&cfg.From, "from", cfg.From, "first round to produce (-1: the current round)")
	fs.BoolVar(&cfg.SkipStreams, "skip-streams", cfg.SkipStreams, "do not declare the streams (an admin does; needed under per-role NATS permissions)")
	cfg.NATSAuth.AddFlags(fs)
	addMaskingFlags(fs, &cfg)
	level := fs.String("log", "info", "log level: debug, info, warn, error")
	untilDone := fs.Bool("exit-when-done", false, "exit once every round of the epoch is acknowledged (bounded epochs)")
	untilMasked := fs.String("exit-when-masked", "", "with masking: exit once this billing period (e.g. 2026-03) is masked and every round is acknowledged")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "producer: unexpected argument %q; all settings are flags (see -h)\n", fs.Arg(0))
		return 2
	}
	var err error
	if cfg.Logger, err = daemon.LoggerTo(stderr, *level); err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	if err := epochs.CheckFlags("producer", cfg.Network, cfg.KV, cfg.NATS); err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	if *untilMasked != "" && cfg.MaskingFile == nil {
		fmt.Fprintln(stderr, "producer: --exit-when-masked needs the masking job; add --mask or a masking: section")
		return 2
	}
	if cfg.KV != "" {
		if cfg.FedAvg != nil || cfg.MaskingFile != nil || *untilMasked != "" {
			fmt.Fprintln(stderr, "producer: fedavg and masking need --network: a producer following --kv does not run them yet")
			return 2
		}
		if *untilDone {
			fmt.Fprintln(stderr, "producer: --exit-when-done needs --network: a followed bucket has no last epoch")
			return 2
		}
		return follow(ctx, cfg, stderr)
	}
	d, err := New(cfg)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	if err := d.Start(ctx); err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	var done <-chan struct{}
	switch {
	case *untilMasked != "":
		done = d.masked(*untilMasked)
	case *untilDone:
		done = d.Done()
	}
	select {
	case <-ctx.Done():
	case <-done:
	}
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := errors.Join(d.Shutdown(sctx), d.healthy()); err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	return 0
}

// follow runs the producer in every epoch of the bucket until ctx ends.
func follow(ctx context.Context, cfg Config, stderr io.Writer) int {
	f, err := Follow(cfg)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	if err := f.Start(ctx); err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	<-ctx.Done()
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := f.Shutdown(sctx); err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	return 0
}
