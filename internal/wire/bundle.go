package wire

import (
	"encoding/binary"
	"fmt"
)

// Bundle is one producer's share bundle for one round (or one chunk of a
// round, for a concentrator whose meters do not fit one message).
type Bundle struct {
	Epoch  uint32   // configuration epoch the shares were made under
	Round  uint64   // round the readings belong to, ≤ MaxRound
	Sender uint32   // producer (meter or concentrator) index in the configuration
	Chunk  uint16   // chunk of the sender's round, 0 for most producers
	Meters []uint32 // meter indexes covered, strictly increasing, non-empty
	Parts  []Part   // one per PPN served, by strictly increasing PPN index

	// Header is, after decoding, the encoded clear header (everything before
	// the parts); parts are sealed with it as associated data.
	Header []byte
}

// Part is the sealed shares of a bundle for one PPN.
type Part struct {
	PPN    uint16 // PPN index in the configuration
	Sealed []byte // AEAD ciphertext of 8·k bytes of shares plus the tag
}

// AppendHeader appends the clear header of b (magic through the meter
// list) to dst. It is the associated data of every part, see [PartAAD].
func (b *Bundle) AppendHeader(dst []byte) []byte {
	dst = appendHeader(dst, TypeBundle)
	dst = binary.BigEndian.AppendUint32(dst, b.Epoch)
	dst = binary.BigEndian.AppendUint64(dst, b.Round)
	dst = binary.BigEndian.AppendUint32(dst, b.Sender)
	dst = binary.BigEndian.AppendUint16(dst, b.Chunk)
	dst = binary.BigEndian.AppendUint32(dst, uint32(len(b.Meters)))
	for _, m := range b.Meters {
		dst = binary.BigEndian.AppendUint32(dst, m)
	}
	return dst
}

// PartAAD appends to dst the associated data of the part for ppn: the
// bundle header followed by the PPN index, so a part moved to another PPN's
// slot, round, sender or meter list fails to open.
func PartAAD(dst, header []byte, ppn uint16) []byte {
	dst = append(dst, header...)
	return binary.BigEndian.AppendUint16(dst, ppn)
}

// AppendParts appends the part list to an encoded header, completing the
// message.
func AppendParts(dst []byte, parts []Part) []byte {
	dst = binary.BigEndian.AppendUint16(dst, uint16(len(parts)))
	for _, p := range parts {
		dst = binary.BigEndian.AppendUint16(dst, p.PPN)
		dst = binary.BigEndian.AppendUint32(dst, uint32(len(p.Sealed)))
		dst = append(dst, p.Sealed...)
	}
	return dst
}

// Marshal encodes b. It does not validate; DecodeBundle does.
func (b *Bundle) Marshal() []byte {
	return AppendParts(b.AppendHeader(nil), b.Parts)
}

// DecodeBundle decodes and validates a bundle. Part ciphertexts and Header
// alias msg.
func DecodeBundle(msg []byte) (Bundle, error) {
	r := reader{b: msg}
	r.header(TypeBundle)
	var b Bundle
	b.Epoch = r.u32()
	b.Round = r.round()
	b.Sender = r.u32()
	b.Chunk = r.u16()
	n := r.count(4)
	if r.err == nil && n == 0 {
		r.err = fmt.Errorf("%w: bundle with no meters", ErrNonCanon)
	}
	if r.err == nil {
		b.Meters = make([]uint32, n)
		raw := r.take(4 * n)
		for i := range b.Meters {
			b.Meters[i] = binary.BigEndian.Uint32(raw[4*i:])
			if i > 0 && b.Meters[i] <= b.Meters[i-1] {
				r.err = fmt.Errorf("%w: meter %d at position %d not above %d", ErrNonCanon, b.Meters[i], i, b.Meters[i-1])
				break
			}
		}
	}
	if r.err == nil {
		b.Header = msg[:len(msg)-len(r.b)]
	}
	np := int(r.u16())
	if r.err == nil && np*6 > len(r.b) {
		r.err = fmt.Errorf("%w: %d parts in %d bytes", ErrLengthField, np, len(r.b))
	}
	if r.err == nil {
		b.Parts = make([]Part, 0, np)
	}
	for i := 0; i < np && r.err == nil; i++ {
		p := Part{PPN: r.u16()}
		l := int(r.u32())
		p.Sealed = r.take(l)
		if r.err != nil {
			break
		}
		if l < TagSize || (l-TagSize)%8 != 0 {
			r.err = fmt.Errorf("%w: part for PPN %d has %d bytes, want 16+8k", ErrLengthField, p.PPN, l)
		} else if i > 0 && p.PPN <= b.Parts[i-1].PPN {
			r.err = fmt.Errorf("%w: part for PPN %d after PPN %d", ErrNonCanon, p.PPN, b.Parts[i-1].PPN)
		}
		b.Parts = append(b.Parts, p)
	}
	if err := r.end(); err != nil {
		return Bundle{}, err
	}
	return b, nil
}

// Seal is the marker closing every round ≤ Round of Epoch. The first
// authentic seal for a round in stream order counts; later ones are
// ignored. It carries one tag per PPN of the epoch, by PPN index: Tags[j]
// is the MAC of [Seal.AppendMACInput] for receiver j under the pairwise
// key of the sealing PPN and PPN j (package seal, purpose seal), so every
// PPN checks its own tag and nobody without a PPN's key can close a round.
type Seal struct {
	Epoch uint32          // configuration epoch
	Round uint64          // last round closed, ≤ MaxRound
	PPN   uint16          // index of the PPN that appended it
	Tags  [][SealTag]byte // one per PPN of the epoch, by index; at least one
}

// SealTag is the length of a seal's per-PPN tag (seal.MACSize).
const SealTag = 16

// AppendMACInput appends to dst what the tag for PPN receiver
// authenticates: the seal's header (magic through PPN), the receiver, and
// the name of the stream it is appended to, so a seal cannot be moved to
// another epoch, round, sealer, receiver or stream (shard).
func (s *Seal) AppendMACInput(dst []byte, stream string, receiver uint16) []byte {
	dst = s.appendHeader(dst)
	dst = binary.BigEndian.AppendUint16(dst, receiver)
	dst = binary.BigEndian.AppendUint16(dst, uint16(len(stream)))
	return append(dst, stream...)
}

func (s *Seal) appendHeader(b []byte) []byte {
	b = appendHeader(b, TypeSeal)
	b = binary.BigEndian.AppendUint32(b, s.Epoch)
	b = binary.BigEndian.AppendUint64(b, s.Round)
	return binary.BigEndian.AppendUint16(b, s.PPN)
}

// Marshal encodes s. It does not validate; DecodeSeal does.
func (s *Seal) Marshal() []byte {
	b := s.appendHeader(make([]byte, 0, 19+SealTag*len(s.Tags)))
	b = binary.BigEndian.AppendUint16(b, uint16(len(s.Tags)))
	for _, t := range s.Tags {
		b = append(b, t[:]...)
	}
	return b
}

// DecodeSeal decodes a seal marker. It checks the encoding, not the tags.
func DecodeSeal(msg []byte) (Seal, error) {
	r := reader{b: msg}
	r.header(TypeSeal)
	s := Seal{Epoch: r.u32(), Round: r.round(), PPN: r.u16()}
	n := int(r.u16())
	if r.err == nil && n == 0 {
		r.err = fmt.Errorf("%w: seal with no tags", ErrNonCanon)
	}
	if r.err == nil && n*SealTag > len(r.b) {
		r.err = fmt.Errorf("%w: %d tags of %d bytes, %d bytes left", ErrLengthField, n, SealTag, len(r.b))
	}
	if r.err == nil {
		s.Tags = make([][SealTag]byte, n)
		for i := range s.Tags {
			copy(s.Tags[i][:], r.take(SealTag))
		}
	}
	if err := r.end(); err != nil {
		return Seal{}, err
	}
	return s, nil
}
