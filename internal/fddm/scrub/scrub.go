// Package scrub removes what dynamic masking would otherwise leave behind in
// a bbolt history store.
//
// bbolt is copy-on-write: when a transaction rewrites a period's readings
// with their masked values, the pages that held the originals go to the free
// list but keep their bytes until bbolt happens to reuse them. Masking with
// Put alone therefore leaves the exact readings in the database file (the
// test of this package finds every one of them). Compact copies the live
// data into a fresh file and renames it over the old one, so that after a
// masking transaction no file of the store holds the originals. (Blocks of
// the old file may persist on the storage device until overwritten; full
// disk encryption, or a key per period destroyed after masking, closes that
// gap and is outside this package.)
package scrub

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"
)

// ErrStore reports a store that cannot be compacted.
var ErrStore = errors.New("scrub: cannot compact store")

// Compact rewrites the bbolt database at path into a new file holding only
// its live keys and values, syncs it, and renames it over path. The
// database must not be open (bbolt locks the file; Compact waits at most
// one second for the lock).
func Compact(path string) (err error) {
	fi, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrStore, err)
	}
	src, err := bolt.Open(path, fi.Mode().Perm(), &bolt.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		return fmt.Errorf("%w %s: %v (is it a bbolt file, and is the store closed?)", ErrStore, path, err)
	}
	defer src.Close()
	tmp := path + ".compact"
	_ = os.Remove(tmp) // left over from an interrupted run
	dst, err := bolt.Open(tmp, fi.Mode().Perm(), &bolt.Options{Timeout: time.Second})
	if err != nil {
		return fmt.Errorf("%w: creating %s: %v", ErrStore, tmp, err)
	}
	defer func() {
		if err != nil {
			dst.Close()
			os.Remove(tmp)
		}
	}()
	if err := bolt.Compact(dst, src, 0); err != nil {
		return fmt.Errorf("%w: copying %s: %v", ErrStore, path, err)
	}
	if err := dst.Close(); err != nil {
		return fmt.Errorf("%w: closing %s: %v", ErrStore, tmp, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("%w: replacing %s: %v", ErrStore, path, err)
	}
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}
