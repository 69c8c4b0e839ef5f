package configurator

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/ppnet/ppnet/internal/natsauth"
	"github.com/ppnet/ppnet/internal/registry"
	"github.com/ppnet/ppnet/optimize"
)

func epochCommand() command {
	return command{"plan, publish and show epochs (registry)", group("epoch", map[string]command{
		"plan":    {"solve minPPN over the active rules and store the next epoch", runEpochPlan},
		"publish": {"render an epoch as a network file (--out) and/or to a JetStream KV bucket (--nats)", runEpochPublish},
		"show":    {"show an epoch, or its network file with --network", runEpochShow},
	})}
}

func runEpochPlan(ctx context.Context, args []string, env *Env) error {
	fs, rf := newRegFlagSet("epoch plan",
		"Re-checks the active rules against the policy (exit 3 when refused), solves minPPN\n"+
			"with one minPPN consumer per rule over the PPNs in service and their capacities,\n"+
			"and stores the result as the next epoch (replacing an unpublished newest one).\n"+
			"The first round must lie after the current round and be a multiple of every\n"+
			"window of this and the previous epoch.", env, true)
	var (
		o       registry.PlanOptions
		first   int64
		current int64
		start   string
		ck      checkFlags
		limit   time.Duration
	)
	fs.Int64Var(&first, "first-round", -1, "global round the epoch takes effect at; the default (-1) takes the first valid one")
	fs.Int64Var(&current, "current-round", -2, "round in progress now; the default (-2) reads it off the clock and the system time")
	fs.StringVar(&start, "start", "", "first epoch only: start of round 0, RFC 3339")
	fs.DurationVar(&o.Clock.Round, "round", 15*time.Minute, "first epoch only: round duration D")
	fs.DurationVar(&o.Clock.Grace, "grace", 30*time.Second, "first epoch only: grace after a round's end before it is sealed")
	fs.IntVar(&o.Threshold, "t", 3, "threshold t: shares needed to recover")
	fs.IntVar(&o.W, "w", 0, "PPNs per rule, w ≥ t (default t)")
	fs.StringVar(&o.Solver, "solver", "pack", "minPPN solver: pack, greedy, exact or ilp (COIN-OR CBC)")
	fs.DurationVar(&limit, "time-limit", time.Minute, "time limit of the exact and ilp solvers")
	ck.register(fs)
	if err := parseFlags(fs, args, env); err != nil {
		return err
	}
	if !oneOf(o.Solver, registry.Solvers...) {
		return usageErr(fs, env, "--solver %q: use one of %s", o.Solver, quoteAll(registry.Solvers))
	}
	if first < -1 || current < -2 || limit <= 0 {
		return usageErr(fs, env, "--first-round and --current-round must be rounds (≥ 0) and --time-limit positive")
	}
	o.ILP = &optimize.ILPOptions{TimeLimit: limit}
	o.Check = ck.options()
	o.FirstRound, o.AutoFirst = uint64(max(first, 0)), first < 0
	return withRegistry(rf, func(r *registry.Registry) error {
		clock, err := planClock(r, fs, env, start, o.Clock)
		if err != nil {
			return err
		}
		o.Clock = clock
		o.CurrentRound = current
		if current == -2 {
			o.CurrentRound = clock.RoundAt(time.Now())
		}
		planCtx, cancel := context.WithTimeout(ctx, limit+time.Minute)
		defer cancel()
		e, err := r.PlanEpoch(planCtx, o)
		if err != nil {
			return refused(env, err)
		}
		if rf.jsonOut {
			return writeJSON(env.Stdout, e)
		}
		return epochTable(env, e)
	})
}

// planClock returns the clock given by the flags for the first epoch, or
// the clock of the existing epochs (a zero Clock, which PlanEpoch fills).
func planClock(r *registry.Registry, fs interface{ Name() string }, env *Env, start string, c registry.Clock) (registry.Clock, error) {
	n, err := r.Latest()
	if err != nil {
		return c, err
	}
	if n > 0 && start == "" {
		e, _, err := r.Epoch(n)
		return e.Clock, err
	}
	if start == "" {
		fmt.Fprintf(env.Stderr, "configurator %s: the first epoch needs --start (RFC 3339 start of round 0), e.g. --start 2026-01-01T00:00:00Z\n", fs.Name())
		return c, errUsage
	}
	t, err := time.Parse(time.RFC3339, start)
	if err != nil {
		fmt.Fprintf(env.Stderr, "configurator %s: --start %q is not an RFC 3339 time such as 2026-01-01T00:00:00Z\n", fs.Name(), start)
		return c, errUsage
	}
	c.Start = t.UTC()
	return c, nil
}

func epochTable(env *Env, e *registry.Epoch) error {
	status := "planned (not published)"
	if e.Published != nil {
		status = "published " + e.Published.Format(time.RFC3339)
	}
	fmt.Fprintf(env.Stdout, "epoch %d: first round %d (%s), t = %d, w = %d, %s\n",
		e.Number, e.FirstRound, e.Clock.Start.Add(time.Duration(e.FirstRound)*e.Clock.Round).Format(time.RFC3339), e.Threshold, e.W, status)
	fmt.Fprintf(env.Stdout, "plan: %d PPNs (lower bound %d, solver %s, %s), %d rules, %d producers\n\n",
		len(e.PPNs), e.LowerBound, e.Solver, e.Status, len(e.Rules), len(e.Producers))
	var rows [][]string
	for _, n := range e.PPNs {
		rows = append(rows, []string{n.ID, strconv.FormatUint(n.X, 10), strconv.FormatInt(e.Load[n.ID], 10), strconv.FormatInt(n.Capacity, 10)})
	}
	if err := table(env.Stdout, "PPN\tX\tLOAD\tCAPACITY", rows); err != nil {
		return err
	}
	fmt.Fprintln(env.Stdout)
	rows = rows[:0]
	for _, rl := range e.Rules {
		rows = append(rows, []string{rl.ID, rl.Consumer, rl.Kind, strconv.Itoa(rl.Window), strconv.Itoa(len(rl.Producers)), strings.Join(rl.PPNs, ",")})
	}
	return table(env.Stdout, "RULE\tCONSUMER\tKIND\tWINDOW\tPRODUCERS\tPPNS", rows)
}

// epochFlag adds --epoch and resolves 0 to the newest epoch.
func epochNumber(r *registry.Registry, n uint) (uint32, error) {
	if n > 0 {
		if n > 1<<32-1 {
			return 0, fmt.Errorf("configurator: epoch %d out of range", n)
		}
		return uint32(n), nil
	}
	latest, err := r.Latest()
	if err == nil && latest == 0 {
		err = fmt.Errorf("configurator: no epochs yet; plan one with configurator epoch plan")
	}
	return latest, err
}

func runEpochPublish(ctx context.Context, args []string, env *Env) error {
	fs, rf := newRegFlagSet("epoch publish",
		"Renders an epoch as the static network file the data plane reads (checked by\n"+
			"netconfig) and writes it to --out, and/or puts it into a JetStream key-value\n"+
			"bucket under epoch.<number> (--nats). Either records the epoch as published:\n"+
			"a later plan starts the next epoch. An epoch never published before must\n"+
			"still lie in the future: its first round after the current round.", env, false)
	var (
		n                       uint
		out, url, bucket, admin string
		creds                   natsauth.ClientFiles
		ro                      registry.RenderOptions
	)
	fs.UintVar(&n, "epoch", 0, "epoch number (default the newest)")
	current := fs.Int64("current-round", -2, "round in progress now; the default (-2) reads it off the epoch's clock and the system time")
	fs.StringVar(&out, "out", "", "write the network file (YAML) here")
	fs.StringVar(&url, "nats", "", "NATS `URL` to publish to")
	fs.StringVar(&creds.Key, "nats-key", "", "with --nats: the admin's NATS user key `file` (docs/security.md); empty: no NKey")
	fs.StringVar(&creds.CA, "nats-ca", "", "with --nats: CA certificate (PEM) of the server; required beyond loopback")
	fs.StringVar(&admin, "nats-admin", "admin", "with --nats: the admin identity's id in users.yaml")
	fs.StringVar(&bucket, "bucket", registry.DefaultBucket, "key-value bucket")
	fs.IntVar(&ro.Replicas, "replicas", 1, "stream replicas in the file and for the bucket: 1, or 3 on a cluster")
	fs.StringVar(&ro.Prefix, "prefix", "ppnet", "subject prefix in the file")
	timeout := fs.Duration("timeout", 30*time.Second, "with --nats: give up after this long")
	if err := parseFlags(fs, args, env); err != nil {
		return err
	}
	if out == "" && url == "" {
		return usageErr(fs, env, "give --out FILE and/or --nats URL")
	}
	if *timeout <= 0 {
		return usageErr(fs, env, "--timeout %v: give a positive duration", *timeout)
	}
	if *current < -2 {
		return usageErr(fs, env, "--current-round %d: give a round (≥ 0), or -1 before round 0", *current)
	}
	return withRegistry(rf, func(r *registry.Registry) error {
		num, err := epochNumber(r, n)
		if err != nil {
			return err
		}
		// Checked before each write: a file or KV entry of an epoch that
		// has begun must never reach the roles.
		stillAhead := func() error {
			now := *current
			if now == -2 {
				e, _, err := r.Epoch(num)
				if err != nil {
					return err
				}
				now = e.Clock.RoundAt(time.Now())
			}
			return r.CheckPublishable(num, now)
		}
		if out != "" {
			if err := stillAhead(); err != nil {
				return err
			}
			b, err := r.RenderFile(num, &ro)
			if err != nil {
				return err
			}
			if err := writeAtomic(out, b); err != nil {
				return err
			}
			fmt.Fprintf(env.Stderr, "epoch %d written to %s\n", num, out)
		}
		if url == "" {
			return nil
		}
		opts, err := creds.Options(natsauth.Identity{Role: natsauth.RoleAdmin, ID: admin}, url)
		if err != nil {
			return err
		}
		if err := stillAhead(); err != nil {
			return err
		}
		ctx, cancel := context.WithTimeout(ctx, *timeout)
		defer cancel()
		return publishKV(ctx, r, env, num, url, opts, bucket, &ro)
	})
}

func publishKV(ctx context.Context, r *registry.Registry, env *Env, num uint32, url string, opts []nats.Option, bucket string, ro *registry.RenderOptions) error {
	opts = append(opts, nats.Name("configurator"), nats.Timeout(10*time.Second),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
			fmt.Fprintf(env.Stderr, "configurator epoch publish: nats: %v\n", err)
		}))
	nc, err := nats.Connect(url, opts...)
	if err != nil {
		return fmt.Errorf("configurator: connect %s: %v; check --nats", url, err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return fmt.Errorf("configurator: jetstream: %v", err)
	}
	kv, err := registry.OpenBucket(ctx, js, bucket, ro.Replicas)
	if err != nil {
		return err
	}
	rev, err := r.Publish(ctx, kv, num, ro)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stderr, "epoch %d published to %s key %s (revision %d)\n", num, bucket, registry.EpochKey(num), rev)
	return nil
}

// writeAtomic writes b to path through a temporary file and a rename, so
// a role reading the file never sees half of it.
func writeAtomic(path string, b []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".epoch-*")
	if err != nil {
		return fmt.Errorf("configurator: --out %s: %v", path, err)
	}
	_, err = tmp.Write(b)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("configurator: --out %s: %v", path, err)
	}
	return nil
}

func runEpochShow(_ context.Context, args []string, env *Env) error {
	fs, rf := newRegFlagSet("epoch show", "Shows an epoch: its plan, or with --network the network file it renders to (not recorded as published).", env, true)
	var n uint
	network := fs.Bool("network", false, "print the rendered network file (YAML)")
	fs.UintVar(&n, "epoch", 0, "epoch number (default the newest)")
	if err := parseFlags(fs, args, env); err != nil {
		return err
	}
	return withRegistry(rf, func(r *registry.Registry) error {
		num, err := epochNumber(r, n)
		if err != nil {
			return err
		}
		e, next, err := r.Epoch(num)
		switch {
		case err != nil:
			return err
		case *network:
			c, err := e.Render(next, nil)
			if err != nil {
				return err
			}
			b, err := c.Marshal()
			if err != nil {
				return fmt.Errorf("configurator: encoding epoch %d: %v", num, err)
			}
			_, err = env.Stdout.Write(b)
			return err
		case rf.jsonOut:
			return writeJSON(env.Stdout, e)
		}
		return epochTable(env, e)
	})
}
