package wire

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
)

// Format constants.
const (
	Magic   byte = 'P' // first byte of every message
	Version byte = 1   // format version

	TypeBundle    byte = 1 // a producer's share bundle
	TypeSeal      byte = 2 // a round seal marker
	TypeAggregate byte = 3 // a PPN's aggregated share for a consumer

	// MaxMessage bounds every encoded message; the embedded NATS server's
	// max_payload is set to it.
	MaxMessage = 8 << 20
	// MaxRound is the largest round number (rounds fit 48 bits in nonces).
	MaxRound = 1<<48 - 1
	// TagSize is the AEAD tag length appended to every sealed payload.
	TagSize = 16
)

// Errors returned by decoders; match them with errors.Is. Metrics label
// rejected messages with [Reason].
var (
	ErrTruncated   = errors.New("wire: message truncated")
	ErrTrailing    = errors.New("wire: trailing bytes after message")
	ErrMagic       = errors.New("wire: not a ppnet message (bad magic byte)")
	ErrVersion     = errors.New("wire: unsupported format version")
	ErrType        = errors.New("wire: unexpected message type")
	ErrOversized   = errors.New("wire: message larger than wire.MaxMessage")
	ErrNonCanon    = errors.New("wire: non-canonical encoding")
	ErrRoundRange  = errors.New("wire: round number out of range")
	ErrLengthField = errors.New("wire: length field inconsistent with message")
)

// Reason returns a short, stable label for a decoding error, for metrics.
func Reason(err error) string {
	for _, e := range []struct {
		err   error
		label string
	}{
		{ErrTruncated, "truncated"}, {ErrTrailing, "trailing"}, {ErrMagic, "magic"},
		{ErrVersion, "version"}, {ErrType, "type"}, {ErrOversized, "oversized"},
		{ErrNonCanon, "noncanonical"}, {ErrRoundRange, "round_range"}, {ErrLengthField, "length"},
	} {
		if errors.Is(err, e.err) {
			return e.label
		}
	}
	return "other"
}

// PeekType returns the type byte of msg after checking magic, version and
// size, so a stream reader can dispatch before decoding.
func PeekType(msg []byte) (byte, error) {
	if len(msg) > MaxMessage {
		return 0, fmt.Errorf("%w: %d bytes", ErrOversized, len(msg))
	}
	if len(msg) < 3 {
		return 0, fmt.Errorf("%w: %d bytes, need at least 3", ErrTruncated, len(msg))
	}
	if msg[0] != Magic {
		return 0, fmt.Errorf("%w: 0x%02x", ErrMagic, msg[0])
	}
	if msg[1] != Version {
		return 0, fmt.Errorf("%w: %d, this build reads %d; upgrade", ErrVersion, msg[1], Version)
	}
	return msg[2], nil
}

// reader is a bounds-checked big-endian cursor; the first failure sticks.
type reader struct {
	b   []byte
	err error
}

func (r *reader) take(n int) []byte {
	if r.err != nil {
		return nil
	}
	if n < 0 || n > len(r.b) {
		r.err = fmt.Errorf("%w: need %d more bytes, have %d", ErrTruncated, n, len(r.b))
		return nil
	}
	p := r.b[:n]
	r.b = r.b[n:]
	return p
}

func (r *reader) u16() uint16 {
	if p := r.take(2); p != nil {
		return binary.BigEndian.Uint16(p)
	}
	return 0
}

func (r *reader) u32() uint32 {
	if p := r.take(4); p != nil {
		return binary.BigEndian.Uint32(p)
	}
	return 0
}

func (r *reader) u64() uint64 {
	if p := r.take(8); p != nil {
		return binary.BigEndian.Uint64(p)
	}
	return 0
}

func (r *reader) round() uint64 {
	v := r.u64()
	if r.err == nil && v > MaxRound {
		r.err = fmt.Errorf("%w: %d > 2^48−1", ErrRoundRange, v)
	}
	return v
}

// count reads a u32 element count and checks that count·size bytes remain.
func (r *reader) count(size int) int {
	n := r.u32()
	if r.err == nil && uint64(n)*uint64(size) > uint64(len(r.b)) {
		r.err = fmt.Errorf("%w: %d items of %d bytes, %d bytes left", ErrLengthField, n, size, len(r.b))
		return 0
	}
	return int(n)
}

func (r *reader) header(want byte) {
	if r.err != nil {
		return
	}
	typ, err := PeekType(r.b)
	if err != nil {
		r.err = err
		return
	}
	if typ != want {
		r.err = fmt.Errorf("%w: got %d, want %d", ErrType, typ, want)
		return
	}
	r.b = r.b[3:]
}

func (r *reader) end() error {
	if r.err == nil && len(r.b) != 0 {
		r.err = fmt.Errorf("%w: %d bytes", ErrTrailing, len(r.b))
	}
	return r.err
}

func appendHeader(b []byte, typ byte) []byte { return append(b, Magic, Version, typ) }

// Digest is a SHA-256 digest of a coverage set.
type Digest [sha256.Size]byte
