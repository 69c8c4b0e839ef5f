package policy

import (
	"fmt"
	"math/big"
	"slices"
	"strings"
)

// PeriodError reports a rule set whose releases repeat only after more
// than MaxHorizon rounds, so that no horizon the check accepts covers every
// combination of windows.
type PeriodError struct {
	// Rules are the rules whose windows (and, with Band, the day) raise the
	// least common multiple, in order of window.
	Rules   []string
	Windows []int
	// RoundsPerDay is set when a rule has a band: the day is part of the
	// period.
	RoundsPerDay int
	// Period is the least common multiple (decimal: it may exceed int).
	Period string
}

func (e *PeriodError) Error() string {
	parts := make([]string, len(e.Rules))
	for i, id := range e.Rules {
		parts[i] = fmt.Sprintf("%q (window %d)", id, e.Windows[i])
	}
	day := ""
	if e.RoundsPerDay > 0 {
		day = fmt.Sprintf(" and the day of %d rounds (time-of-use bands)", e.RoundsPerDay)
	}
	return fmt.Sprintf("policy: the windows of rules %s%s repeat only every %s rounds, beyond the %d rounds a leak check can cover, so a shorter check would miss window boundaries that meet later; choose windows that divide one another (e.g. 4, 8, 96, 672) or whose least common multiple is at most %d",
		strings.Join(parts, ", "), day, e.Period, MaxHorizon, MaxHorizon)
}

// Period returns the rule set's period: the least common multiple of the
// windows of the rules, and of roundsPerDay when a rule has a band. Every
// window boundary of every rule lies at a multiple of its window, and every
// band repeats daily, so the releases over rounds [m·L, (m+1)·L) are those
// over [0, L) shifted by m·L, and no window crosses a multiple of L. A check
// over horizon L therefore decides every horizon (see "Horizon" in the
// package documentation); a shorter one may miss leaks. Windows below 1
// are skipped (Resolve refuses them). When the period exceeds MaxHorizon
// the error is a *PeriodError naming the rules that make it so.
func (f *File) Period() (int, error) {
	type win struct {
		id     string
		window int
		band   bool
	}
	var ws []win
	for _, r := range f.Rules {
		if r.Window >= 1 {
			ws = append(ws, win{r.ID, r.Window, len(r.Band) > 0})
		}
	}
	slices.SortStableFunc(ws, func(a, b win) int { return a.window - b.window })
	l, limit := big.NewInt(1), big.NewInt(MaxHorizon)
	perr := &PeriodError{}
	// raise multiplies the period by what k adds to it, reporting whether
	// it grew.
	raise := func(k int) bool {
		g, n := new(big.Int), big.NewInt(int64(k))
		g.GCD(nil, nil, l, n)
		if g.Cmp(n) == 0 {
			return false
		}
		l.Mul(l, n.Div(n, g))
		return true
	}
	for _, w := range ws {
		if raise(w.window) {
			perr.Rules = append(perr.Rules, w.id)
			perr.Windows = append(perr.Windows, w.window)
		}
	}
	if f.RoundsPerDay > 0 && slices.ContainsFunc(ws, func(w win) bool { return w.band }) && raise(f.RoundsPerDay) {
		perr.RoundsPerDay = f.RoundsPerDay
	}
	if l.Cmp(limit) > 0 {
		perr.Period = l.String()
		return 0, perr
	}
	return int(l.Int64()), nil
}

// Period is [File.Period] for a resolved rule set.
func (p *Policy) Period() (int, error) {
	f := &File{RoundsPerDay: p.RoundsPerDay}
	for _, r := range p.Rules {
		fr := FileRule{ID: r.ID, Window: r.Window}
		for _, b := range r.Band {
			fr.Band = append(fr.Band, [2]int{b.From, b.To})
		}
		f.Rules = append(f.Rules, fr)
	}
	return f.Period()
}
