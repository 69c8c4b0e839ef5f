package configurator

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/ppnet/ppnet/internal/policy"
	"github.com/ppnet/ppnet/internal/registry"
)

func rulesCommand() command {
	return command{"request, list and revoke rules (registry; exit 3: refused)", group("rules", map[string]command{
		"request": {"admit a rule if the whole rule set passes the policy check", runRulesRequest},
		"list":    {"list the rules, revoked ones included", runRulesList},
		"revoke":  {"revoke a rule: the next epoch planned drops it", runRulesRevoke},
	})}
}

// checkFlags are the policy-check parameters of rules request and epoch
// plan.
type checkFlags struct {
	horizon, roundsPerDay, maxUnion, maxLeaks int
}

func (c *checkFlags) register(fsSet interface {
	IntVar(*int, string, int, string)
}) {
	fsSet.IntVar(&c.horizon, "horizon", 96, "rounds the leak check covers from round 0 (raised to the rules' period, the lcm of their windows, which decides every round)")
	fsSet.IntVar(&c.roundsPerDay, "rounds-per-day", 96, "rounds per day, for bands (96: 15-minute rounds)")
	fsSet.IntVar(&c.maxUnion, "max-union", 3, "largest union of producer atoms the leak search tries")
	fsSet.IntVar(&c.maxLeaks, "max-leaks", 5, "stop after this many leaks")
}

func (c *checkFlags) options() *registry.CheckOptions {
	return &registry.CheckOptions{Horizon: c.horizon, RoundsPerDay: c.roundsPerDay,
		Policy: &policy.Options{MaxUnion: c.maxUnion, MaxLeaks: c.maxLeaks}}
}

// parseBand parses "from-to" as a half-open range of rounds of the day.
func parseBand(s string) ([2]int, error) {
	a, b, ok := strings.Cut(s, "-")
	from, err1 := strconv.Atoi(a)
	to, err2 := strconv.Atoi(b)
	if !ok || err1 != nil || err2 != nil {
		return [2]int{}, fmt.Errorf("band %q: write from-to in rounds of the day, e.g. 72-88", s)
	}
	return [2]int{from, to}, nil
}

func runRulesRequest(_ context.Context, args []string, env *Env) error {
	fs, rf := newRegFlagSet("rules request",
		"Resolves the rule's producer selection against the enrolled labels and admits it\n"+
			"only if the active rules plus this one pass the policy check (grant, field bound,\n"+
			"differencing leaks; docs/policy.md). Prints the check's report as JSON; exit 3\n"+
			"when refused, leaving the registry unchanged.", env, false)
	var (
		rule      registry.Rule
		ids, excl listFlag
		ck        checkFlags
	)
	fs.StringVar(&rule.ID, "id", "", "rule id (A–Z a–z 0–9 _ -)")
	fs.StringVar(&rule.Consumer, "consumer", "", "consumer the rule releases to")
	fs.Var(&ids, "ids", "producer ids (comma-separated or repeated)")
	fs.StringVar(&rule.Producers.Selector, "selector", "", "label selector, e.g. feeder=F12,phase=A")
	fs.Var(&excl, "exclude", "producer ids removed from the selection")
	fs.IntVar(&rule.Window, "window", 0, "k: rounds per window")
	fs.StringVar(&rule.Kind, "kind", "", "sum or per-producer")
	fs.Func("band", "time-of-use band `from-to` in rounds of the day (repeatable)", func(s string) error {
		b, err := parseBand(s)
		rule.Band = append(rule.Band, b)
		return err
	})
	ck.register(fs)
	if err := parseFlags(fs, args, env); err != nil {
		return err
	}
	if err := need(fs, env, "id", "consumer", "window", "kind"); err != nil {
		return err
	}
	if len(ids) == 0 && rule.Producers.Selector == "" {
		return usageErr(fs, env, "select producers with --ids and/or --selector")
	}
	rule.Producers.IDs, rule.Producers.Exclude = ids, excl
	return withRegistry(rf, func(r *registry.Registry) error {
		rep, err := r.RequestRule(rule, ck.options())
		if err != nil {
			return refused(env, err)
		}
		return writeJSON(env.Stdout, rep)
	})
}

func runRulesList(_ context.Context, args []string, env *Env) error {
	fs, rf := newRegFlagSet("rules list", "Lists the rules, revoked ones included.", env, true)
	if err := parseFlags(fs, args, env); err != nil {
		return err
	}
	return withRegistry(rf, func(r *registry.Registry) error {
		rs, err := r.Rules()
		if err != nil || rf.jsonOut {
			return cmpErr(err, func() error { return writeJSON(env.Stdout, nonNil(rs)) })
		}
		var rows [][]string
		for _, rl := range rs {
			sel := []string{}
			if rl.Producers.Selector != "" {
				sel = append(sel, rl.Producers.Selector)
			}
			if len(rl.Producers.IDs) > 0 {
				sel = append(sel, "ids="+strings.Join(rl.Producers.IDs, ","))
			}
			if len(rl.Producers.Exclude) > 0 {
				sel = append(sel, "exclude="+strings.Join(rl.Producers.Exclude, ","))
			}
			status := "active"
			if rl.Revoked != nil {
				status = "revoked"
			}
			rows = append(rows, []string{rl.ID, rl.Consumer, rl.Kind, strconv.Itoa(rl.Window), strings.Join(sel, " "), bandString(rl.Band), status})
		}
		return table(env.Stdout, "ID\tCONSUMER\tKIND\tWINDOW\tPRODUCERS\tBAND\tSTATUS", rows)
	})
}

func runRulesRevoke(_ context.Context, args []string, env *Env) error {
	fs, rf := newRegFlagSet("rules revoke", "Revokes a rule; the next epoch planned drops it. Its id stays taken.", env, false)
	id := fs.String("id", "", "rule id")
	if err := parseFlags(fs, args, env); err != nil {
		return err
	}
	if err := need(fs, env, "id"); err != nil {
		return err
	}
	return withRegistry(rf, func(r *registry.Registry) error { return r.RevokeRule(*id) })
}

func bandString(b [][2]int) string {
	s := make([]string, len(b))
	for i, r := range b {
		s[i] = fmt.Sprintf("%d-%d", r[0], r[1])
	}
	return strings.Join(s, ",")
}
