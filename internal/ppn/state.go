package ppn

import (
	"encoding/binary"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/ppnet/ppnet/internal/wire"
	"github.com/ppnet/ppnet/sharing"
)

// Buckets of the PPN's bbolt file. meta and windows change together in one
// transaction with the stream position: that is the exactly-once guarantee.
var (
	bucketMeta    = []byte("meta")    // "seq" → last stream sequence applied; "sealed" → first unsealed round; "lost" → lost round spans
	bucketWindows = []byte("windows") // rule(2) ‖ start(8) → values (8·Values) ‖ coverage bitmap
	bucketOutbox  = []byte("outbox")  // rule(2) ‖ start(8) → encoded aggregate, until acknowledged
)

var (
	keySeq    = []byte("seq")
	keySealed = []byte("sealed")
	keyLost   = []byte("lost")
)

type winKey struct {
	rule  int
	start uint64
}

func (k winKey) bytes() []byte {
	b := binary.BigEndian.AppendUint16(make([]byte, 0, 10), uint16(k.rule))
	return binary.BigEndian.AppendUint64(b, k.start)
}

// window is the accumulator of one (rule, window): the sum (one value) or
// the per-producer sums, and which (producer, round) slots it covers.
type window struct {
	vals    []sharing.Element
	covered []uint64 // bit j·n + p set: producer p's share of round start+j added
	dirty   bool
}

func newWindow(values int, slots uint32) *window {
	return &window{vals: make([]sharing.Element, values), covered: make([]uint64, (slots+63)/64)}
}

func (w *window) marshal() []byte {
	b := wire.AppendElements(make([]byte, 0, 8*len(w.vals)+8*len(w.covered)), w.vals)
	for _, c := range w.covered {
		b = binary.BigEndian.AppendUint64(b, c)
	}
	return b
}

func unmarshalWindow(b []byte, values int, slots uint32) (*window, error) {
	w := newWindow(values, slots)
	if len(b) != 8*len(w.vals)+8*len(w.covered) {
		return nil, fmt.Errorf("ppn: stored window has %d bytes, want %d; the state file does not match the network configuration", len(b), 8*len(w.vals)+8*len(w.covered))
	}
	if err := wire.DecodeElements(w.vals, b[:8*len(w.vals)]); err != nil {
		return nil, fmt.Errorf("ppn: stored window: %v", err)
	}
	b = b[8*len(w.vals):]
	for i := range w.covered {
		w.covered[i] = binary.BigEndian.Uint64(b[8*i:])
	}
	return w, nil
}

// missing lists the uncovered slots of a window as runs.
func (w *window) missing(slots uint32) []wire.Run {
	var runs []wire.Run
	for i := uint32(0); i < slots; i++ {
		if w.covered[i/64]&(1<<(i%64)) != 0 {
			continue
		}
		if n := len(runs); n > 0 && runs[n-1].Start+runs[n-1].Len == i {
			runs[n-1].Len++
		} else {
			runs = append(runs, wire.Run{Start: i, Len: 1})
		}
	}
	return runs
}

// state is everything a PPN commits: position, seal point, open windows.
type state struct {
	seq      uint64      // last stream sequence applied
	sealed   uint64      // rounds < sealed are sealed
	lost     []roundSpan // rounds whose bundles a stream gap may have removed (sorted, disjoint)
	windows  map[winKey]*window
	deleted  []winKey          // emitted windows to delete at the next commit
	outbox   map[winKey][]byte // aggregates to store at the next commit
	uncommit int               // messages applied since the last commit
}

func openStore(path string) (*bolt.DB, error) {
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		return nil, fmt.Errorf("ppn: open state %s: %v", path, err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketMeta, bucketWindows, bucketOutbox} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("ppn: init state %s: %v", path, err)
	}
	return db, nil
}

// load reads the committed state; sizes gives (values, slots) per rule.
func load(db *bolt.DB, sizes func(rule int) (int, uint32, bool)) (*state, error) {
	s := &state{windows: map[winKey]*window{}, outbox: map[winKey][]byte{}}
	err := db.View(func(tx *bolt.Tx) error {
		m := tx.Bucket(bucketMeta)
		if v := m.Get(keySeq); len(v) == 8 {
			s.seq = binary.BigEndian.Uint64(v)
		}
		if v := m.Get(keySealed); len(v) == 8 {
			s.sealed = binary.BigEndian.Uint64(v)
		}
		v := m.Get(keyLost)
		if len(v)%16 != 0 {
			return fmt.Errorf("ppn: corrupt lost round spans (%d bytes)", len(v))
		}
		for ; len(v) > 0; v = v[16:] {
			s.lost = append(s.lost, roundSpan{binary.BigEndian.Uint64(v), binary.BigEndian.Uint64(v[8:])})
		}
		return tx.Bucket(bucketWindows).ForEach(func(k, v []byte) error {
			if len(k) != 10 {
				return fmt.Errorf("ppn: corrupt window key %x", k)
			}
			key := winKey{int(binary.BigEndian.Uint16(k)), binary.BigEndian.Uint64(k[2:])}
			values, slots, ok := sizes(key.rule)
			if !ok {
				return fmt.Errorf("ppn: stored window of rule %d, which this PPN does not serve; use a fresh data directory for a new configuration", key.rule)
			}
			w, err := unmarshalWindow(v, values, slots)
			if err != nil {
				return err
			}
			s.windows[key] = w
			return nil
		})
	})
	return s, err
}

// commit writes the dirty windows, the deletions, the new outbox entries
// and the position in one transaction.
func (s *state) commit(db *bolt.DB) error {
	err := db.Update(func(tx *bolt.Tx) error {
		wb, ob := tx.Bucket(bucketWindows), tx.Bucket(bucketOutbox)
		for k, w := range s.windows {
			if w.dirty {
				if err := wb.Put(k.bytes(), w.marshal()); err != nil {
					return err
				}
			}
		}
		for _, k := range s.deleted {
			if err := wb.Delete(k.bytes()); err != nil {
				return err
			}
		}
		for k, msg := range s.outbox {
			if err := ob.Put(k.bytes(), msg); err != nil {
				return err
			}
		}
		m := tx.Bucket(bucketMeta)
		if err := m.Put(keySeq, binary.BigEndian.AppendUint64(nil, s.seq)); err != nil {
			return err
		}
		if err := m.Put(keySealed, binary.BigEndian.AppendUint64(nil, s.sealed)); err != nil {
			return err
		}
		if len(s.lost) == 0 {
			return m.Delete(keyLost)
		}
		var lost []byte
		for _, sp := range s.lost {
			lost = binary.BigEndian.AppendUint64(lost, sp.lo)
			lost = binary.BigEndian.AppendUint64(lost, sp.hi)
		}
		return m.Put(keyLost, lost)
	})
	if err != nil {
		return fmt.Errorf("ppn: commit: %v", err)
	}
	for _, w := range s.windows {
		w.dirty = false
	}
	s.deleted = s.deleted[:0]
	clear(s.outbox)
	s.uncommit = 0
	return nil
}
