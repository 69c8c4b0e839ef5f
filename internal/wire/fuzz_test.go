package wire

import (
	"bytes"
	"testing"

	"github.com/ppnet/ppnet/sharing"
)

// Each fuzz target checks that decoding never panics and that whatever
// decodes re-encodes to the same bytes (the encoding is canonical).

func FuzzDecodeBundle(f *testing.F) {
	b := sampleBundle()
	f.Add(b.Marshal())
	one := Bundle{Epoch: 1, Round: 0, Sender: 0, Meters: []uint32{0}, Parts: []Part{{PPN: 0, Sealed: make([]byte, TagSize+8)}}}
	f.Add(one.Marshal())
	f.Add([]byte{'P', 1, 1})
	f.Fuzz(func(t *testing.T, msg []byte) {
		b, err := DecodeBundle(msg)
		if err != nil {
			return
		}
		if re := b.Marshal(); !bytes.Equal(re, msg) {
			t.Fatalf("re-encoding differs:\n%x\n%x", re, msg)
		}
	})
}

func FuzzDecodeSeal(f *testing.F) {
	f.Add((&Seal{Epoch: 3, Round: 17, PPN: 2, Tags: [][SealTag]byte{{1}, {2}, {3}, {4}, {5}}}).Marshal())
	f.Add((&Seal{Epoch: 1, Round: MaxRound, PPN: 0, Tags: make([][SealTag]byte, 1)}).Marshal())
	f.Add((&Seal{Epoch: 1, Round: 4}).Marshal()) // no tags: refused
	f.Add([]byte{'P', 1, 2, 0})
	f.Fuzz(func(t *testing.T, msg []byte) {
		s, err := DecodeSeal(msg)
		if err != nil {
			return
		}
		if re := s.Marshal(); !bytes.Equal(re, msg) {
			t.Fatalf("re-encoding differs:\n%x\n%x", re, msg)
		}
	})
}

func FuzzDecodeAggregate(f *testing.F) {
	a := sampleAggregate()
	f.Add(a.Marshal())
	full := Aggregate{Epoch: 1, Rule: 0, Window: 0, Slots: 5, Sealed: make([]byte, TagSize+8)}
	f.Add(full.Marshal())
	f.Fuzz(func(t *testing.T, msg []byte) {
		a, err := DecodeAggregate(msg)
		if err != nil {
			return
		}
		if a.Covered() > uint64(a.Slots) {
			t.Fatalf("covered %d > slots %d", a.Covered(), a.Slots)
		}
		if re := a.Marshal(); !bytes.Equal(re, msg) {
			t.Fatalf("re-encoding differs:\n%x\n%x", re, msg)
		}
	})
}

func FuzzPeekType(f *testing.F) {
	f.Add([]byte{'P', 1, 3})
	f.Fuzz(func(t *testing.T, msg []byte) {
		typ, err := PeekType(msg)
		if err == nil && (len(msg) < 3 || typ != msg[2]) {
			t.Fatalf("PeekType(%x) = %d", msg, typ)
		}
	})
}

func FuzzDecodeElements(f *testing.F) {
	f.Add(AppendElements(nil, nil))
	f.Add([]byte{0, 0, 0, 0, 0, 0, 0, 42, 0x1f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe})
	f.Add([]byte{0x1f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}) // q itself: refused
	f.Fuzz(func(t *testing.T, p []byte) {
		es := make([]sharing.Element, len(p)/8)
		if err := DecodeElements(es, p); err != nil {
			return
		}
		if re := AppendElements(nil, es); !bytes.Equal(re, p) {
			t.Fatalf("re-encoding differs:\n%x\n%x", re, p)
		}
	})
}
