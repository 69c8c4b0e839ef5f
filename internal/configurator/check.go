package configurator

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"

	"github.com/ppnet/ppnet/internal/policy"
)

// Exit codes of `configurator check` besides 0 (accepted).
const (
	checkBadInput = 2
	checkRefused  = 3
)

// exitCodeError ends a subcommand with a specific exit code after the
// subcommand has already written what the user needs to see.
type exitCodeError struct{ code int }

func (e *exitCodeError) Error() string { return fmt.Sprintf("configurator: exit status %d", e.code) }

// ExitCode is the process exit code Main returns for this error.
func (e *exitCodeError) ExitCode() int { return e.code }

// runCheck implements `configurator check [flags] FILE`: it decides a rule
// set offline (DESIGN §2; method in docs/policy.md). Exit 0 and a JSON
// report when accepted; exit 3 and the JSON report naming the refused rules
// and the leaking combinations when refused; exit 2 with a message on
// stderr when the file or the flags are wrong.
func runCheck(_ context.Context, args []string, env *Env) error {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	fs.Usage = func() {
		fmt.Fprintln(env.Stderr, "usage: configurator check [flags] FILE\n\n"+
			"Decides a rule set (YAML or JSON: producers with labels and max reading,\n"+
			"consumers with grants, rules, optional horizon) against grants, the field\n"+
			"bound and the differencing attack. Without a horizon it checks the rules'\n"+
			"period (lcm of the windows, and of the day with bands), which decides every\n"+
			"round. Exit 0 accepted, 3 refused (explanation as JSON\n"+
			"on stdout), 2 bad input.\n\nflags:")
		fs.PrintDefaults()
	}
	maxUnion := fs.Int("max-union", 3, "largest union of producer atoms the leak search tries")
	maxLeaks := fs.Int("max-leaks", 5, "stop after this many leaks")
	seed := fs.Uint64("seed", 1, "seed of the random fingerprints that screen candidates")
	effective := fs.String("effective", "", "JSON file {rule id: [producer ids]} of effective producer sets to check instead of the configured ones")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errUsage
	}
	if fs.NArg() != 1 {
		return usageErr(fs, env, "need exactly one rule-set FILE, got %d arguments", fs.NArg())
	}
	if *maxUnion < 1 || *maxLeaks < 1 {
		return usageErr(fs, env, "-max-union and -max-leaks must be at least 1")
	}
	p, err := loadPolicy(fs.Arg(0), *effective)
	if err != nil {
		fmt.Fprintf(env.Stderr, "configurator check: %v\n", err)
		return &exitCodeError{checkBadInput}
	}
	rep, err := policy.Check(p, &policy.Options{MaxUnion: *maxUnion, MaxLeaks: *maxLeaks, Seed: *seed})
	if err != nil {
		fmt.Fprintf(env.Stderr, "configurator check: %v\n", err)
		return &exitCodeError{checkBadInput}
	}
	if period := rep.Stats.Period; period == 0 || p.Horizon < period {
		// A finite horizon is a legitimate question, but not the one a
		// deployment asks: its rules run without end.
		what := fmt.Sprintf("the rules' period is %d rounds", period)
		if period == 0 {
			what = fmt.Sprintf("the rules' period is beyond %d rounds", policy.MaxHorizon)
		}
		fmt.Fprintf(env.Stderr, "configurator check: warning: horizon %d decides rounds [0, %d) only; %s, and window boundaries that meet later are not checked; omit horizon to decide every round\n", p.Horizon, p.Horizon, what)
	}
	enc := json.NewEncoder(env.Stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(rep); err != nil {
		return fmt.Errorf("configurator check: writing the report: %w", err)
	}
	if !rep.Accepted {
		return &exitCodeError{checkRefused}
	}
	return nil
}

// loadPolicy reads and resolves a rule-set file, then applies the
// effective producer sets if a file of them is given.
func loadPolicy(path, effective string) (*policy.Policy, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%w; give the path of a rule-set file (YAML or JSON)", err)
	}
	defer fh.Close()
	f, err := policy.Decode(fh)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	p, err := policy.Resolve(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if effective == "" {
		return p, nil
	}
	data, err := os.ReadFile(effective)
	if err != nil {
		return nil, fmt.Errorf("%w; -effective takes a JSON file mapping rule ids to producer ids", err)
	}
	var sets map[string][]string
	if err := json.Unmarshal(data, &sets); err != nil {
		return nil, fmt.Errorf("%s: not a JSON object of rule id → [producer ids]: %v", effective, err)
	}
	return p.WithEffective(sets)
}
