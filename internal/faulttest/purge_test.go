package faulttest

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/ppnet/ppnet/internal/netconfig"
	"github.com/ppnet/ppnet/internal/wire"
)

// TestStreamPurgeBelowPPN stops one PPN, purges the bundle stream below the
// others' position (what a purge by an operator, or max_age/max_bytes
// while the PPN is down, does), and restarts it. The restarted PPN must
// report the gap — stream_gap_messages_total and /healthz — and withhold
// its shares of every window touching a round whose bundles it lost, while
// every result stays exact and complete (the other four PPNs carry it) and
// the windows after the lost rounds have its share again. Then, with the
// run over, the PPN is stopped once more, messages are appended and purged
// with nothing after them: only the check at resume (the server starting
// its consumer past its position) can find that gap.
func TestStreamPurgeBelowPPN(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	const victim = 1
	srv, n := startNet(ctx, t, Options{Rounds: 12, Round: 100 * time.Millisecond})

	waitUntil(t, 30*time.Second, "round 2", func() bool { return time.Now().After(n.Net.RoundStart(2)) })
	_, committed, err := n.StopPPN(ctx, victim)
	if err != nil {
		t.Fatal(err)
	}
	waitUntil(t, 30*time.Second, "round 6", func() bool { return time.Now().After(n.Net.RoundStart(6)) })
	// Purge below the slowest running PPN's position: nothing the others
	// still need is lost, everything from the victim's position on up to
	// there is.
	below := uint64(0)
	for i, p := range n.ppns {
		if p == nil || i == victim {
			continue
		}
		if applied, _ := p.Position(); below == 0 || applied < below {
			below = applied
		}
	}
	if below <= committed+1 {
		t.Fatalf("the running PPNs are at %d, the stopped one committed %d: nothing to purge between", below, committed)
	}
	js := jetStream(t, srv, "operator")
	st, err := js.Stream(ctx, n.Cfg.Streams.Bundles)
	if err != nil {
		t.Fatal(err)
	}
	if c := st.CachedInfo().Config; c.MaxAge != netconfig.DefaultStreamMaxAge || c.MaxBytes != -1 {
		t.Errorf("bundle stream max age %v, max bytes %d; want the default %v and no cap", c.MaxAge, c.MaxBytes, netconfig.DefaultStreamMaxAge)
	}
	// The rounds whose bundles the victim is about to lose.
	lostRounds := map[uint64]bool{}
	for seq := committed + 1; seq < below; seq++ {
		m, err := st.GetMsg(ctx, seq)
		if err != nil {
			t.Fatal(err)
		}
		if b, err := wire.DecodeBundle(m.Data); err == nil {
			lostRounds[b.Round] = true
		}
	}
	if len(lostRounds) == 0 {
		t.Fatalf("sequences %d–%d hold no bundle; the purge would test nothing", committed+1, below-1)
	}
	if err := st.Purge(ctx, jetstream.WithPurgeSequence(below)); err != nil {
		t.Fatal(err)
	}
	t.Logf("%s stopped at sequence %d; stream purged below %d (bundles of %d rounds)", n.Cfg.PPNs[victim].ID, committed, below, len(lostRounds))
	if err := n.StartPPN(ctx, victim); err != nil {
		t.Fatal(err)
	}

	finish(t, ctx, n)
	lost := n.ppnMetric(t, "ppnet_ppn_stream_gap_messages_total", []int{victim})
	if want := float64(below - committed - 1); lost != want {
		t.Errorf("%s reported %v messages lost, want %v (sequences %d–%d)", n.Cfg.PPNs[victim].ID, lost, want, committed+1, below-1)
	}
	if others := n.ppnMetric(t, "ppnet_ppn_stream_gap_messages_total", []int{0, 2, 3, 4}); others != 0 {
		t.Errorf("the PPNs that were not stopped reported %v lost messages", others)
	}
	if err := n.ppns[victim].Healthy(); err == nil || !strings.Contains(err.Error(), "lost messages") {
		t.Errorf("%s health after the gap: %v; want the gap named", n.Cfg.PPNs[victim].ID, err)
	}
	// The victim withholds every window touching a round whose bundles it
	// may have lost (from its first unsealed round to one past the round in
	// progress when the first message after the gap was stored): its share
	// is neither combined nor set aside there. It serves the windows after.
	first, err := st.GetMsg(ctx, below)
	if err != nil {
		t.Fatal(err)
	}
	hi := uint64(n.Net.RoundAt(first.Time) + 2)
	id := n.Cfg.PPNs[victim].ID
	after := 0
	for _, c := range n.consumers {
		res, err := c.Results()
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range res {
			end := r.WindowStart + r.WindowRounds
			lostIn := false
			for rd := r.WindowStart; rd < end; rd++ {
				lostIn = lostIn || lostRounds[rd]
			}
			if lostIn && (slices.Contains(r.PPNs, id) || slices.Contains(r.Mismatched, id)) {
				t.Errorf("%s window %d–%d has a share of %s (combined %v, set aside %v), which lost bundles of those rounds",
					r.Rule, r.WindowStart, end-1, id, r.PPNs, r.Mismatched)
			}
			if r.WindowStart >= hi && slices.Contains(r.PPNs, id) {
				after++
			}
		}
	}
	withheld := n.ppnMetric(t, "ppnet_ppn_windows_withheld_total", []int{victim})
	if withheld == 0 {
		t.Errorf("%s withheld no window", id)
	}
	if hi < n.Opts.Rounds && after == 0 {
		t.Errorf("no window from round %d on (after the lost rounds) has %s's share", hi, id)
	}
	t.Logf("%s withheld %v windows; %d results of windows from round %d on combined its share", id, withheld, after, hi)

	// A gap with no message after it: only the resume check sees it.
	_, committed, err = n.StopPPN(ctx, victim)
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if _, err := js.Publish(ctx, n.Net.BundleSubject(0), []byte("lost")); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.Purge(ctx); err != nil {
		t.Fatal(err)
	}
	if err := n.StartPPN(ctx, victim); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, 10*time.Second, "the resume gap reported", func() bool {
		return n.ppnMetric(t, "ppnet_ppn_stream_gap_messages_total", []int{victim}) == 3
	})
	if err := n.ppns[victim].Healthy(); err == nil || !strings.Contains(err.Error(), fmt.Sprintf("lost messages %d–%d", committed+1, committed+3)) {
		t.Errorf("%s health after resuming past purged sequences %d–%d: %v", id, committed+1, committed+3, err)
	}
}
