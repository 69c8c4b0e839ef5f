// Package simcli is the command line of cmd/sim: the loss analysis, the
// synthetic household generator and the scale simulation of package sim.
package simcli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
)

const usage = `usage: sim <command> [flags]

commands:
  loss        success probability of a consumer's aggregate under share loss:
              the paper's eq. 13 and this design's model, analytic and Monte Carlo
  households  synthetic smart-meter readings with ground truth, as CSV
  scale       the whole data path in one process, throughput per stage

Run 'sim <command> -h' for a command's flags. Lists and ranges: 1e-4,1e-3,
10:10000:log (4 points per decade), 10:1e6:log8, 1:10:1.
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

// output opens the --out destination: stdout for "-", else the file. The
// returned close reports a failed write or close of the file.
func (e *Env) output(name string) (io.Writer, func() error, error) {
	if name == "-" {
		return e.Stdout, func() error { return nil }, nil
	}
	f, err := e.create(name)
	if err != nil {
		return nil, nil, fmt.Errorf("creating --out file: %w", err)
	}
	return f, func() error {
		if err := f.Close(); err != nil {
			return fmt.Errorf("writing %s: %w", name, err)
		}
		return nil
	}, nil
}

// Main runs the command line args (without the program name) and returns
// the process exit code: 0 on success, 1 on failure, 2 on a usage error.
func Main(ctx context.Context, args []string, env *Env) int {
	err := Run(ctx, args, env)
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, new(usageError)):
		fmt.Fprintln(env.Stderr, "sim:", err)
		return 2
	default:
		fmt.Fprintln(env.Stderr, "sim:", err)
		return 1
	}
}

// usageError is a mistake in the command line: exit status 2.
type usageError struct{ msg string }

func (u usageError) Error() string { return u.msg }

// Run runs one command.
func Run(ctx context.Context, args []string, env *Env) error {
	if len(args) == 0 {
		fmt.Fprint(env.Stderr, usage)
		return usageError{"no command given; use loss, households or scale"}
	}
	switch args[0] {
	case "loss":
		return runLoss(ctx, args[1:], env)
	case "households":
		return runHouseholds(ctx, args[1:], env)
	case "scale":
		return runScale(ctx, args[1:], env)
	case "help", "-h", "--help":
		fmt.Fprint(env.Stdout, usage)
		return nil
	default:
		fmt.Fprint(env.Stderr, usage)
		return usageError{fmt.Sprintf("unknown command %q; use loss, households or scale", args[0])}
	}
}

// parseFlags parses a command's flags and refuses positional arguments.
func parseFlags(fs *flag.FlagSet, args []string, env *Env) error {
	fs.SetOutput(env.Stderr)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err.Error()}
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("%s: unexpected argument %q; all inputs are flags", fs.Name(), fs.Arg(0))}
	}
	return nil
}
