package wire

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
)

// Aggregate is one PPN's aggregated share of one (rule, window), sealed for
// the rule's consumer.
//
// Coverage: the rule's n producers and the window's k rounds index the
// pairs (producer position p, round offset j) as j·n + p. Missing lists the
// pairs not covered as sorted, disjoint, non-adjacent runs; Covered is n·k
// minus their total. Digest = SHA-256 over (epoch, rule, window, n·k,
// missing runs), so shares agree on coverage iff their digests agree.
type Aggregate struct {
	Epoch    uint32 // configuration epoch
	Rule     uint16 // rule index in the configuration
	Window   uint64 // first round of the window, ≤ MaxRound
	PPN      uint16 // PPN index (its x-coordinate is in the configuration)
	Consumer uint16 // consumer index the share is sealed for
	Slots    uint32 // n·k, the number of (producer, round) pairs of the window
	Missing  []Run  // pairs not covered
	Digest   Digest // coverage digest, checked by DecodeAggregate
	Sealed   []byte // AEAD ciphertext of the shares (1 for sum, n for per-producer)

	// Header is, after decoding, the clear header (everything before the
	// ciphertext length): the associated data of Sealed.
	Header []byte
}

// Run is a run of consecutive missing pair indexes [Start, Start+Len).
type Run struct{ Start, Len uint32 }

// Covered returns the number of covered pairs, Slots minus the missing.
func (a *Aggregate) Covered() uint64 {
	c := uint64(a.Slots)
	for _, r := range a.Missing {
		c -= uint64(r.Len)
	}
	return c
}

// CoverageDigest computes the digest of a window's coverage.
func CoverageDigest(epoch uint32, rule uint16, window uint64, slots uint32, missing []Run) Digest {
	h := sha256.New()
	var b [26]byte
	binary.BigEndian.PutUint32(b[0:], epoch)
	binary.BigEndian.PutUint16(b[4:], rule)
	binary.BigEndian.PutUint64(b[6:], window)
	binary.BigEndian.PutUint32(b[14:], slots)
	binary.BigEndian.PutUint64(b[18:], uint64(len(missing)))
	h.Write(b[:])
	for _, r := range missing {
		binary.BigEndian.PutUint32(b[0:], r.Start)
		binary.BigEndian.PutUint32(b[4:], r.Len)
		h.Write(b[:8])
	}
	var d Digest
	h.Sum(d[:0])
	return d
}

// AppendHeader appends the clear header of a to dst, computing the digest
// from the coverage fields. It is the associated data of Sealed.
func (a *Aggregate) AppendHeader(dst []byte) []byte {
	a.Digest = CoverageDigest(a.Epoch, a.Rule, a.Window, a.Slots, a.Missing)
	dst = appendHeader(dst, TypeAggregate)
	dst = binary.BigEndian.AppendUint32(dst, a.Epoch)
	dst = binary.BigEndian.AppendUint16(dst, a.Rule)
	dst = binary.BigEndian.AppendUint64(dst, a.Window)
	dst = binary.BigEndian.AppendUint16(dst, a.PPN)
	dst = binary.BigEndian.AppendUint16(dst, a.Consumer)
	dst = binary.BigEndian.AppendUint32(dst, a.Slots)
	dst = binary.BigEndian.AppendUint32(dst, uint32(len(a.Missing)))
	for _, r := range a.Missing {
		dst = binary.BigEndian.AppendUint32(dst, r.Start)
		dst = binary.BigEndian.AppendUint32(dst, r.Len)
	}
	return append(dst, a.Digest[:]...)
}

// AppendSealed completes an encoded header with the ciphertext.
func AppendSealed(dst, sealed []byte) []byte {
	dst = binary.BigEndian.AppendUint32(dst, uint32(len(sealed)))
	return append(dst, sealed...)
}

// Marshal encodes a (computing its digest).
func (a *Aggregate) Marshal() []byte {
	return AppendSealed(a.AppendHeader(nil), a.Sealed)
}

// DecodeAggregate decodes and validates an aggregated share, including its
// coverage runs and digest. Sealed and Header alias msg.
func DecodeAggregate(msg []byte) (Aggregate, error) {
	r := reader{b: msg}
	r.header(TypeAggregate)
	a := Aggregate{Epoch: r.u32(), Rule: r.u16(), Window: r.round(), PPN: r.u16(), Consumer: r.u16(), Slots: r.u32()}
	n := r.count(8)
	if r.err == nil {
		a.Missing = make([]Run, n)
		var next uint64 // smallest allowed start: runs are sorted, disjoint, non-adjacent
		for i := range a.Missing {
			run := Run{Start: r.u32(), Len: r.u32()}
			end := uint64(run.Start) + uint64(run.Len)
			switch {
			case run.Len == 0:
				r.err = fmt.Errorf("%w: empty missing run at %d", ErrNonCanon, run.Start)
			case uint64(run.Start) < next:
				r.err = fmt.Errorf("%w: missing run at %d overlaps or touches the previous one", ErrNonCanon, run.Start)
			case end > uint64(a.Slots):
				r.err = fmt.Errorf("%w: missing run [%d,%d) beyond %d slots", ErrLengthField, run.Start, end, a.Slots)
			}
			if r.err != nil {
				break
			}
			a.Missing[i] = run
			next = end + 1
		}
	}
	copy(a.Digest[:], r.take(len(a.Digest)))
	if r.err == nil {
		a.Header = msg[:len(msg)-len(r.b)]
		if want := CoverageDigest(a.Epoch, a.Rule, a.Window, a.Slots, a.Missing); want != a.Digest {
			r.err = fmt.Errorf("%w: coverage digest does not match the missing runs", ErrNonCanon)
		}
	}
	l := int(r.u32())
	a.Sealed = r.take(l)
	if r.err == nil && (l < TagSize || (l-TagSize)%8 != 0) {
		r.err = fmt.Errorf("%w: sealed shares of %d bytes, want 16+8k", ErrLengthField, l)
	}
	if err := r.end(); err != nil {
		return Aggregate{}, err
	}
	return a, nil
}

// MissingRuns turns a sorted list of missing pair indexes into runs.
func MissingRuns(idx []uint32) []Run {
	var runs []Run
	for _, i := range idx {
		if n := len(runs); n > 0 && runs[n-1].Start+runs[n-1].Len == i {
			runs[n-1].Len++
			continue
		}
		runs = append(runs, Run{Start: i, Len: 1})
	}
	return runs
}
