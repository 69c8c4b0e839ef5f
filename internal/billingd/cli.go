package billingd

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/ppnet/ppnet/internal/consumer"
	"github.com/ppnet/ppnet/internal/daemon"
)

// Main is the billing command: it loads --config (a YAML Config), applies
// the flags over it, runs until ctx ends (or, with --exit-when-done, until
// every period is issued and notified) and returns the exit code.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cfg := Config{Consumer: consumerDefaults()}
	if p := daemon.ConfigFlag(args); p != "" {
		if err := daemon.LoadYAML(p, &cfg); err != nil {
			fmt.Fprintln(stderr, err)
			return 2
		}
	}
	fs := flag.NewFlagSet("billing", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.String("config", "", "YAML file with these settings (flags override it)")
	c := &cfg.Consumer
	fs.StringVar(&c.Network, "network", c.Network, "network configuration file")
	fs.StringVar(&c.ID, "id", c.ID, "billing consumer id in the network configuration")
	fs.StringVar(&c.KeyFile, "key", c.KeyFile, "consumer private key file (base64 X25519)")
	fs.StringVar(&c.NATS, "nats", c.NATS, "NATS URL (empty: run an embedded server)")
	fs.IntVar(&c.NATSPort, "nats-port", c.NATSPort, "embedded NATS port (-1: any)")
	fs.BoolVar(&c.SkipStreams, "skip-streams", c.SkipStreams, "do not declare the streams (an admin does)")
	c.NATSAuth.AddFlags(fs)
	fs.StringVar(&cfg.DataDir, "data", cfg.DataDir, "data directory (billing.db, keys, officers/, consumer/)")
	fs.StringVar(&cfg.HTTP, "http", cfg.HTTP, "UI, API, metrics and healthz address (default 127.0.0.1:0)")
	fs.StringVar(&cfg.Customers, "customers", cfg.Customers, "customer CSV imported on first start")
	fs.IntVar(&cfg.Synthetic, "synthetic", cfg.Synthetic, "else register this many fictitious customers for the first meters on first start")
	fs.StringVar(&cfg.SinkDir, "sink", cfg.SinkDir, "demo: write SMS and e-mail as files into DIR instead of sending")
	addSenderFlags(fs, &cfg.SMS, &cfg.Email)
	fs.StringVar(&cfg.PayBase, "pay-base", cfg.PayBase, "payment link base URL (default http://<http address>)")
	fs.StringVar(&cfg.HistoryURL, "history-url", cfg.HistoryURL, "producer /history URL for the UI's masked residual history, {meter} replaced, e.g. http://127.0.0.1:9101/history?meter={meter}")
	fs.StringVar(&cfg.CloseBucket, "close-bucket", cfg.CloseBucket, "publish each final period's close to this FDDM bucket (e.g. ppnet_fddm) so meters mask it (docs/fddm.md)")
	fs.DurationVar(&cfg.Poll, "poll", cfg.Poll, "how often to check results and the outbox (default 1s)")
	fs.Func("period", "billing period NAME:FIRST-LAST in rounds, e.g. 2026-03:0-2975 (repeatable; default calendar months)", func(s string) error {
		p, err := ParsePeriod(s)
		if err == nil {
			cfg.Periods = append(cfg.Periods, p)
		}
		return err
	})
	level := fs.String("log", "info", "log level: debug, info, warn, error")
	untilDone := fs.Bool("exit-when-done", false, "exit once every period is issued and its notifications handed over")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "billing: unexpected argument %q; all settings are flags (see -h)\n", fs.Arg(0))
		return 2
	}
	var err error
	if cfg.Logger, err = daemon.LoggerTo(stderr, *level); err != nil {
		fmt.Fprintln(stderr, err)
		return 2
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
	fmt.Fprintf(stdout, "billing UI: http://%s/\n", d.HTTPAddr())
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
	if err := d.Shutdown(sctx); err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	return 0
}

func consumerDefaults() (c consumer.Config) {
	c.NATSPort = -1
	return c
}

// ParsePeriod parses NAME:FIRST-LAST, e.g. "2026-03:0-2975".
func ParsePeriod(s string) (Period, error) {
	name, rng, ok := strings.Cut(s, ":")
	a, b, ok2 := strings.Cut(rng, "-")
	first, err1 := strconv.ParseUint(a, 10, 64)
	last, err2 := strconv.ParseUint(b, 10, 64)
	if !ok || !ok2 || err1 != nil || err2 != nil || last < first {
		return Period{}, fmt.Errorf("billingd: period %q; fix: give YYYY-MM:FIRST-LAST with rounds FIRST ≤ LAST, e.g. 2026-03:0-2975", s)
	}
	return Period{Name: name, FirstRound: first, LastRound: last}, nil
}
