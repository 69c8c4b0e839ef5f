// Package cli is the command line of cmd/fddm: it trains the FDDM
// sensitivity model by federated averaging over secret-shared sums on
// synthetic households (fddm train) and measures the privacy and utility of
// dynamic masking against the static rounding baseline (fddm eval). Method
// and figures: docs/fddm.md.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
)

const usage = `usage: fddm <command> [flags]

commands:
  train   federated training of the sensitivity model through Shamir-shared
          sums, per round beside a centrally trained model, accuracy against
          the households' ground truth
  eval    dynamic masking at several thresholds and strategies, and static
          rounding: occupancy, re-identification and billing-linkage attacks,
          utility, a table and plots

Run 'fddm <command> -h' for a command's flags.
`

// Env is what a command reads and writes besides its arguments.
type Env struct {
	Stdout, Stderr io.Writer
	// Create creates an output file; nil means os.Create.
	Create func(name string) (io.WriteCloser, error)
}

func (e *Env) create(name string) (io.WriteCloser, error) {
	if e.Create != nil {
		return e.Create(name)
	}
	return os.Create(name)
}

type usageError struct{ msg string }

func (u usageError) Error() string { return u.msg }

// Main runs the command line args (without the program name) and returns
// the exit code: 0 on success, 1 on failure, 2 on a usage error.
func Main(ctx context.Context, args []string, env *Env) int {
	err := Run(ctx, args, env)
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, new(usageError)):
		fmt.Fprintln(env.Stderr, "fddm:", err)
		return 2
	default:
		fmt.Fprintln(env.Stderr, "fddm:", err)
		return 1
	}
}

// Run runs one command.
func Run(ctx context.Context, args []string, env *Env) error {
	if len(args) == 0 {
		fmt.Fprint(env.Stderr, usage)
		return usageError{"no command given; use train or eval"}
	}
	switch args[0] {
	case "train":
		c, err := parseTrain(args[1:], env)
		if err != nil {
			return err
		}
		_, err = runTrain(ctx, c, env.Stdout)
		return err
	case "eval":
		c, err := parseEval(args[1:], env)
		if err != nil {
			return err
		}
		return runEval(ctx, c, env)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(env.Stdout, usage)
		return nil
	}
	fmt.Fprint(env.Stderr, usage)
	return usageError{fmt.Sprintf("unknown command %q; use train or eval", args[0])}
}

// parseFlags parses args into fs, turning flag errors into usage errors.
func parseFlags(fs *flag.FlagSet, args []string, env *Env) error {
	fs.SetOutput(env.Stderr)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err.Error()}
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("unexpected argument %q; %s takes only flags", fs.Arg(0), fs.Name())}
	}
	return nil
}
