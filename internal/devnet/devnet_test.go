package devnet

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ppnet/ppnet/internal/consumer"
	"github.com/ppnet/ppnet/sharing"
)

// small returns options for a fast test network in t.TempDir().
func small(t *testing.T) Options {
	t.Helper()
	return Options{Meters: 40, Producers: 3, PPNs: 5, T: 3, W: 5, Rounds: 8,
		Round: 50 * time.Millisecond, Grace: 150 * time.Millisecond, Settle: 3 * time.Second, DataDir: t.TempDir()}
}

// run starts a network, optionally runs script against it, waits for every
// result and verifies them against the meters' history.
func run(t *testing.T, o Options, script func(ctx context.Context, d *Net)) *Report {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	d, err := Start(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := d.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	}()
	if script != nil {
		script(ctx, d)
	}
	if err := d.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	rep, err := d.Verify(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var sb strings.Builder
	rep.Print(&sb)
	t.Log("\n" + sb.String())
	checkReport(t, rep)
	return rep
}

// checkReport asserts exactness and that the run covered something: a run
// where every bundle came late would be exact and meaningless.
func checkReport(t *testing.T, rep *Report) {
	t.Helper()
	if rep.Mismatches != 0 {
		t.Fatalf("%d results differ from the plain sums of the readings they cover", rep.Mismatches)
	}
	var covered uint64
	for _, r := range rep.Rows {
		covered += r.Covered
	}
	if covered == 0 {
		t.Fatal("no result covers any reading")
	}
	if rep.Readings != rep.Meters*int(rep.Rounds) {
		t.Fatalf("meters stored %d readings, want %d", rep.Readings, rep.Meters*int(rep.Rounds))
	}
}

func TestExactness(t *testing.T) {
	rep := run(t, small(t), nil)
	for _, r := range rep.Rows {
		if len(r.PPNs) != 5 || !r.Checked || len(r.Faulty) != 0 || len(r.Mismatched) != 0 {
			t.Errorf("%s window %d: combined %v checked %v faulty %v mismatched %v; want all 5 PPNs agreeing",
				r.Rule, r.WindowStart, r.PPNs, r.Checked, r.Faulty, r.Mismatched)
		}
	}
	if len(rep.Rows) != 8+1+1 {
		t.Fatalf("%d results, want 10", len(rep.Rows))
	}
}

func TestOneProducerPerMeter(t *testing.T) {
	o := small(t)
	o.Meters, o.Producers = 12, 12
	run(t, o, nil)
}

func TestWMinusTPPNsDown(t *testing.T) {
	o := small(t)
	o.Down = []int{0, 3} // w − t = 2
	o.Settle = 300 * time.Millisecond
	rep := run(t, o, nil)
	for _, r := range rep.Rows {
		if len(r.PPNs) != 3 || slices.Contains(r.PPNs, "ppn1") || slices.Contains(r.PPNs, "ppn4") {
			t.Errorf("%s window %d combined %v; want the 3 running PPNs", r.Rule, r.WindowStart, r.PPNs)
		}
	}
}

func offByOne(_ string, _ uint64, vals []sharing.Element) {
	for i := range vals {
		vals[i] = vals[i].Add(sharing.NewElement(1))
	}
}

func TestLyingPPNCorrected(t *testing.T) {
	o := small(t) // w = 5 ≥ t + 2
	o.Tamper = map[int]func(string, uint64, []sharing.Element){1: offByOne}
	rep := run(t, o, nil)
	for _, r := range rep.Rows {
		if !slices.Equal(r.Faulty, []string{"ppn2"}) {
			t.Errorf("%s window %d: faulty %v, want [ppn2]", r.Rule, r.WindowStart, r.Faulty)
		}
	}
}

func TestLyingPPNDetected(t *testing.T) {
	o := small(t)
	o.PPNs, o.W = 4, 4 // w = t + 1: detect, cannot correct
	o.Tamper = map[int]func(string, uint64, []sharing.Element){2: offByOne}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	d, err := Start(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if err := d.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	var rs []consumer.Result
	for _, c := range d.Consumers() {
		res, err := c.Results()
		if err != nil {
			t.Fatal(err)
		}
		rs = append(rs, res...)
	}
	if len(rs) == 0 {
		t.Fatal("no results")
	}
	for _, r := range rs {
		if r.Error == "" || r.Value != nil || r.Values != nil || !strings.Contains(r.Error, "cannot be corrected") {
			t.Errorf("%s window %d: error %q value %v; want the inconsistency reported and no value", r.Rule, r.WindowStart, r.Error, r.Value)
		}
	}
}

// TestPPNCrashRestart kills a PPN (dropping its uncommitted work) in the
// middle of the first window and restarts it two rounds later: it must
// resume from its committed stream position and agree with the others on
// every window, so nothing is lost or counted twice.
func TestPPNCrashRestart(t *testing.T) {
	o := small(t)
	o.CommitEvery = 1 << 20 // commit only at seals and idle points
	o.Producers = 6
	var restarted bool
	rep := run(t, o, func(ctx context.Context, d *Net) {
		if err := d.StopPPN(ctx, 2); err != nil {
			t.Fatal(err)
		}
		if err := d.StartPPN(ctx, 2, true); err != nil { // restart in crash mode
			t.Fatal(err)
		}
		// Kill it while it holds applied but uncommitted bundles, so the
		// restart must replay them from the stream.
		waitFor(t, func() bool {
			applied, committed := d.PPN(2).Position()
			return time.Now().After(d.Net.RoundStart(2)) && applied > committed
		})
		applied, committed := d.PPN(2).Position()
		if err := d.StopPPN(ctx, 2); err != nil { // "kill"
			t.Fatal(err)
		}
		t.Logf("killed ppn3 with stream sequences %d..%d applied but not committed", committed+1, applied)
		waitFor(t, func() bool { return time.Now().After(d.Net.RoundStart(4)) })
		if err := d.StartPPN(ctx, 2, false); err != nil {
			t.Fatal(err)
		}
		restarted = true
	})
	if !restarted {
		t.Fatal("script did not run")
	}
	for _, r := range rep.Rows {
		if !slices.Contains(r.PPNs, "ppn3") || len(r.Faulty) != 0 || len(r.Mismatched) != 0 {
			t.Errorf("%s window %d: combined %v faulty %v mismatched %v; the restarted ppn3 must agree", r.Rule, r.WindowStart, r.PPNs, r.Faulty, r.Mismatched)
		}
	}
}

// waitFor polls cond every 10 ms for up to a minute.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached within a minute")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestNATSRestart stops the NATS server for three rounds in the middle of a
// run and starts it again on the same store: producers and PPNs buffer and
// retry, every window is still emitted and every result is exact. Bundles
// that reach the stream after their round was sealed are reported missing.
func TestNATSRestart(t *testing.T) {
	o := small(t)
	o.Rounds = 12
	rep := run(t, o, func(ctx context.Context, d *Net) {
		waitFor(t, func() bool { return time.Now().After(d.Net.RoundStart(3)) })
		if err := d.RestartNATS(3 * o.Round); err != nil {
			t.Fatal(err)
		}
	})
	var missing int
	for _, r := range rep.Rows {
		missing += len(r.Missing)
		if len(r.PPNs) != 5 || len(r.Faulty) != 0 || len(r.Mismatched) != 0 {
			t.Errorf("%s window %d: combined %v faulty %v mismatched %v", r.Rule, r.WindowStart, r.PPNs, r.Faulty, r.Mismatched)
		}
	}
	t.Logf("%d (meter, round) pairs missing after the outage", missing)
}
