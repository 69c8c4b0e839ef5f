package configurator

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/ppnet/ppnet/internal/registry"
)

// The registry subcommands (producers, ppns, consumers, rules, epoch) keep
// their state in a bbolt file (--db; see internal/registry and
// docs/deploy.md). Exit codes: 0 done, 1 the registry refused the
// operation (message on stderr), 2 misuse, 3 refused by the policy check
// (the report as JSON on stdout, like `configurator check`).

// group dispatches "configurator <group> <verb> [flags]".
func group(name string, verbs map[string]command) func(context.Context, []string, *Env) error {
	return func(ctx context.Context, args []string, env *Env) error {
		if len(args) == 0 || oneOf(args[0], "-h", "--help", "help") {
			fmt.Fprintf(env.Stderr, "usage: configurator %s <verb> [flags]\n\nverbs:\n", name)
			names := make([]string, 0, len(verbs))
			for v := range verbs {
				names = append(names, v)
			}
			slices.Sort(names)
			for _, v := range names {
				fmt.Fprintf(env.Stderr, "  %-8s %s\n", v, verbs[v].summary)
			}
			fmt.Fprintf(env.Stderr, "\nRun configurator %s <verb> -h for its flags.\n", name)
			if len(args) == 0 {
				return errUsage
			}
			return flag.ErrHelp
		}
		v, ok := verbs[args[0]]
		if !ok {
			fmt.Fprintf(env.Stderr, "configurator %s: unknown verb %q; run configurator %s -h\n", name, args[0], name)
			return errUsage
		}
		return v.run(ctx, args[1:], env)
	}
}

// regFlags are the flags every registry verb shares.
type regFlags struct {
	db      string
	jsonOut bool
}

func newRegFlagSet(name, usage string, env *Env, withJSON bool) (*flag.FlagSet, *regFlags) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	fs.Usage = func() {
		fmt.Fprintf(env.Stderr, "usage: configurator %s [flags]\n\n%s\n\nflags:\n", name, usage)
		fs.PrintDefaults()
	}
	f := &regFlags{}
	fs.StringVar(&f.db, "db", "registry.db", "registry `file` (bbolt)")
	if withJSON {
		fs.BoolVar(&f.jsonOut, "json", false, "write JSON instead of a table")
	}
	return fs, f
}

// need reports the first required flag left unset as a usage error.
func need(fs *flag.FlagSet, env *Env, names ...string) error {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	for _, n := range names {
		if !set[n] {
			return usageErr(fs, env, "--%s is required", n)
		}
	}
	return nil
}

// withRegistry opens the registry, runs fn and closes it.
func withRegistry(f *regFlags, fn func(r *registry.Registry) error) error {
	r, err := registry.Open(f.db, nil)
	if err != nil {
		return err
	}
	err = fn(r)
	if cerr := r.Close(); err == nil && cerr != nil {
		return cerr
	}
	return err
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("configurator: writing JSON: %w", err)
	}
	return nil
}

// table writes rows as aligned columns.
func table(w io.Writer, header string, rows [][]string) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, header)
	for _, r := range rows {
		fmt.Fprintln(tw, strings.Join(r, "\t"))
	}
	return tw.Flush()
}

// refused prints a policy report and ends with exit status 3 when err is
// a policy refusal; other errors pass through.
func refused(env *Env, err error) error {
	var ref *registry.RefusedError
	if !errors.As(err, &ref) {
		return err
	}
	if werr := writeJSON(env.Stdout, ref.Report); werr != nil {
		return werr
	}
	fmt.Fprintln(env.Stderr, err)
	return &exitCodeError{checkRefused}
}

// listFlag collects a repeatable or comma-separated flag.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }

func (l *listFlag) Set(s string) error {
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			*l = append(*l, v)
		}
	}
	return nil
}
