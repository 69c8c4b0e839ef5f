package wire

import (
	"bytes"
	"errors"
	"reflect"
	"testing"

	"github.com/ppnet/ppnet/sharing"
)

func sampleBundle() Bundle {
	return Bundle{
		Epoch: 7, Round: 1234, Sender: 3, Chunk: 1,
		Meters: []uint32{2, 5, 9},
		Parts: []Part{
			{PPN: 0, Sealed: bytes.Repeat([]byte{0xaa}, TagSize+24)},
			{PPN: 4, Sealed: bytes.Repeat([]byte{0xbb}, TagSize+16)},
		},
	}
}

func sampleAggregate() Aggregate {
	return Aggregate{
		Epoch: 7, Rule: 2, Window: 96, PPN: 1, Consumer: 3, Slots: 400,
		Missing: []Run{{0, 3}, {10, 1}, {399, 1}},
		Sealed:  bytes.Repeat([]byte{0xcc}, TagSize+8),
	}
}

func TestBundleRoundTrip(t *testing.T) {
	b := sampleBundle()
	msg := b.Marshal()
	got, err := DecodeBundle(msg)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Header, b.AppendHeader(nil)) {
		t.Errorf("header %x, want %x", got.Header, b.AppendHeader(nil))
	}
	got.Header = nil
	if !reflect.DeepEqual(got, b) {
		t.Errorf("decoded %+v, want %+v", got, b)
	}
}

func TestSealRoundTrip(t *testing.T) {
	s := Seal{Epoch: 1, Round: MaxRound, PPN: 65535, Tags: [][SealTag]byte{{1, 2, 3}, {15: 0xff}}}
	got, err := DecodeSeal(s.Marshal())
	if err != nil || !reflect.DeepEqual(got, s) {
		t.Fatalf("DecodeSeal = %+v, %v; want %+v", got, err, s)
	}
}

func TestAggregateRoundTrip(t *testing.T) {
	a := sampleAggregate()
	msg := a.Marshal()
	got, err := DecodeAggregate(msg)
	if err != nil {
		t.Fatal(err)
	}
	if got.Covered() != 400-5 {
		t.Errorf("covered %d, want 395", got.Covered())
	}
	got.Header = nil
	if !reflect.DeepEqual(got, a) {
		t.Errorf("decoded %+v, want %+v", got, a)
	}
}

func TestDecodeRejects(t *testing.T) {
	b := sampleBundle()
	good := b.Marshal()
	unsorted := sampleBundle()
	unsorted.Meters = []uint32{5, 2, 9}
	dupPPN := sampleBundle()
	dupPPN.Parts[1].PPN = 0
	shortPart := sampleBundle()
	shortPart.Parts[0].Sealed = make([]byte, TagSize+3)
	empty := sampleBundle()
	empty.Meters = nil
	bigRound := sampleBundle()
	bigRound.Round = MaxRound + 1
	agg := sampleAggregate()
	aggMsg := agg.Marshal()
	badDigest := append([]byte(nil), aggMsg...)
	badDigest[len(agg.Header)+len(agg.AppendHeader(nil))-1] ^= 1
	overlap := sampleAggregate()
	overlap.Missing = []Run{{0, 3}, {3, 1}}
	overlapMsg := overlap.Marshal()
	seal := (&Seal{Epoch: 1, Round: 2, Tags: make([][SealTag]byte, 3)}).Marshal()
	noTags := (&Seal{Epoch: 1, Round: 2}).Marshal()

	tests := []struct {
		name string
		msg  []byte
		dec  func([]byte) error
		want error
	}{
		{"empty", nil, decB, ErrTruncated},
		{"bad magic", append([]byte{'X'}, good[1:]...), decB, ErrMagic},
		{"bad version", append([]byte{'P', 9}, good[2:]...), decB, ErrVersion},
		{"seal as bundle", seal, decB, ErrType},
		{"truncated", good[:len(good)-1], decB, ErrTruncated},
		{"trailing", append(append([]byte(nil), good...), 0), decB, ErrTrailing},
		{"oversized", make([]byte, MaxMessage+1), decB, ErrOversized},
		{"unsorted meters", unsorted.Marshal(), decB, ErrNonCanon},
		{"duplicate ppn", dupPPN.Marshal(), decB, ErrNonCanon},
		{"short part", shortPart.Marshal(), decB, ErrLengthField},
		{"no meters", empty.Marshal(), decB, ErrNonCanon},
		{"round range", bigRound.Marshal(), decB, ErrRoundRange},
		{"seal truncated", seal[:10], decS, ErrTruncated},
		{"seal tags truncated", seal[:len(seal)-1], decS, ErrLengthField},
		{"seal trailing", append(append([]byte(nil), seal...), 0), decS, ErrTrailing},
		{"seal without tags", noTags, decS, ErrNonCanon},
		{"aggregate digest", badDigest, decA, ErrNonCanon},
		{"aggregate overlap", overlapMsg, decA, ErrNonCanon},
		{"aggregate truncated", aggMsg[:len(aggMsg)-2], decA, ErrTruncated},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.dec(tc.msg)
			if !errors.Is(err, tc.want) {
				t.Fatalf("error %v, want %v", err, tc.want)
			}
			if Reason(err) == "other" {
				t.Errorf("no metric label for %v", err)
			}
		})
	}
}

func TestElements(t *testing.T) {
	es := []sharing.Element{sharing.NewElement(0), sharing.NewElement(sharing.Q - 1), sharing.NewElement(42)}
	p := AppendElements(nil, es)
	got := make([]sharing.Element, 3)
	if err := DecodeElements(got, p); err != nil || !reflect.DeepEqual(got, es) {
		t.Fatalf("DecodeElements = %v, %v", got, err)
	}
	p[7] = 0xff
	p[0] = 0xff
	if err := DecodeElements(got, p); !errors.Is(err, ErrNonCanon) {
		t.Fatalf("non-canonical element accepted: %v", err)
	}
}

func TestMissingRuns(t *testing.T) {
	got := MissingRuns([]uint32{1, 2, 3, 7, 9, 10})
	want := []Run{{1, 3}, {7, 1}, {9, 2}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("MissingRuns = %v, want %v", got, want)
	}
}

func decB(m []byte) error { _, err := DecodeBundle(m); return err }
func decS(m []byte) error { _, err := DecodeSeal(m); return err }
func decA(m []byte) error { _, err := DecodeAggregate(m); return err }
