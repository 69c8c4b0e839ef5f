package consumer

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

var (
	bucketMeta    = []byte("meta")    // "seq" → last aggregate-stream sequence applied
	bucketShares  = []byte("shares")  // rule(2) ‖ window(8) ‖ ppn(2) → verified aggregate message
	bucketResults = []byte("results") // rule(2) ‖ window(8) → Result (JSON)
	keySeq        = []byte("seq")
)

func openStore(path string) (*bolt.DB, error) {
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		return nil, fmt.Errorf("consumer: open store %s: %v", path, err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketMeta, bucketShares, bucketResults} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("consumer: init store %s: %v", path, err)
	}
	return db, nil
}

func windowKey(rule uint16, window uint64) []byte {
	k := binary.BigEndian.AppendUint16(make([]byte, 0, 12), rule)
	return binary.BigEndian.AppendUint64(k, window)
}

func shareKey(rule uint16, window uint64, ppn uint16) []byte {
	return binary.BigEndian.AppendUint16(windowKey(rule, window), ppn)
}

func loadSeq(db *bolt.DB) (uint64, error) {
	var seq uint64
	err := db.View(func(tx *bolt.Tx) error {
		if v := tx.Bucket(bucketMeta).Get(keySeq); len(v) == 8 {
			seq = binary.BigEndian.Uint64(v)
		}
		return nil
	})
	return seq, err
}

// Results returns every stored result in (rule, window) order.
func (c *Consumer) Results() ([]Result, error) { return results(c.db) }

// ReadResults returns the results stored in the consumer store at path
// (a stopped consumer's consumer-<id>.db), in (rule, window) order.
func ReadResults(path string) ([]Result, error) {
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: 5 * time.Second})
	if err != nil {
		return nil, fmt.Errorf("consumer: open store %s: %v; is a consumer still running on it?", path, err)
	}
	defer db.Close()
	return results(db)
}

func results(db *bolt.DB) ([]Result, error) {
	var out []Result
	err := db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketResults).ForEach(func(_, v []byte) error {
			var r Result
			if err := json.Unmarshal(v, &r); err != nil {
				return fmt.Errorf("consumer: corrupt stored result: %v", err)
			}
			out = append(out, r)
			return nil
		})
	})
	return out, err
}
