package scrub

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"testing"

	bolt "go.etcd.io/bbolt"

	"github.com/ppnet/ppnet/internal/fddm/mask"
)

const marker = uint64(0x1122334455667788) // distinctive original readings

func encode(w []uint64) []byte {
	b := make([]byte, 8*len(w))
	for i, v := range w {
		binary.LittleEndian.PutUint64(b[8*i:], v)
	}
	return b
}

func decode(b []byte) []uint64 {
	w := make([]uint64, len(b)/8)
	for i := range w {
		w[i] = binary.LittleEndian.Uint64(b[8*i:])
	}
	return w
}

func countOriginals(t *testing.T, path string) int {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var m [8]byte
	binary.LittleEndian.PutUint64(m[:], marker)
	return bytes.Count(data, m[:])
}

// TestCompactRemovesOriginals masks a stored period inside a bbolt
// transaction, shows the originals survive in the file, and that Compact
// removes them while keeping the masked values.
func TestCompactRemovesOriginals(t *testing.T) {
	path := filepath.Join(t.TempDir(), "history.db")
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	wh := make([]uint64, 2688)
	scores := make([]float64, len(wh))
	for i := range wh {
		wh[i] = 100 + uint64(i%7)
		if i%3 == 0 {
			wh[i], scores[i] = marker, 1 // the revealing readings
		}
	}
	key, bucket := []byte("2026-02"), []byte("history")
	err = db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bucket)
		if err != nil {
			return err
		}
		return b.Put(key, encode(wh))
	})
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucket)
		w := decode(b.Get(key))
		if _, err := mask.Apply(true, mask.Period{Wh: w, Scores: scores}, mask.Policy{Strategy: mask.Suppress, Threshold: 0.5, MaxShare: 1}); err != nil {
			return err
		}
		return b.Put(key, encode(w))
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if n := countOriginals(t, path); n == 0 {
		t.Fatal("no original left in the file after masking: the premise of Compact no longer holds, revisit the package doc")
	} else {
		t.Logf("after masking with Put: %d of %d original readings still in the file", n, len(wh)/3)
	}
	if err := Compact(path); err != nil {
		t.Fatal(err)
	}
	if n := countOriginals(t, path); n != 0 {
		t.Fatalf("after Compact: %d originals still in the file", n)
	}
	db, err = bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.View(func(tx *bolt.Tx) error {
		got := decode(tx.Bucket(bucket).Get(key))
		for i, v := range got {
			want := wh[i]
			if i%3 == 0 {
				want = mask.Suppressed
			}
			if v != want {
				t.Fatalf("reading %d = %d after Compact, want %d", i, v, want)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestCompactRefuses(t *testing.T) {
	dir := t.TempDir()
	junk := filepath.Join(dir, "junk.db")
	if err := os.WriteFile(junk, []byte("not a database at all, just text"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{filepath.Join(dir, "missing.db"), junk} {
		if err := Compact(path); !errors.Is(err, ErrStore) {
			t.Errorf("Compact(%s): err %v, want ErrStore", filepath.Base(path), err)
		}
	}
	if _, err := os.Stat(junk + ".compact"); !os.IsNotExist(err) {
		t.Errorf("temporary file left behind: %v", err)
	}
}
