package customer

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// AuditEntry is one line of the append-only audit log. Each entry carries
// the SHA-256 of the previous entry's stored bytes, so editing or deleting
// an entry breaks the chain, which VerifyAudit reports.
type AuditEntry struct {
	Seq        uint64    `json:"seq"`
	Time       time.Time `json:"time"`
	Action     string    `json:"action"`
	CustomerID string    `json:"customer_id"`
	Officers   []string  `json:"officers"`
	Reason     string    `json:"reason"`
	Outcome    string    `json:"outcome"`
	Prev       string    `json:"prev"` // hex SHA-256 of the previous entry; "" for the first
}

func (s *Store) appendAudit(e AuditEntry) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketAudit)
		k, v := b.Cursor().Last()
		if k != nil {
			sum := sha256.Sum256(v)
			e.Prev = hex.EncodeToString(sum[:])
		}
		seq, err := b.NextSequence()
		if err != nil {
			return err
		}
		e.Seq, e.Time = seq, s.now().UTC()
		val, err := json.Marshal(e)
		if err != nil {
			return err
		}
		return b.Put(binary.BigEndian.AppendUint64(nil, seq), val)
	})
}

// Audit returns the audit log in order.
func (s *Store) Audit() ([]AuditEntry, error) {
	var out []AuditEntry
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketAudit).ForEach(func(_, v []byte) error {
			var e AuditEntry
			if err := json.Unmarshal(v, &e); err != nil {
				return fmt.Errorf("customer: audit entry unreadable: %w", err)
			}
			out = append(out, e)
			return nil
		})
	})
	return out, err
}

// VerifyAudit checks the hash chain and the sequence numbers of the audit
// log and reports the first entry that was altered, removed or inserted.
func (s *Store) VerifyAudit() error {
	return s.db.View(func(tx *bolt.Tx) error {
		prev, want := "", uint64(1)
		return tx.Bucket(bucketAudit).ForEach(func(k, v []byte) error {
			var e AuditEntry
			if err := json.Unmarshal(v, &e); err != nil {
				return fmt.Errorf("customer: audit entry %x unreadable: %w", k, err)
			}
			if len(k) != 8 || binary.BigEndian.Uint64(k) != want || e.Seq != want {
				return fmt.Errorf("customer: audit log broken at entry %d: expected sequence %d; entries were removed or inserted", e.Seq, want)
			}
			if e.Prev != prev {
				return fmt.Errorf("customer: audit log broken at entry %d: previous entry was altered", e.Seq)
			}
			sum := sha256.Sum256(v)
			prev, want = hex.EncodeToString(sum[:]), want+1
			return nil
		})
	})
}
