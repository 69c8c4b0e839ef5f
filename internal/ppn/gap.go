package ppn

import (
	"cmp"
	"fmt"
	"slices"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// A stream gap is bundle-stream messages removed before this PPN applied
// them: purged or deleted by an operator, or discarded by a retention
// limit (streams.max_age, streams.max_bytes) while the PPN was down or
// behind. The PPN reads the whole stream, so the sequences it is
// delivered are consecutive; a jump past its position is a gap. It finds
// one when it resumes (the server starts its ordered consumer past the
// position it asked for: the first message still stored is later) and
// whenever a delivery jumps.
//
// The lost messages cannot be read, so which rounds they belonged to is
// bounded, not known. Rounds this PPN had sealed before the gap are
// complete: a bundle for them is late everywhere. A lost bundle was
// stored before the first message after the gap, so honest producers
// (which publish for the round in progress) sent it for a round no later
// than the one in progress then; one round more allows for their clocks.
// Those rounds — from this PPN's first unsealed round to one past the
// round in progress when the first message after the gap was stored —
// are lost here ([roundSpan], committed with the state).
//
// The PPN withholds every window touching a lost round: it emits no
// aggregated share for it (ppnet_ppn_windows_withheld_total). It could
// emit the sum of what it still has, with its coverage, and in most cases
// the coverage digest would differ from the other PPNs' and consumers
// would set it aside; but not always: if the gap removed the first copy of
// a (meter, round) and a different copy came later, this PPN holds the
// later one where the others hold the first, with the same coverage and
// digest, and a consumer would combine shares of two polynomials into a
// wrong value. A withheld share is simply missing: the other PPNs carry
// the window if t of them have it, else the consumer reports it short of
// shares. Rounds after the lost ones are served as usual. The gap is also
// logged with its sequences and the fix, counted (stream_gaps_total,
// stream_gap_messages_total) and reported by /healthz until the PPN
// restarts (and after a restart while windows are still withheld).
//
// A PPN with no state (position 0) cannot tell a purge from an older
// epoch's messages aged out, so a gap before its first message is not
// reported. A bundle sent more than a round ahead of its producer's round
// (a wrong clock, within rounds.max_ahead) and lost in a gap is left to
// the coverage digest.

// roundSpan is the rounds lo ≤ r < hi.
type roundSpan struct{ lo, hi uint64 }

// addLost merges sp into the lost spans, keeping them sorted and disjoint.
func (s *state) addLost(sp roundSpan) {
	var out []roundSpan
	for _, x := range s.lost {
		if x.hi < sp.lo || sp.hi < x.lo {
			out = append(out, x)
			continue
		}
		sp = roundSpan{min(sp.lo, x.lo), max(sp.hi, x.hi)}
	}
	out = append(out, sp)
	slices.SortFunc(out, func(a, b roundSpan) int { return cmp.Compare(a.lo, b.lo) })
	s.lost = out
}

// lostIn reports whether any of the rounds lo ≤ r < hi is lost.
func (s *state) lostIn(lo, hi uint64) bool {
	for _, x := range s.lost {
		if x.lo < hi && lo < x.hi {
			return true
		}
	}
	return false
}

// checkResume compares where the server starts this PPN's ordered
// consumer (info, the consumer as created) with where the PPN asked it to
// start: the server starts at the first message still stored when that is
// later. The lost rounds are marked when the first message after the gap
// arrives, since its time bounds them.
func (p *PPN) checkResume(info *jetstream.ConsumerInfo) {
	if info == nil || p.st.seq == 0 {
		return
	}
	if first := info.Delivered.Stream + 1; first > p.st.seq+1 {
		p.reportGap(p.st.seq+1, first-1)
	}
}

// streamGap handles a delivery at to+1 after the PPN's position from−1:
// it reports the gap unless checkResume did and marks the rounds the lost
// messages may have belonged to (stored: when the message at to+1 was
// stored).
func (p *PPN) streamGap(from, to uint64, stored time.Time) {
	if to > p.gapReported {
		p.reportGap(max(from, p.gapReported+1), to)
	}
	hi := uint64(max(p.net.RoundAt(stored)+2, 1)) // RoundAt ≥ −1
	sp := roundSpan{p.st.sealed, max(hi, p.st.sealed+1)}
	p.st.addLost(sp)
	p.log.Error("rounds lost to a bundle stream gap; their windows will not be emitted by this PPN",
		"first_round", sp.lo, "last_round", sp.hi-1, "from_seq", from, "to_seq", to)
}

// reportGap logs, counts and keeps in /healthz the loss of messages
// from..to.
func (p *PPN) reportGap(from, to uint64) {
	p.gapReported = to
	n := to - from + 1
	p.m.gaps.Inc()
	p.m.gapMessages.Add(float64(n))
	s := p.net.Config.Streams
	err := fmt.Errorf("ppn: bundle stream %s lost messages %d–%d (%d) before this PPN applied them: purged, deleted or aged out (streams.max_age %v, max_bytes %d); this PPN withholds its aggregates for the rounds they may have carried and serves the later ones; fix: keep PPNs down for less than max_age, raise the limits, and never purge below every PPN's position (ppnet_ppn_stream_sequence)",
		s.Bundles, from, to, n, s.MaxAge, s.MaxBytes)
	p.log.Error("bundle stream gap", "stream", s.Bundles, "from_seq", from, "to_seq", to, "messages", n, "err", err)
	p.setGapErr(err)
}

// withhold reports whether the window of rule ri starting at start touches
// a lost round, counting and logging it if so.
func (p *PPN) withhold(ri int, start uint64) bool {
	k := p.net.Rules[ri].K
	if !p.st.lostIn(start, start+k) {
		return false
	}
	p.m.withheld.Inc()
	p.log.Warn("window withheld: bundles of its rounds were lost in a stream gap", "rule", p.net.Rules[ri].ID,
		"first_round", start, "last_round", start+k-1)
	return true
}

// pruneLost drops the lost spans every window of which is closed.
func (p *PPN) pruneLost() {
	p.st.lost = slices.DeleteFunc(p.st.lost, func(sp roundSpan) bool {
		for _, ri := range p.rules {
			k := p.net.Rules[ri].K
			if end := (sp.hi-1)/k*k + k - 1; end >= p.st.sealed {
				return false
			}
		}
		return true
	})
}

// setGapErr keeps err for /healthz, after any error that stopped part of
// the PPN.
func (p *PPN) setGapErr(err error) {
	p.mu.Lock()
	p.gapErr = err
	p.mu.Unlock()
}
