package devnet

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/ppnet/ppnet/internal/fddm/mask"
)

// Main is the devnet command: it parses args (without the program name),
// runs the network or writes its files, and returns the exit code.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("devnet", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o Options
	fs.IntVar(&o.Meters, "meters", 1000, "synthetic meters")
	fs.IntVar(&o.PPNs, "ppns", 5, "PPNs")
	fs.IntVar(&o.T, "t", 3, "threshold t")
	fs.IntVar(&o.W, "w", 5, "PPNs per rule w (t ≤ w ≤ ppns)")
	fs.Uint64Var(&o.Rounds, "rounds", 96, "rounds to run")
	fs.IntVar(&o.Producers, "producers", 1, "concentrators sharing the meters (= --meters for one producer per meter)")
	fs.DurationVar(&o.Round, "round", 0, "fast-clock round length (default 100ms)")
	fs.DurationVar(&o.Grace, "grace", 0, "seal grace after a round's end: bundles later than this are late (default 2 rounds; raise it on a loaded machine)")
	fs.Uint64Var(&o.Seed, "seed", 1, "household model seed")
	fs.IntVar(&o.NATSPort, "nats-port", -1, "embedded NATS port (-1: any free port)")
	fs.StringVar(&o.NATSURL, "nats", "", "external NATS URL instead of the embedded server")
	fs.BoolVar(&o.Secure, "nats-auth", true, "embedded NATS with one NKey user per role and its subject permissions (docs/security.md); ignored with --nats")
	fs.StringVar(&o.Out, "out", "", "directory for readings.csv, rules.json, results.jsonl")
	verbose := fs.Bool("v", false, "log daemon events to stderr")
	write := fs.String("write-network", "", "only write network.yaml and keys/ (with --nats-auth also keys/nats/: NATS users and user keys) for separate daemons to DIR, and exit")
	startIn := fs.Duration("start-in", time.Minute, "with --write-network: time until round 0 starts")
	var b BillingOptions
	fs.IntVar(&b.Customers, "billing-customers", 20, "bill the demo month for fictitious customers of the first N meters (0: no billing; see docs/billing.md)")
	fs.StringVar(&b.Period, "billing-period", "", "name of the demo month, YYYY-MM (default: this month)")
	fs.StringVar(&b.Tariff, "billing-tariff", "", "customers' tariff schedule (default kerc-lt2a-fy2025-26; example-tod-lt2a bills time-of-use bands from banded rules)")
	fs.BoolVar(&b.Serve, "serve", false, "after the run, keep the network and the billing UI up until Ctrl-C")
	var f FDDM
	fs.IntVar(&f.Rounds, "fedavg-rounds", 4, "FedAvg rounds of the sensitivity model through the network (0: no FDDM: no FedAvg, no masking; see docs/fddm.md)")
	fs.IntVar(&f.Participants, "fedavg-participants", 8, "FedAvg participants (each a producer of 9 component meters, training on its own household)")
	fs.Uint64Var(&f.Stride, "fedavg-stride", 0, "data-plane rounds per FedAvg round (default ⌈(grace + 500ms)/round⌉, 7 at 100ms rounds)")
	mp := mask.DefaultPolicy()
	fs.Float64Var(&f.Threshold, "mask-threshold", mp.Threshold, "after the billing close, mask readings whose sensitivity score exceeds this")
	fs.Float64Var(&f.MaxShare, "mask-max-share", mp.MaxShare, "never mask more than this share of a meter's period")
	fs.StringVar(&f.Strategy, "mask-strategy", mp.Strategy.String(), "masking: suppress, coarsen or generalise")
	fs.Uint64Var(&f.CoarsenWh, "mask-coarsen-wh", mp.CoarsenWh, "coarsen step, Wh")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "devnet: unexpected argument %q; all settings are flags (see -h)\n", fs.Arg(0))
		return 2
	}
	if o.Meters < 1 || o.PPNs < 1 || o.T < 1 || o.W < o.T || o.W > o.PPNs || o.Producers < 1 || o.Rounds < 1 {
		fmt.Fprintf(stderr, "devnet: --meters %d --ppns %d --t %d --w %d --producers %d --rounds %d: need 1 ≤ t ≤ w ≤ ppns and at least one meter, producer and round\n",
			o.Meters, o.PPNs, o.T, o.W, o.Producers, o.Rounds)
		return 2
	}
	if o.Grace < 0 {
		fmt.Fprintf(stderr, "devnet: --grace %v: give a positive duration, or 0 for 2 rounds\n", o.Grace)
		return 2
	}
	if f.Rounds > 0 {
		o.FDDM = &f
		set := false
		fs.Visit(func(fl *flag.Flag) { set = set || fl.Name == "fedavg-rounds" })
		od := o
		od.defaults()
		if err := (&FDDM{Rounds: f.Rounds, Stride: f.Stride}).fit(od); err != nil {
			if set {
				fmt.Fprintln(stderr, err)
				return 2
			}
			fmt.Fprintf(stdout, "FDDM off: a %d-round run is too short for %d FedAvg rounds (give --rounds 48 or more, or --fedavg-rounds)\n", o.Rounds, f.Rounds)
			o.FDDM = nil
		}
	}
	if *verbose {
		o.Logger = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	if *write != "" {
		set, err := WriteGenerated(*write, o, *startIn)
		if err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		fmt.Fprintf(stdout, "wrote %s/network.yaml and %s/keys/\n", *write, *write)
		if set != nil {
			fmt.Fprintf(stdout, "wrote %s/fedavg.yaml: FedAvg rounds %d at stride %d from round %d, participants f001…f%03d (producers) and consumer %s; give each the fedavg: section (docs/fddm.md)\n",
				*write, set.Rounds, set.Stride, set.First, o.FDDM.Participants, FedAvgConsumer)
		}
		if o.Secure {
			fmt.Fprintf(stdout, "wrote NATS users and user keys to %s/keys/nats/ (users.yaml for the server; streams are declared by admin-%s.nkey)\n", *write, WrittenAdminID)
		}
		return 0
	}
	run := Run
	if b.Customers > 0 {
		run = func(ctx context.Context, o Options, w io.Writer) (*Report, error) {
			return RunWithBilling(ctx, o, b, w)
		}
	}
	if _, err := run(ctx, o, stdout); err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	return 0
}
