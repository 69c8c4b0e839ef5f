package wire

import (
	"encoding/binary"
	"fmt"

	"github.com/ppnet/ppnet/sharing"
)

// AppendElements appends the canonical 8-byte big-endian encoding of es.
func AppendElements(dst []byte, es []sharing.Element) []byte {
	for _, e := range es {
		dst = binary.BigEndian.AppendUint64(dst, e.Uint64())
	}
	return dst
}

// DecodeElements decodes opened plaintext into field elements, rejecting
// values ≥ q. len(p) must be 8·len(dst).
func DecodeElements(dst []sharing.Element, p []byte) error {
	if len(p) != 8*len(dst) {
		return fmt.Errorf("%w: %d bytes of shares for %d elements", ErrLengthField, len(p), len(dst))
	}
	for i := range dst {
		e, err := sharing.ElementFromCanonical(binary.BigEndian.Uint64(p[8*i:]))
		if err != nil {
			return fmt.Errorf("%w: share %d: %v", ErrNonCanon, i, err)
		}
		dst[i] = e
	}
	return nil
}
