package ppn

import (
	"errors"
	"fmt"
	"sort"

	"github.com/ppnet/ppnet/internal/seal"
	"github.com/ppnet/ppnet/internal/wire"
	"github.com/ppnet/ppnet/sharing"
)

// ruleSlot says that a meter is at position pos of rule rule.
type ruleSlot struct {
	rule int32
	pos  int32
}

// rejectError is a message refused for a reason with a metric label.
type rejectError struct {
	reason string
	err    error
}

func (e *rejectError) Error() string { return e.err.Error() }

func reject(reason, format string, args ...any) error {
	return &rejectError{reason: reason, err: fmt.Errorf("ppn: "+format, args...)}
}

// apply applies the stream message at seq to the state. It returns a
// rejectError for a message it refuses; the position advances either way.
func (p *PPN) apply(data []byte, seq uint64, subject string) error {
	p.st.seq = seq
	p.st.uncommit++
	typ, err := wire.PeekType(data)
	if err != nil {
		return &rejectError{wire.Reason(err), fmt.Errorf("ppn: %w", err)}
	}
	switch typ {
	case wire.TypeBundle:
		return p.applyBundle(data)
	case wire.TypeSeal:
		if subject != p.net.SealSubject() {
			// Only PPNs may publish on the seal subject (docs/security.md);
			// a seal on a producer's bundle subject would slip past that.
			return reject("subject", "seal marker on subject %q, seals belong on %q", subject, p.net.SealSubject())
		}
		return p.applySeal(data)
	default:
		return reject("type", "message type %d does not belong on the bundle stream", typ)
	}
}

func (p *PPN) applyBundle(data []byte) error {
	b, err := wire.DecodeBundle(data)
	if err != nil {
		return &rejectError{wire.Reason(err), fmt.Errorf("ppn: bundle: %w", err)}
	}
	n := p.net
	switch {
	case b.Epoch != n.Config.Epoch:
		return reject("epoch", "bundle of epoch %d, this PPN runs epoch %d", b.Epoch, n.Config.Epoch)
	case int(b.Sender) >= len(n.Config.Producers):
		return reject("sender", "bundle from unknown producer %d", b.Sender)
	case !n.InEpoch(b.Round):
		return reject("round_range", "bundle for round %d outside the epoch's %d rounds", b.Round, n.Config.Rounds.Count)
	}
	want := 0
	for _, m := range b.Meters {
		if int(m) >= len(n.Meters) || n.MeterProducer[m] != b.Sender {
			return reject("meter", "bundle from producer %q names meter %d, which is not one of its meters", n.Config.Producers[b.Sender].ID, m)
		}
		if n.MeterPPNs[m]&(1<<p.me) != 0 {
			want++
		}
	}
	if want == 0 {
		return nil // nothing for this PPN
	}
	i := sort.Search(len(b.Parts), func(i int) bool { return b.Parts[i].PPN >= uint16(p.me) })
	if i == len(b.Parts) || b.Parts[i].PPN != uint16(p.me) {
		return reject("missing_part", "bundle from %q round %d has no part for this PPN", n.Config.Producers[b.Sender].ID, b.Round)
	}
	part := b.Parts[i].Sealed
	if len(part) != 8*want+wire.TagSize {
		return reject("length", "part of %d bytes for %d meters; want %d", len(part), want, 8*want+wire.TagSize)
	}
	aead, err := p.ring.AEAD(seal.PurposePart, int(b.Sender))
	if err != nil {
		return reject("key", "%v", err)
	}
	p.aad = wire.PartAAD(p.aad[:0], b.Header, uint16(p.me))
	p.plain, err = seal.Open(aead, p.plain[:0], seal.PartNonce(b.Epoch, b.Round, b.Chunk), part, p.aad)
	if err != nil {
		return reject("forged", "part from %q round %d chunk %d does not open: forged, corrupted, or replayed from another round", n.Config.Producers[b.Sender].ID, b.Round, b.Chunk)
	}
	// Only an authentic part is late: a forgery for a sealed round is
	// rejected above, as forged, and never inflates the late counters.
	if b.Round < p.st.sealed {
		p.m.late.Inc()
		p.m.lateShares.Add(float64(want))
		p.log.Info("late bundle counted, not added", "producer", n.Config.Producers[b.Sender].ID, "round", b.Round, "sealed_through", p.st.sealed-1)
		return nil
	}
	if b.Round >= p.st.sealed+n.Config.Rounds.MaxAhead {
		return reject("future", "bundle for round %d, more than max_ahead %d rounds past the first unsealed round %d", b.Round, n.Config.Rounds.MaxAhead, p.st.sealed)
	}
	if cap(p.shares) < want {
		p.shares = make([]sharing.Element, want)
	}
	shares := p.shares[:want]
	if err := wire.DecodeElements(shares, p.plain); err != nil {
		return reject("noncanonical", "part from %q round %d: %v", n.Config.Producers[b.Sender].ID, b.Round, err)
	}
	p.add(b.Round, b.Meters, shares)
	p.m.bundles.Inc()
	return nil
}

// add adds the shares of the meters serving this PPN to every window of
// every rule they are in, once per (meter, round), skipping rules whose
// band the round is outside.
func (p *PPN) add(round uint64, meters []uint32, shares []sharing.Element) {
	// Every meter of a bundle is in the same round, so each rule's window
	// and row are looked up once per bundle.
	if len(p.wins) != len(p.net.Rules) {
		p.wins = make([]*window, len(p.net.Rules))
		p.rows = make([]int64, len(p.net.Rules))
	}
	clear(p.wins)
	clear(p.rows)
	j := 0
	added, dup := 0, 0
	for _, m := range meters {
		if p.net.MeterPPNs[m]&(1<<p.me) == 0 {
			continue
		}
		e := shares[j]
		j++
		for _, rs := range p.meterRules[m] {
			base := p.rows[rs.rule]
			if base == 0 {
				base = p.bind(int(rs.rule), round)
				p.rows[rs.rule] = base
			}
			if base < 0 {
				continue // outside the rule's time-of-use band
			}
			r := &p.net.Rules[rs.rule]
			w := p.wins[rs.rule]
			slot := uint32(base-1) + uint32(rs.pos)
			if w.covered[slot/64]&(1<<(slot%64)) != 0 {
				dup++
				continue
			}
			w.covered[slot/64] |= 1 << (slot % 64)
			if r.Values == 1 {
				w.vals[0] = w.vals[0].Add(e)
			} else {
				w.vals[rs.pos] = w.vals[rs.pos].Add(e)
			}
			w.dirty = true
			added++
		}
	}
	p.m.shares.Add(float64(added))
	if dup > 0 {
		p.m.duplicates.Add(float64(dup))
		p.log.Info("duplicate shares counted once", "round", round, "duplicates", dup)
	}
}

// bind finds (or creates) rule ri's window holding round and sets
// p.wins[ri]. It returns −1 if the round is outside the rule's band, else
// 1 + the slot of position 0 in that round's row.
func (p *PPN) bind(ri int, round uint64) int64 {
	r := &p.net.Rules[ri]
	start := round / r.K * r.K
	row, in := r.Row(round - start)
	if !in {
		return -1
	}
	key := winKey{ri, start}
	w := p.st.windows[key]
	if w == nil {
		w = newWindow(r.Values, r.Slots)
		p.st.windows[key] = w
	}
	p.wins[ri] = w
	return int64(row)*int64(len(r.Meters)) + 1
}

func (p *PPN) applySeal(data []byte) error {
	s, err := wire.DecodeSeal(data)
	if err != nil {
		return &rejectError{wire.Reason(err), fmt.Errorf("ppn: seal: %w", err)}
	}
	n := p.net
	switch {
	case s.Epoch != n.Config.Epoch:
		return reject("epoch", "seal of epoch %d, this PPN runs epoch %d", s.Epoch, n.Config.Epoch)
	case int(s.PPN) >= len(n.X):
		return reject("sender", "seal from unknown PPN %d", s.PPN)
	case len(s.Tags) != len(n.X):
		return reject("length", "seal of round %d with %d tags, the epoch has %d PPNs", s.Round, len(s.Tags), len(n.X))
	}
	p.macIn = s.AppendMACInput(p.macIn[:0], n.Config.Streams.Bundles, uint16(p.me))
	if !p.ring.VerifyMAC(s.Tags[p.me][:], seal.PurposeSeal, int(s.PPN), p.macIn) {
		return reject("forged_seal", "seal of round %d claiming PPN %q has no valid tag for this PPN (forged, or replayed from another round, epoch or stream); not counted",
			s.Round, n.Config.PPNs[s.PPN].ID)
	}
	switch {
	case !n.InEpoch(s.Round):
		return reject("round_range", "seal of round %d outside the epoch", s.Round)
	case s.Round >= p.st.sealed+n.Config.Rounds.MaxAhead:
		return reject("future", "seal of round %d, more than max_ahead past the first unsealed round %d", s.Round, p.st.sealed)
	}
	if s.Round < p.st.sealed {
		p.m.seals.WithLabelValues("ignored").Inc()
		return nil
	}
	for r := p.st.sealed; r <= s.Round; r++ {
		if err := p.closeRound(r); err != nil {
			return err
		}
	}
	p.st.sealed = s.Round + 1
	p.pruneLost()
	p.sealedNext.Store(p.st.sealed)
	p.m.seals.WithLabelValues("applied").Inc()
	p.m.sealedRound.Set(float64(s.Round))
	return nil
}

// closeRound emits every window of this PPN's rules whose last round is r.
func (p *PPN) closeRound(r uint64) error {
	for _, ri := range p.rules {
		rule := &p.net.Rules[ri]
		if (r+1)%rule.K != 0 {
			continue
		}
		key := winKey{ri, r + 1 - rule.K}
		if p.withhold(ri, key.start) {
			delete(p.st.windows, key)
			p.st.deleted = append(p.st.deleted, key)
			continue
		}
		w := p.st.windows[key]
		if w == nil {
			w = newWindow(rule.Values, rule.Slots)
		}
		msg, err := p.aggregate(key, w)
		if err != nil {
			return err
		}
		delete(p.st.windows, key)
		p.st.deleted = append(p.st.deleted, key)
		p.st.outbox[key] = msg
		p.m.windows.Inc()
	}
	return nil
}

// aggregate builds the sealed aggregated share of a window.
func (p *PPN) aggregate(key winKey, w *window) ([]byte, error) {
	rule := &p.net.Rules[key.rule]
	a := wire.Aggregate{Epoch: p.net.Config.Epoch, Rule: uint16(key.rule), Window: key.start, PPN: uint16(p.me),
		Consumer: uint16(rule.Consumer), Slots: rule.Slots, Missing: w.missing(rule.Slots)}
	vals := w.vals
	if p.cfg.Tamper != nil {
		vals = append([]sharing.Element(nil), vals...)
		p.cfg.Tamper(rule.ID, key.start, vals)
	}
	aead, err := p.ring.AEAD(seal.PurposeAggregate, rule.Consumer)
	if err != nil {
		return nil, errors.New("ppn: " + err.Error())
	}
	header := a.AppendHeader(nil)
	nonce := seal.AggregateNonce(a.Epoch, a.Rule, a.Window)
	sealed := aead.Seal(nil, nonce[:], wire.AppendElements(nil, vals), header)
	return wire.AppendSealed(header, sealed), nil
}
