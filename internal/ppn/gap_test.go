package ppn

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/ppnet/ppnet/internal/netconfig"
)

// TestStreamGapWithholdsLostRounds feeds PPN 0 a stream whose sequences
// 3–5 are missing, as after a purge. The lost messages held the first copy
// of producer 0's round 1; a second copy with other readings follows the
// gap. Summing it would give an aggregate with the same coverage (and
// digest) as the other PPNs' but a share of another polynomial, so every
// window touching the rounds the gap may have carried (0 to one past the
// round in progress when the message after the gap was stored) must be
// withheld, and later windows emitted as usual.
func TestStreamGapWithholdsLostRounds(t *testing.T) {
	f := newFixture(t, netconfig.RuleSpec{ID: "per-round", Consumer: "c", Kind: netconfig.KindSum, Window: 1, Fraction: 1})
	const perRound = 2 // rule index of "per-round"
	f.at = f.net.RoundStart(0).Add(time.Second)
	f.feedBundle(0, 0, 1, 2)
	f.feedBundle(1, 0, 3, 4)
	f.seq += 3 // sequences 3–5 purged: the first copy of producer 0's round 1 among them
	f.at = f.net.RoundStart(1).Add(time.Second)
	f.feedBundle(0, 1, 50, 60)
	if got := testutil.ToFloat64(f.p.m.gaps); got != 1 {
		t.Fatalf("stream gaps %v, want 1", got)
	}
	if got := testutil.ToFloat64(f.p.m.gapMessages); got != 3 {
		t.Fatalf("lost messages %v, want 3 (sequences 3–5)", got)
	}
	if want := []roundSpan{{0, 3}}; !slices.Equal(f.p.st.lost, want) {
		t.Fatalf("lost rounds %v, want %v (first unsealed round 0 to one past round 1, in progress at the gap)", f.p.st.lost, want)
	}
	if err := f.p.gapErr; err == nil || !strings.Contains(err.Error(), "lost messages 3–5") {
		t.Fatalf("health after the gap: %v; want the sequences named", err)
	}
	for _, s := range []string{"bundle stream gap", "from_seq=3", "to_seq=5", f.net.Config.Streams.Bundles} {
		if !strings.Contains(f.logs.String(), s) {
			t.Errorf("log lacks %q:\n%s", s, f.logs.String())
		}
	}

	// The lost spans are committed with the position and survive a restart.
	db, err := openStore(filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := f.p.st.commit(db); err != nil {
		t.Fatal(err)
	}
	st, err := load(db, func(rule int) (int, uint32, bool) {
		return f.net.Rules[rule].Values, f.net.Rules[rule].Slots, true
	})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(st.lost, f.p.st.lost) || st.seq != 6 {
		t.Fatalf("reloaded lost rounds %v at sequence %d, want %v at 6", st.lost, st.seq, f.p.st.lost)
	}

	f.feedBundle(1, 1, 7, 8)
	f.feed(f.seal(1, 1)) // closes windows [0,1] and per-round 0 and 1: all touch lost rounds
	if len(f.p.st.outbox) != 0 {
		t.Fatalf("%d aggregates emitted for windows of lost rounds, want none", len(f.p.st.outbox))
	}
	if got := testutil.ToFloat64(f.p.m.withheld); got != 4 {
		t.Fatalf("windows withheld %v, want 4", got)
	}
	f.at = f.net.RoundStart(3).Add(time.Second)
	for r := uint64(2); r < 4; r++ {
		f.feedBundle(0, r, 1, 1)
		f.feedBundle(1, r, 1, 1)
	}
	f.feed(f.seal(2, 3)) // closes [2,3] (touches round 2, lost) and per-round 2 (lost) and 3 (not)
	if got := testutil.ToFloat64(f.p.m.withheld); got != 7 {
		t.Fatalf("windows withheld %v, want 7", got)
	}
	if _, ok := f.p.st.outbox[winKey{perRound, 3}]; len(f.p.st.outbox) != 1 || !ok {
		t.Fatalf("outbox %d aggregates; want only per-round window 3, after the lost rounds", len(f.p.st.outbox))
	}
	if len(f.p.st.lost) != 0 {
		t.Fatalf("lost rounds %v kept after every window touching them closed", f.p.st.lost)
	}
	if got := testutil.ToFloat64(f.p.m.gaps); got != 1 {
		t.Fatalf("stream gaps %v after consecutive deliveries, want still 1", got)
	}
}

func TestAddLost(t *testing.T) {
	tests := []struct {
		have []roundSpan
		add  roundSpan
		want []roundSpan
	}{
		{nil, roundSpan{2, 5}, []roundSpan{{2, 5}}},
		{[]roundSpan{{2, 5}}, roundSpan{7, 9}, []roundSpan{{2, 5}, {7, 9}}},
		{[]roundSpan{{7, 9}}, roundSpan{2, 5}, []roundSpan{{2, 5}, {7, 9}}},
		{[]roundSpan{{2, 5}, {7, 9}}, roundSpan{4, 8}, []roundSpan{{2, 9}}},
		{[]roundSpan{{2, 5}}, roundSpan{5, 6}, []roundSpan{{2, 6}}},
		{[]roundSpan{{2, 5}}, roundSpan{3, 4}, []roundSpan{{2, 5}}},
	}
	for _, tc := range tests {
		s := &state{lost: slices.Clone(tc.have)}
		s.addLost(tc.add)
		if !slices.Equal(s.lost, tc.want) {
			t.Errorf("%v + %v = %v, want %v", tc.have, tc.add, s.lost, tc.want)
		}
	}
}

// feedBundle feeds producer s's bundle for round with readings wh.
func (f *fixture) feedBundle(s int, round uint64, wh ...int64) {
	b := f.bundle(s, round, wh...)
	f.feed(b.Marshal())
}
