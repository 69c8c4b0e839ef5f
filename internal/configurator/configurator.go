// Package configurator implements the configurator command. Each
// subcommand lives in its own file and is listed in [commands]:
//
//	configurator check       decide a rule set against grants and leaks (exit 3: refused)
//	configurator plan        solve minPPN for an instance (grid planners)
//	configurator plan-bench  print the minPPN comparison tables
//
// The command is offline: plan reads a JSON instance or draws one from the
// paper's generator, and writes the plan as JSON or a table. See
// docs/minppn.md for the model, the solvers and the measured tables.
package configurator

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
)

// Env is the process environment a subcommand sees, so tests run it
// in-process.
type Env struct {
	// Stdout receives results, Stderr usage, errors and progress.
	Stdout, Stderr io.Writer
}

// command is one subcommand.
type command struct {
	summary string
	run     func(ctx context.Context, args []string, env *Env) error
}

// commands lists the subcommands; add a line (and a file) per subcommand.
func commands() map[string]command {
	return map[string]command{
		"check":       {"decide a rule set: grants, field bound, differencing leaks", runCheck},
		"plan":        {"solve minPPN: which PPNs serve which consumers", runPlan},
		"plan-bench":  {"print the minPPN comparison tables of docs/minppn.md", runPlanBench},
		"producers":   producersCommand(),
		"ppns":        ppnsCommand(),
		"consumers":   consumersCommand(),
		"rules":       rulesCommand(),
		"epoch":       epochCommand(),
		"nkeys":       nkeysCommand(),
		"nats-config": {"render a standalone nats-server's NKey users and permissions for an epoch", runNATSConfig},
	}
}

// errUsage marks errors already explained by a usage message.
var errUsage = errors.New("configurator: usage")

// Main runs the configurator with args (without the program name) and
// returns the process exit code: 0 on success, 1 on failure, 2 on misuse.
func Main(ctx context.Context, args []string, env *Env) int {
	cmds := commands()
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(env.Stderr, cmds)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	cmd, ok := cmds[args[0]]
	if !ok {
		fmt.Fprintf(env.Stderr, "configurator: unknown command %q\n", args[0])
		usage(env.Stderr, cmds)
		return 2
	}
	err := cmd.run(ctx, args[1:], env)
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errUsage):
		return 2
	}
	var coded interface{ ExitCode() int }
	if errors.As(err, &coded) { // the subcommand has reported already
		return coded.ExitCode()
	}
	fmt.Fprintln(env.Stderr, err)
	return 1
}

func usage(w io.Writer, cmds map[string]command) {
	fmt.Fprintln(w, "usage: configurator <command> [flags]\n\ncommands:")
	names := make([]string, 0, len(cmds))
	for n := range cmds {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-12s %s\n", n, cmds[n].summary)
	}
	fmt.Fprintln(w, "\nRun configurator <command> -h for the command's flags.")
}

// parseFlags parses args, rejecting positional arguments; errors are
// reported on env.Stderr with the flag set's usage.
func parseFlags(fs *flag.FlagSet, args []string, env *Env) error {
	fs.SetOutput(env.Stderr)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(env.Stderr, "configurator %s: unexpected argument %q; all inputs are flags (see -h)\n", fs.Name(), fs.Arg(0))
		return errUsage
	}
	return nil
}

// usageErr reports a bad flag combination and its fix, then the usage.
func usageErr(fs *flag.FlagSet, env *Env, format string, a ...any) error {
	fmt.Fprintf(env.Stderr, "configurator %s: %s\n", fs.Name(), fmt.Sprintf(format, a...))
	fmt.Fprintf(env.Stderr, "run 'configurator %s -h' for the flags\n", fs.Name())
	return errUsage
}

// oneOf reports whether v is one of the allowed values.
func oneOf(v string, allowed ...string) bool { return slices.Contains(allowed, v) }

func quoteAll(vs []string) string {
	q := make([]string, len(vs))
	for i, v := range vs {
		q[i] = fmt.Sprintf("%q", v)
	}
	return strings.Join(q, ", ")
}
