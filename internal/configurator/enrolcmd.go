package configurator

import (
	"context"
	"flag"
	"fmt"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/ppnet/ppnet/internal/registry"
)

func producersCommand() command {
	return command{"enrol meters and list them (registry)", group("producers", map[string]command{
		"add":  {"enrol a meter: id, labels, declared max reading, public key", runProducersAdd},
		"list": {"list the enrolled meters", runProducersList},
	})}
}

func ppnsCommand() command {
	return command{"enrol, list and retire PPNs (registry)", group("ppns", map[string]command{
		"add":    {"enrol a PPN: id, x-coordinate, capacity, operator, public key", runPPNsAdd},
		"list":   {"list the PPNs, retired ones included", runPPNsList},
		"retire": {"retire a PPN: the next epoch planned leaves it out", runPPNsRetire},
	})}
}

func consumersCommand() command {
	return command{"enrol consumers with grants and list them (registry)", group("consumers", map[string]command{
		"add":  {"enrol a consumer: id, grant, public key", runConsumersAdd},
		"list": {"list the consumers and their grants", runConsumersList},
	})}
}

func runProducersAdd(_ context.Context, args []string, env *Env) error {
	fs, rf := newRegFlagSet("producers add", "Enrols one meter, or with --file many in one transaction (all or none).", env, false)
	file := fs.String("file", "", "enrol the meters of this YAML or JSON `file` (a list of {id, labels, max, public_key}) instead")
	var p registry.Producer
	labels := map[string]string{}
	fs.StringVar(&p.ID, "id", "", "meter id (A–Z a–z 0–9 _ -)")
	fs.Uint64Var(&p.Max, "max", 0, "declared largest reading per round (e.g. Wh)")
	fs.StringVar(&p.PublicKey, "public-key", "", "the meter's X25519 public key, base64")
	fs.Func("label", "`key=value` label matched by rule selectors (repeatable)", func(s string) error {
		k, v, ok := strings.Cut(s, "=")
		if !ok {
			return fmt.Errorf("label %q: write key=value, e.g. feeder=F12", s)
		}
		labels[k] = v
		return nil
	})
	if err := parseFlags(fs, args, env); err != nil {
		return err
	}
	if *file != "" {
		mixed := false
		fs.Visit(func(f *flag.Flag) { mixed = mixed || oneOf(f.Name, "id", "max", "public-key", "label") })
		if mixed {
			return usageErr(fs, env, "--file enrols from the file alone; drop the other meter flags")
		}
		return addProducersFile(rf, *file, env)
	}
	if err := need(fs, env, "id", "max", "public-key"); err != nil {
		return err
	}
	if len(labels) > 0 {
		p.Labels = labels
	}
	return withRegistry(rf, func(r *registry.Registry) error { return r.AddProducer(p) })
}

func runProducersList(_ context.Context, args []string, env *Env) error {
	fs, rf := newRegFlagSet("producers list", "Lists the enrolled meters.", env, true)
	if err := parseFlags(fs, args, env); err != nil {
		return err
	}
	return withRegistry(rf, func(r *registry.Registry) error {
		ps, err := r.Producers()
		if err != nil || rf.jsonOut {
			return cmpErr(err, func() error { return writeJSON(env.Stdout, nonNil(ps)) })
		}
		var rows [][]string
		for _, p := range ps {
			var ls []string
			for _, k := range slices.Sorted(maps.Keys(p.Labels)) {
				ls = append(ls, k+"="+p.Labels[k])
			}
			rows = append(rows, []string{p.ID, strings.Join(ls, ","), strconv.FormatUint(p.Max, 10), p.PublicKey})
		}
		return table(env.Stdout, "ID\tLABELS\tMAX\tPUBLIC KEY", rows)
	})
}

func runPPNsAdd(_ context.Context, args []string, env *Env) error {
	fs, rf := newRegFlagSet("ppns add", "Enrols one PPN. Its x-coordinate is never reused, even after retirement.", env, false)
	var n registry.PPN
	fs.StringVar(&n.ID, "id", "", "PPN id (A–Z a–z 0–9 _ -)")
	fs.Uint64Var(&n.X, "x", 0, "public x-coordinate, 1 ≤ x < 2^61−1, distinct")
	fs.Int64Var(&n.Capacity, "capacity", 0, "L: sums per round the node can add")
	fs.StringVar(&n.Operator, "operator", "", "who runs the node")
	fs.StringVar(&n.PublicKey, "public-key", "", "the node's X25519 public key, base64")
	if err := parseFlags(fs, args, env); err != nil {
		return err
	}
	if err := need(fs, env, "id", "x", "capacity", "public-key"); err != nil {
		return err
	}
	return withRegistry(rf, func(r *registry.Registry) error { return r.AddPPN(n) })
}

func runPPNsList(_ context.Context, args []string, env *Env) error {
	fs, rf := newRegFlagSet("ppns list", "Lists the PPNs, retired ones included.", env, true)
	if err := parseFlags(fs, args, env); err != nil {
		return err
	}
	return withRegistry(rf, func(r *registry.Registry) error {
		ns, err := r.PPNs()
		if err != nil || rf.jsonOut {
			return cmpErr(err, func() error { return writeJSON(env.Stdout, nonNil(ns)) })
		}
		var rows [][]string
		for _, n := range ns {
			status := "active"
			if n.Retired != nil {
				status = "retired " + n.Retired.Format("2006-01-02T15:04:05Z")
			}
			rows = append(rows, []string{n.ID, strconv.FormatUint(n.X, 10), strconv.FormatInt(n.Capacity, 10), n.Operator, status})
		}
		return table(env.Stdout, "ID\tX\tCAPACITY\tOPERATOR\tSTATUS", rows)
	})
}

func runPPNsRetire(_ context.Context, args []string, env *Env) error {
	fs, rf := newRegFlagSet("ppns retire", "Retires a PPN. Published epochs keep it; plan and publish a new epoch to move its load.", env, false)
	id := fs.String("id", "", "PPN id")
	if err := parseFlags(fs, args, env); err != nil {
		return err
	}
	if err := need(fs, env, "id"); err != nil {
		return err
	}
	return withRegistry(rf, func(r *registry.Registry) error { return r.RetirePPN(*id) })
}

func runConsumersAdd(_ context.Context, args []string, env *Env) error {
	fs, rf := newRegFlagSet("consumers add", "Enrols one consumer with its grant (see docs/policy.md).", env, false)
	var c registry.Consumer
	var kinds listFlag
	fs.StringVar(&c.ID, "id", "", "consumer id (A–Z a–z 0–9 _ -)")
	fs.Var(&kinds, "kinds", "granted rule kinds: sum, per-producer (comma-separated)")
	fs.IntVar(&c.Grant.MinWindow, "min-window", 0, "shortest stretch of rounds a total may cover")
	fs.IntVar(&c.Grant.MinCohort, "min-cohort", 0, "K: fewest producers a total may cover (waived with per-producer)")
	fs.StringVar(&c.PublicKey, "public-key", "", "the consumer's X25519 public key, base64")
	if err := parseFlags(fs, args, env); err != nil {
		return err
	}
	if err := need(fs, env, "id", "kinds", "min-window", "min-cohort", "public-key"); err != nil {
		return err
	}
	c.Grant.Kinds = kinds
	return withRegistry(rf, func(r *registry.Registry) error { return r.AddConsumer(c) })
}

func runConsumersList(_ context.Context, args []string, env *Env) error {
	fs, rf := newRegFlagSet("consumers list", "Lists the consumers and their grants.", env, true)
	if err := parseFlags(fs, args, env); err != nil {
		return err
	}
	return withRegistry(rf, func(r *registry.Registry) error {
		cs, err := r.Consumers()
		if err != nil || rf.jsonOut {
			return cmpErr(err, func() error { return writeJSON(env.Stdout, nonNil(cs)) })
		}
		var rows [][]string
		for _, c := range cs {
			rows = append(rows, []string{c.ID, strings.Join(c.Grant.Kinds, ","), strconv.Itoa(c.Grant.MinWindow), strconv.Itoa(c.Grant.MinCohort), c.PublicKey})
		}
		return table(env.Stdout, "ID\tKINDS\tMIN WINDOW\tMIN COHORT\tPUBLIC KEY", rows)
	})
}

// cmpErr returns err if set, else runs then.
func cmpErr(err error, then func() error) error {
	if err != nil {
		return err
	}
	return then()
}

// nonNil makes an empty list print as [] rather than null.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func addProducersFile(rf *regFlags, path string, env *Env) error {
	fh, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("configurator: %v; give the producer file with --file", err)
	}
	defer fh.Close()
	ps, err := registry.DecodeProducers(fh)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	err = withRegistry(rf, func(r *registry.Registry) error { return r.AddProducers(ps) })
	if err == nil {
		fmt.Fprintf(env.Stderr, "%d producers enrolled from %s\n", len(ps), path)
	}
	return err
}
