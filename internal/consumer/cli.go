package consumer

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

// Hooks are the parts of the consumer command that live in packages built
// on this one.
type Hooks struct {
	Coordinate Coordinate // FedAvg coordinator (fednet.Coordinate)
}

// Main is MainWith without hooks: a consumer that cannot coordinate FedAvg.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return MainWith(ctx, args, stdout, stderr, Hooks{})
}

// MainWith is the consumer command: it loads --config (a YAML Config),
// applies the flags over it, runs until ctx ends (or, with
// --exit-when-done, until every window of its rules has a final result)
// and returns the exit code.
func MainWith(ctx context.Context, args []string, stdout, stderr io.Writer, h Hooks) int {
	cfg := Config{NATSPort: -1, Coordinate: h.Coordinate}
	if p := daemon.ConfigFlag(args); p != "" {
		if err := daemon.LoadYAML(p, &cfg); err != nil {
			fmt.Fprintln(stderr, err)
			return 2
		}
	}
	fs := flag.NewFlagSet("consumer", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.String("config", "", "YAML file with these settings (flags override it)")
	fs.StringVar(&cfg.Network, "network", cfg.Network, "network configuration file")
	fs.StringVar(&cfg.KV, "kv", cfg.KV, "follow the epochs the configurator publishes to this key-value bucket (e.g. ppnet_config; needs --nats) instead of --network")
	fs.StringVar(&cfg.ID, "id", cfg.ID, "consumer id in the network configuration")
	fs.StringVar(&cfg.KeyFile, "key", cfg.KeyFile, "private key file (base64 X25519)")
	fs.StringVar(&cfg.NATS, "nats", cfg.NATS, "NATS URL (empty: run an embedded server)")
	fs.IntVar(&cfg.NATSPort, "nats-port", cfg.NATSPort, "embedded NATS port (-1: any)")
	fs.StringVar(&cfg.DataDir, "data", cfg.DataDir, "data directory (results, embedded NATS store)")
	fs.StringVar(&cfg.HTTP, "http", cfg.HTTP, "results/metrics/healthz address (default 127.0.0.1:0)")
	fs.DurationVar(&cfg.Settle, "settle", cfg.Settle, "wait for the last of w shares (default 2s)")
	jsonl := fs.Bool("jsonl", false, "print final results as JSON lines on stdout")
	fs.BoolVar(&cfg.SkipStreams, "skip-streams", cfg.SkipStreams, "do not declare the streams (an admin does; needed under per-role NATS permissions)")
	cfg.NATSAuth.AddFlags(fs)
	level := fs.String("log", "info", "log level: debug, info, warn, error")
	untilDone := fs.Bool("exit-when-done", false, "exit once every window of its rules has a final result (bounded epochs)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "consumer: unexpected argument %q; all settings are flags (see -h)\n", fs.Arg(0))
		return 2
	}
	var err error
	if cfg.Logger, err = daemon.LoggerTo(stderr, *level); err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	if *jsonl {
		cfg.Out = stdout
	}
	if err := epochs.CheckFlags("consumer", cfg.Network, cfg.KV, cfg.NATS); err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	if cfg.KV != "" {
		if cfg.FedAvg != nil {
			fmt.Fprintln(stderr, "consumer: fedavg needs --network: a consumer following --kv does not coordinate yet")
			return 2
		}
		if *untilDone {
			fmt.Fprintln(stderr, "consumer: --exit-when-done needs --network: a followed bucket has no last epoch")
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
	if *untilDone {
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

// follow runs the consumer in every epoch of the bucket until ctx ends.
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
