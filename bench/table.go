package main

import (
	"fmt"
	"io"
	"math"
	"os"
	"runtime"
	"strings"
	"testing"
)

// result is a measured row.
type result struct {
	row
	ns     float64 // per unit of work
	allocs float64 // per benchmark op
}

type measured struct {
	opGroup
	res []result
}

// measure checks every row once, then measures the rows of each group
// round-robin, count rounds, keeping each row's fastest run: load from
// elsewhere on the machine then slows peers and ours alike instead of
// landing on whichever row happened to run at that moment.
func measure(gs []opGroup, count int) []measured {
	out := make([]measured, 0, len(gs))
	for _, g := range gs {
		m := measured{opGroup: g}
		for _, r := range g.rows {
			if err := r.check(); err != nil {
				fmt.Fprintf(os.Stderr, "bench: %s / %s gives a wrong answer: %v\n", g.op, r.impl, err)
				os.Exit(1)
			}
			m.res = append(m.res, result{row: r, ns: math.Inf(1)})
		}
		for range count {
			for i := range m.res {
				r := &m.res[i]
				br := testing.Benchmark(func(b *testing.B) { b.ReportAllocs(); r.run(b) })
				if br.N == 0 {
					fmt.Fprintf(os.Stderr, "bench: %s / %s failed\n", g.op, r.impl)
					os.Exit(1)
				}
				ns := float64(br.T.Nanoseconds()) / float64(br.N) / float64(max(r.per, 1))
				if ns < r.ns {
					r.ns, r.allocs = ns, float64(br.MemAllocs)/float64(br.N)
				}
			}
		}
		fmt.Fprintf(os.Stderr, "bench: measured %s\n", g.op)
		out = append(out, m)
	}
	return out
}

// fastestPeer returns the smallest ns among the peer rows, or 0 if none.
func (m measured) fastestPeer() float64 {
	best := 0.0
	for _, r := range m.res {
		if r.peer && (best == 0 || r.ns < best) {
			best = r.ns
		}
	}
	return best
}

func printTable(w io.Writer, ms []measured) {
	fmt.Fprintf(w, "%s %s/%s, GOMAXPROCS=%d\n\n", runtime.Version(), runtime.GOOS, runtime.GOARCH, runtime.GOMAXPROCS(0))
	fmt.Fprintln(w, "| operation | implementation | ns | per | allocs/op | speed-up vs fastest peer |")
	fmt.Fprintln(w, "| --- | --- | ---: | --- | ---: | ---: |")
	for _, m := range ms {
		fp := m.fastestPeer()
		for _, r := range m.res {
			ratio := "–"
			if fp > 0 {
				ratio = fmt.Sprintf("%.3g×", fp/r.ns)
			}
			fmt.Fprintf(w, "| %s | %s | %s | %s | %.0f | %s |\n", m.op, r.impl, fmtNs(r.ns), m.unit, r.allocs, ratio)
		}
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Targets (our best row of each operation):")
	for _, m := range ms {
		if m.targetNote == "" {
			continue
		}
		fmt.Fprintf(w, "  %-24s %-32s %s\n", m.op, m.targetNote, verdict(m))
	}
}

// verdict states whether our fastest row meets the group's targets.
func verdict(m measured) string {
	var best *result
	for i, r := range m.res {
		if !r.peer && !strings.HasPrefix(r.impl, "reference") && (best == nil || r.ns < best.ns) {
			best = &m.res[i]
		}
	}
	if best == nil {
		return "no row of ours"
	}
	if m.maxNs == 0 && m.minRatio == 0 {
		// No target: the cost of each case is the figure, not the fastest.
		var rows []string
		for _, r := range m.res {
			if !r.peer && !strings.HasPrefix(r.impl, "reference") {
				rows = append(rows, fmt.Sprintf("%s ns (%s)", fmtNs(r.ns), r.impl))
			}
		}
		return "measured: " + strings.Join(rows, "; ")
	}
	var parts []string
	ok := true
	parts = append(parts, fmt.Sprintf("%s ns", fmtNs(best.ns)))
	if m.maxNs > 0 {
		ok = ok && best.ns <= m.maxNs
	}
	if m.minRatio > 0 {
		if fp := m.fastestPeer(); fp > 0 {
			parts = append(parts, fmt.Sprintf("%.3g× fastest peer", fp/best.ns))
			ok = ok && fp/best.ns >= m.minRatio
		}
	}
	status := "met"
	if !ok {
		status = "NOT MET"
	}
	return fmt.Sprintf("%s: %s (%s)", status, strings.Join(parts, ", "), best.impl)
}

func fmtNs(ns float64) string {
	switch {
	case ns < 10:
		return fmt.Sprintf("%.2f", ns)
	case ns < 1000:
		return fmt.Sprintf("%.1f", ns)
	default:
		return fmt.Sprintf("%.0f", ns)
	}
}
