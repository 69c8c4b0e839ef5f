package producer

import (
	"encoding/binary"
	"errors"
	"fmt"
	"iter"

	bolt "go.etcd.io/bbolt"
)

// Buckets of the producer's bbolt file.
var (
	bucketReadings = []byte("readings") // meter(4) ‖ round(8) → reading (encodeReading)
	bucketOutbox   = []byte("outbox")   // round(8) ‖ chunk(2) → encoded bundle, until acknowledged
	bucketMeta     = []byte("meta")     // "next" → next round to produce
)

var keyNext = []byte("next")

var (
	// ErrNoReading reports a (meter, round) with no stored reading.
	ErrNoReading = errors.New("producer: no reading stored")
	// ErrSuppressed reports a reading suppressed by masking: it has no value.
	ErrSuppressed = errors.New("producer: reading suppressed by masking")
)

// How a stored reading was masked. A stored value is 8 bytes (an exact
// reading, int64 big-endian), 9 bytes (a masked value and its kind) or the
// single byte MaskSuppressed: lengths, not values, tell them apart, so no
// reading — any int64 — can be mistaken for a masked or suppressed one.
const (
	MaskNone        byte = 0
	MaskGeneralised byte = 'g'
	MaskCoarsened   byte = 'c'
	MaskSuppressed  byte = 's'
)

func encodeReading(wh int64, kind byte) []byte {
	switch kind {
	case MaskNone:
		return binary.BigEndian.AppendUint64(make([]byte, 0, 8), uint64(wh))
	case MaskSuppressed:
		return []byte{MaskSuppressed}
	default:
		return append(binary.BigEndian.AppendUint64(make([]byte, 0, 9), uint64(wh)), kind)
	}
}

func decodeReading(v []byte) (int64, byte, error) {
	switch {
	case len(v) == 8:
		return int64(binary.BigEndian.Uint64(v)), MaskNone, nil
	case len(v) == 9 && (v[8] == MaskGeneralised || v[8] == MaskCoarsened):
		return int64(binary.BigEndian.Uint64(v)), v[8], nil
	case len(v) == 1 && v[0] == MaskSuppressed:
		return 0, MaskSuppressed, nil
	}
	return 0, 0, fmt.Errorf("producer: corrupt stored reading %x", v)
}

func openStore(path string) (*bolt.DB, error) {
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: 0})
	if err != nil {
		return nil, fmt.Errorf("producer: open history %s: %v", path, err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketReadings, bucketOutbox, bucketMeta} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("producer: init history %s: %v", path, err)
	}
	return db, nil
}

func readingKey(meter uint32, round uint64) []byte {
	k := binary.BigEndian.AppendUint32(make([]byte, 0, 12), meter)
	return binary.BigEndian.AppendUint64(k, round)
}

func outKey(round uint64, chunk uint16) []byte {
	k := binary.BigEndian.AppendUint64(make([]byte, 0, 10), round)
	return binary.BigEndian.AppendUint16(k, chunk)
}

// History is read access to a producer's stored readings.
type History struct{ db *bolt.DB }

// OpenHistory opens a stopped producer's history file read-only.
func OpenHistory(path string) (*History, error) {
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("producer: open history %s: %v", path, err)
	}
	return &History{db: db}, nil
}

// Close closes the history.
func (h *History) Close() error { return h.db.Close() }

// Reading returns the stored reading of a meter (index) in a round (the
// masked value, if masked; ErrSuppressed if suppressed).
func (h *History) Reading(meter uint32, round uint64) (int64, error) {
	var v int64
	err := h.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketReadings).Get(readingKey(meter, round))
		if b == nil {
			return fmt.Errorf("%w for meter %d round %d", ErrNoReading, meter, round)
		}
		wh, kind, err := decodeReading(b)
		if err == nil && kind == MaskSuppressed {
			err = fmt.Errorf("%w: meter %d round %d", ErrSuppressed, meter, round)
		}
		v = wh
		return err
	})
	return v, err
}

// Entry is one stored reading.
type Entry struct {
	Meter uint32
	Round uint64
	Wh    int64 // the reading, or its masked value (0 when suppressed)
	Mask  byte  // MaskNone for an exact reading, else how it was masked
}

// All yields every stored reading in (meter, round) order. Stop early by
// breaking out of the loop; an error ends the sequence with ok false.
func (h *History) All() iter.Seq2[Entry, error] {
	return func(yield func(Entry, error) bool) {
		err := h.db.View(func(tx *bolt.Tx) error {
			return tx.Bucket(bucketReadings).ForEach(func(k, v []byte) error {
				if len(k) != 12 {
					return fmt.Errorf("producer: corrupt history entry %x", k)
				}
				wh, kind, err := decodeReading(v)
				if err != nil {
					return err
				}
				e := Entry{binary.BigEndian.Uint32(k), binary.BigEndian.Uint64(k[4:]), wh, kind}
				if !yield(e, nil) {
					return errStop
				}
				return nil
			})
		})
		if err != nil && !errors.Is(err, errStop) {
			yield(Entry{}, err)
		}
	}
}

var errStop = errors.New("stop")
