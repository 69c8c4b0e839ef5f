package ppn

import (
	"bytes"
	"crypto/rand"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/ppnet/ppnet/internal/netconfig"
	"github.com/ppnet/ppnet/internal/seal"
	"github.com/ppnet/ppnet/internal/wire"
	"github.com/ppnet/ppnet/sharing"
)

// fixture is PPN 0 of a 3-PPN network (t = 2) with two producers of two
// meters each, a sum rule and a per-producer rule over windows of 2 rounds,
// fed messages directly (no NATS) so every outcome is deterministic.
type fixture struct {
	t    *testing.T
	net  *netconfig.Network
	keys *netconfig.Keys
	p    *PPN
	logs *bytes.Buffer
	seq  uint64
	at   time.Time // when the stream stored the message fed next
}

func newFixture(t *testing.T, extra ...netconfig.RuleSpec) *fixture {
	t.Helper()
	spec := netconfig.Spec{PPNs: 3, Threshold: 2, W: 3, Meters: 4, Producers: 2,
		Start: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), Round: time.Minute, Grace: time.Second, Rounds: 4, PerDay: 2,
		Rules: append([]netconfig.RuleSpec{
			{ID: "total", Consumer: "c", Kind: netconfig.KindSum, Window: 2, Fraction: 1},
			{ID: "bill", Consumer: "c", Kind: netconfig.KindPerProducer, Window: 2, Fraction: 1},
		}, extra...)}
	cfg, keys, err := netconfig.Generate(spec, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	n, err := cfg.Resolve()
	if err != nil {
		t.Fatal(err)
	}
	logs := &bytes.Buffer{}
	p, err := New(Config{ID: "ppn1", DataDir: t.TempDir(), Net: n, Key: keys.PPNs[0], Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	if err != nil {
		t.Fatal(err)
	}
	p.st = &state{windows: map[winKey]*window{}, outbox: map[winKey][]byte{}}
	return &fixture{t: t, net: n, keys: keys, p: p, logs: logs}
}

// bundle builds producer s's sealed bundle for a round, as a producer does.
func (f *fixture) bundle(s int, round uint64, wh ...int64) wire.Bundle {
	f.t.Helper()
	sp, err := sharing.NewSplitter(f.net.X, 2, rand.Reader)
	if err != nil {
		f.t.Fatal(err)
	}
	meters := f.net.ProducerMeters[s]
	b := wire.Bundle{Epoch: f.net.Config.Epoch, Round: round, Sender: uint32(s), Meters: meters}
	header := b.AppendHeader(nil)
	plains := make([][]byte, len(f.net.X))
	for i := range meters {
		ys := make([]sharing.Element, len(f.net.X))
		e, _ := sharing.FromInt64(wh[i])
		if err := sp.Split(e, ys); err != nil {
			f.t.Fatal(err)
		}
		for j := range ys {
			plains[j] = wire.AppendElements(plains[j], ys[j:j+1])
		}
	}
	ring := seal.NewKeyring(f.keys.Producers[s], f.net.Config.Epoch)
	for j, k := range f.net.PPNKeys {
		ring.AddPeer(seal.PurposePart, j, k)
		aead, err := ring.AEAD(seal.PurposePart, j)
		if err != nil {
			f.t.Fatal(err)
		}
		nonce := seal.PartNonce(b.Epoch, round, 0)
		b.Parts = append(b.Parts, wire.Part{PPN: uint16(j), Sealed: aead.Seal(nil, nonce[:], plains[j], wire.PartAAD(nil, header, uint16(j)))})
	}
	b.Header = header
	return b
}

// feed applies msg at the next sequence, on the subject its type belongs on.
func (f *fixture) feed(msg []byte) {
	subject := f.net.BundleSubject(0)
	if typ, _ := wire.PeekType(msg); typ == wire.TypeSeal {
		subject = f.net.SealSubject()
	}
	f.feedOn(subject, msg)
}

func (f *fixture) feedOn(subject string, msg []byte) {
	f.seq++
	f.p.ingest(msg, f.seq, subject, f.at)
}

// seal returns PPN by's authentic seal marker closing every round ≤ round.
func (f *fixture) seal(by int, round uint64) []byte {
	f.t.Helper()
	msg, _, err := SealMarker(f.net, SealKeyring(f.net, f.keys.PPNs[by]), by, round)
	if err != nil {
		f.t.Fatal(err)
	}
	return msg
}

func (f *fixture) rejected(reason string) float64 {
	return testutil.ToFloat64(f.p.m.rejected.WithLabelValues(reason))
}

func TestRejectsBadMessages(t *testing.T) {
	f := newFixture(t)
	good := f.bundle(0, 0, 10, 20)
	f.feed(good.Marshal())
	if got := testutil.ToFloat64(f.p.m.shares); got != 4 { // 2 meters × 2 rules
		t.Fatalf("shares added %v, want 4", got)
	}

	replayed := good
	replayed.Round = 1 // same parts presented as another round
	moved := f.bundle(0, 0, 1, 2)
	moved.Parts[0].Sealed = moved.Parts[1].Sealed // PPN 1's part in PPN 0's slot
	flipped := f.bundle(1, 0, 1, 2)
	flipped.Parts[0].Sealed = append([]byte(nil), flipped.Parts[0].Sealed...)
	flipped.Parts[0].Sealed[3] ^= 0x10
	stolen := f.bundle(1, 0, 1, 2)
	stolen.Meters = f.net.ProducerMeters[0] // claims meters of another producer
	otherEpoch := f.bundle(1, 0, 1, 2)
	otherEpoch.Epoch = 9
	future := f.bundle(1, 5, 1, 2)
	goodMsg := good.Marshal()
	agg := wire.Aggregate{Slots: 1, Sealed: make([]byte, 24)}
	aggMsg := agg.Marshal()

	tests := []struct {
		name, reason string
		msg          []byte
	}{
		{"garbage", "magic", []byte("hello, world")},
		{"truncated", "truncated", goodMsg[:len(goodMsg)-5]},
		{"oversized", "oversized", make([]byte, wire.MaxMessage+1)},
		{"replayed into another round", "forged", replayed.Marshal()},
		{"part moved to another PPN", "forged", moved.Marshal()},
		{"bit flipped", "forged", flipped.Marshal()},
		{"meters of another producer", "meter", stolen.Marshal()},
		{"other epoch", "epoch", otherEpoch.Marshal()},
		{"round outside epoch", "round_range", future.Marshal()},
		{"aggregate on bundle stream", "type", aggMsg},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := f.rejected(tc.reason)
			f.feed(tc.msg)
			if got := f.rejected(tc.reason); got != before+1 {
				t.Fatalf("rejected{reason=%q} = %v, want %v", tc.reason, got, before+1)
			}
			if !strings.Contains(f.logs.String(), "reason="+tc.reason) {
				t.Fatalf("no log line naming reason %q", tc.reason)
			}
		})
	}
	if got := testutil.ToFloat64(f.p.m.shares); got != 4 {
		t.Fatalf("rejected messages changed the accumulators: %v shares added", got)
	}
}

func TestDuplicatesAndLate(t *testing.T) {
	f := newFixture(t)
	b := f.bundle(0, 0, 10, 20)
	f.feed(b.Marshal())
	f.feed(b.Marshal()) // the same bundle again (e.g. resent past the dedup window)
	if got := testutil.ToFloat64(f.p.m.duplicates); got != 4 {
		t.Fatalf("duplicate shares %v, want 4", got)
	}
	b1 := f.bundle(1, 1, 5, 6)
	f.feed(b1.Marshal())
	// What PPN 0 should hold for the sum rule's window 0: its shares of
	// producer 0's round 0 and producer 1's round 1, each counted once.
	var want sharing.Element
	for _, bd := range []wire.Bundle{b, b1} {
		for _, e := range f.openPart0(bd) {
			want = want.Add(e)
		}
	}
	f.feed(f.seal(2, 1)) // seals rounds 0 and 1: window 0 ends
	if len(f.p.st.outbox) != 2 || f.p.st.sealed != 2 {
		t.Fatalf("after the seal: %d aggregates in the outbox, sealed %d; want 2 and 2", len(f.p.st.outbox), f.p.st.sealed)
	}
	f.feed(f.seal(1, 0)) // a later seal for sealed rounds
	if got := testutil.ToFloat64(f.p.m.seals.WithLabelValues("ignored")); got != 1 {
		t.Fatalf("ignored seals %v, want 1", got)
	}
	added := testutil.ToFloat64(f.p.m.shares)
	late := f.bundle(1, 0, 7, 8)
	f.feed(late.Marshal()) // producer 1's round 0, after the seal
	if got := testutil.ToFloat64(f.p.m.late); got != 1 {
		t.Fatalf("late bundles %v, want 1", got)
	}
	if got := testutil.ToFloat64(f.p.m.shares); got != added {
		t.Fatalf("a late bundle was added: shares %v → %v", added, got)
	}
	if !strings.Contains(f.logs.String(), "late bundle") {
		t.Fatal("no log line for the late bundle")
	}

	// The emitted sum aggregate covers producer 0 round 0 and producer 1
	// round 1 only: 4 of 8 slots, and its value is PPN 0's share of the
	// window accumulator from before the late bundle.
	a, err := wire.DecodeAggregate(f.p.st.outbox[winKey{0, 0}])
	if err != nil {
		t.Fatal(err)
	}
	if a.Covered() != 4 || a.Slots != 8 {
		t.Fatalf("covered %d of %d, want 4 of 8", a.Covered(), a.Slots)
	}
	ring := seal.NewKeyring(f.keys.Consumers[0], 1)
	ring.AddPeer(seal.PurposeAggregate, 0, f.net.PPNKeys[0])
	aead, _ := ring.AEAD(seal.PurposeAggregate, 0)
	p, err := seal.Open(aead, nil, seal.AggregateNonce(1, 0, 0), a.Sealed, a.Header)
	if err != nil {
		t.Fatalf("consumer cannot open the aggregate: %v", err)
	}
	got := make([]sharing.Element, 1)
	if err := wire.DecodeElements(got, p); err != nil {
		t.Fatal(err)
	}
	if got[0] != want {
		t.Fatalf("aggregate share %v, want %v (the sum of the parts added once)", got[0], want)
	}
}

// openPart0 opens PPN 0's part of a bundle with PPN 0's key.
func (f *fixture) openPart0(b wire.Bundle) []sharing.Element {
	f.t.Helper()
	ring := seal.NewKeyring(f.keys.PPNs[0], b.Epoch)
	ring.AddPeer(seal.PurposePart, int(b.Sender), f.net.ProducerKeys[b.Sender])
	aead, _ := ring.AEAD(seal.PurposePart, int(b.Sender))
	p, err := seal.Open(aead, nil, seal.PartNonce(b.Epoch, b.Round, b.Chunk), b.Parts[0].Sealed, wire.PartAAD(nil, b.Header, 0))
	if err != nil {
		f.t.Fatal(err)
	}
	es := make([]sharing.Element, len(p)/8)
	if err := wire.DecodeElements(es, p); err != nil {
		f.t.Fatal(err)
	}
	return es
}

// TestBandAddsInBandRoundsOnly runs a sum rule restricted to the second
// round of each two-round "day": round 0 is outside it, round 1 inside.
func TestBandAddsInBandRoundsOnly(t *testing.T) {
	f := newFixture(t, netconfig.RuleSpec{ID: "late", Consumer: "c", Kind: netconfig.KindSum, Window: 2, Fraction: 1,
		Band: &netconfig.Band{Name: "late", Rounds: [][2]uint64{{1, 2}}}})
	out := []wire.Bundle{f.bundle(0, 0, 10, 20), f.bundle(1, 0, 30, 40)}
	in := []wire.Bundle{f.bundle(0, 1, 1, 2)} // producer 1 sends nothing in round 1
	for _, b := range append(out, in...) {
		f.feed(b.Marshal())
	}
	f.feed(in[0].Marshal()) // a duplicate in the band is still counted once
	// total and bill take 4 meters × round 0 + 2 meters × round 1; the
	// banded rule only the 2 meters of round 1.
	if got := testutil.ToFloat64(f.p.m.shares); got != 2*(4+2)+2 {
		t.Fatalf("shares added %v, want 14", got)
	}
	if got := testutil.ToFloat64(f.p.m.duplicates); got != 6 {
		t.Fatalf("duplicates %v, want 6 (the repeated bundle's 2 meters in 3 rules)", got)
	}
	f.feed(f.seal(1, 1))
	a, err := wire.DecodeAggregate(f.p.st.outbox[winKey{2, 0}])
	if err != nil {
		t.Fatal(err)
	}
	// 4 meters × 1 in-band round: producer 1's two meters are missing for
	// round 1 (slots 2 and 3); nobody is missing for round 0.
	if a.Slots != 4 || a.Covered() != 2 || len(a.Missing) != 1 || a.Missing[0] != (wire.Run{Start: 2, Len: 2}) {
		t.Fatalf("banded aggregate: %d slots, %d covered, missing %v; want 4, 2, [{2 2}]", a.Slots, a.Covered(), a.Missing)
	}
	var want sharing.Element
	for _, e := range f.openPart0(in[0]) {
		want = want.Add(e)
	}
	ring := seal.NewKeyring(f.keys.Consumers[0], 1)
	ring.AddPeer(seal.PurposeAggregate, 0, f.net.PPNKeys[0])
	aead, _ := ring.AEAD(seal.PurposeAggregate, 0)
	p, err := seal.Open(aead, nil, seal.AggregateNonce(1, 2, 0), a.Sealed, a.Header)
	if err != nil {
		t.Fatalf("consumer cannot open the aggregate: %v", err)
	}
	got := make([]sharing.Element, 1)
	if err := wire.DecodeElements(got, p); err != nil {
		t.Fatal(err)
	}
	if got[0] != want {
		t.Fatalf("banded aggregate share %v, want %v (round 1's parts only)", got[0], want)
	}
}

// sumShare opens the sum rule's aggregate for window 0 from the outbox as
// its consumer would and returns PPN 0's share.
func (f *fixture) sumShare() sharing.Element {
	f.t.Helper()
	a, err := wire.DecodeAggregate(f.p.st.outbox[winKey{0, 0}])
	if err != nil {
		f.t.Fatal(err)
	}
	ring := seal.NewKeyring(f.keys.Consumers[0], 1)
	ring.AddPeer(seal.PurposeAggregate, 0, f.net.PPNKeys[0])
	aead, _ := ring.AEAD(seal.PurposeAggregate, 0)
	p, err := seal.Open(aead, nil, seal.AggregateNonce(1, 0, 0), a.Sealed, a.Header)
	if err != nil {
		f.t.Fatalf("consumer cannot open the aggregate: %v", err)
	}
	got := make([]sharing.Element, 1)
	if err := wire.DecodeElements(got, p); err != nil {
		f.t.Fatal(err)
	}
	return got[0]
}

// TestForgedSeals feeds seals that must not close a round — random tags, a
// genuine seal re-headed to another sealer, round or epoch, one made with
// a key that is not the claimed PPN's, one on a bundle subject, one with
// too few tags — ahead of the genuine seal, which must still count, and
// the window's aggregate must hold exactly the parts before it.
func TestForgedSeals(t *testing.T) {
	f := newFixture(t)
	b0, b1 := f.bundle(0, 0, 10, 20), f.bundle(1, 1, 5, 6)
	f.feed(b0.Marshal())
	f.feed(b1.Marshal())
	var want sharing.Element
	for _, bd := range []wire.Bundle{b0, b1} {
		for _, e := range f.openPart0(bd) {
			want = want.Add(e)
		}
	}

	redo := func(msg []byte, edit func(*wire.Seal)) []byte {
		s, err := wire.DecodeSeal(msg)
		if err != nil {
			t.Fatal(err)
		}
		edit(&s)
		return s.Marshal()
	}
	random := wire.Seal{Epoch: 1, Round: 1, PPN: 1, Tags: make([][wire.SealTag]byte, 3)}
	for i := range random.Tags {
		rand.Read(random.Tags[i][:])
	}
	byProducer, _, err := SealMarker(f.net, SealKeyring(f.net, f.keys.Producers[0]), 1, 1) // a producer posing as PPN 1
	if err != nil {
		t.Fatal(err)
	}
	ring2 := seal.NewKeyring(f.keys.PPNs[1], 2) // PPN 1's genuine keys of epoch 2
	for j, k := range f.net.PPNKeys {
		ring2.AddPeer(seal.PurposeSeal, j, k)
	}
	epoch2 := wire.Seal{Epoch: 2, Round: 1, PPN: 1, Tags: make([][wire.SealTag]byte, 3)}
	for j := range epoch2.Tags {
		tag, err := ring2.MAC(nil, seal.PurposeSeal, j, epoch2.AppendMACInput(nil, f.net.Config.Streams.Bundles, uint16(j)))
		if err != nil {
			t.Fatal(err)
		}
		copy(epoch2.Tags[j][:], tag)
	}

	tests := []struct {
		name, reason, subject string
		msg                   []byte
	}{
		{"random tags", "forged_seal", "", random.Marshal()},
		{"genuine seal re-headed to another sealer", "forged_seal", "", redo(f.seal(1, 1), func(s *wire.Seal) { s.PPN = 2 })},
		{"made with a key that is not the sealer's", "forged_seal", "", byProducer},
		{"round 0's seal replayed as round 1's", "forged_seal", "", redo(f.seal(1, 0), func(s *wire.Seal) { s.Round = 1 })},
		{"epoch 2's seal replayed into epoch 1", "forged_seal", "", redo(epoch2.Marshal(), func(s *wire.Seal) { s.Epoch = 1 })},
		{"epoch 2's seal as it was", "epoch", "", epoch2.Marshal()},
		{"genuine seal on a bundle subject", "subject", f.net.BundleSubject(1), f.seal(1, 1)},
		{"too few tags", "length", "", redo(f.seal(1, 1), func(s *wire.Seal) { s.Tags = s.Tags[:2] })},
		{"no tags", "noncanonical", "", redo(f.seal(1, 1), func(s *wire.Seal) { s.Tags = nil })},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := f.rejected(tc.reason)
			if tc.subject != "" {
				f.feedOn(tc.subject, tc.msg)
			} else {
				f.feed(tc.msg)
			}
			if got := f.rejected(tc.reason); got != before+1 {
				t.Fatalf("rejected{reason=%q} = %v, want %v", tc.reason, got, before+1)
			}
			if !strings.Contains(f.logs.String(), "reason="+tc.reason) {
				t.Fatalf("no log line naming reason %q", tc.reason)
			}
			if f.p.st.sealed != 0 || len(f.p.st.outbox) != 0 {
				t.Fatalf("a rejected seal closed rounds: sealed through %d, %d aggregates", int64(f.p.st.sealed)-1, len(f.p.st.outbox))
			}
		})
	}
	if got := testutil.ToFloat64(f.p.m.seals.WithLabelValues("applied")) + testutil.ToFloat64(f.p.m.seals.WithLabelValues("ignored")); got != 0 {
		t.Fatalf("%v forged seals counted in seals_total", got)
	}

	f.feed(f.seal(2, 1)) // the genuine seal, after all the forgeries
	if f.p.st.sealed != 2 || len(f.p.st.outbox) != 2 {
		t.Fatalf("genuine seal: sealed %d, %d aggregates; want 2 and 2", f.p.st.sealed, len(f.p.st.outbox))
	}
	if got := f.sumShare(); got != want {
		t.Fatalf("aggregate share %v, want %v (the parts before the genuine seal)", got, want)
	}
	f.feed(f.seal(0, 1)) // this PPN's own seal for the same rounds, later
	if got := testutil.ToFloat64(f.p.m.seals.WithLabelValues("ignored")); got != 1 {
		t.Fatalf("ignored seals %v, want 1", got)
	}
}

// TestForgedBundleForSealedRound checks that authentication comes before
// the late check: a forged or replayed part for a sealed round is rejected
// as forged, a genuine one is late, and neither is added.
func TestForgedBundleForSealedRound(t *testing.T) {
	f := newFixture(t)
	b0 := f.bundle(0, 0, 10, 20)
	f.feed(b0.Marshal())
	f.feed(f.seal(1, 1))
	added := testutil.ToFloat64(f.p.m.shares)

	flipped := f.bundle(1, 0, 7, 8)
	flipped.Parts[0].Sealed = append([]byte(nil), flipped.Parts[0].Sealed...)
	flipped.Parts[0].Sealed[0] ^= 1
	reheaded := f.bundle(1, 2, 7, 8)
	reheaded.Round = 1 // round 2's parts presented as sealed round 1
	for _, msg := range [][]byte{flipped.Marshal(), reheaded.Marshal()} {
		f.feed(msg)
	}
	if got := f.rejected("forged"); got != 2 {
		t.Fatalf("rejected{reason=forged} = %v, want 2", got)
	}
	if got := testutil.ToFloat64(f.p.m.late); got != 0 {
		t.Fatalf("forged bundles counted as late: %v", got)
	}
	late := f.bundle(1, 0, 7, 8)
	f.feed(late.Marshal()) // genuine, after its round's seal
	if got := testutil.ToFloat64(f.p.m.late); got != 1 {
		t.Fatalf("late bundles %v, want 1", got)
	}
	if got := testutil.ToFloat64(f.p.m.shares); got != added {
		t.Fatalf("shares added changed %v → %v", added, got)
	}
}
