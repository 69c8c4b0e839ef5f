package bill

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
)

var (
	bucketBills    = []byte("bill/bills")
	bucketPayments = []byte("bill/payments")
)

// Errors callers match with errors.Is.
var (
	ErrNotFound   = errors.New("bill: not found")
	ErrExists     = errors.New("bill: revision already issued; bills are immutable, issue a correction")
	ErrPaid       = errors.New("bill: already paid")
	ErrNotPayable = errors.New("bill: not payable")
)

// Payment records that a bill revision was paid.
type Payment struct {
	BillID      string    `json:"bill_id"`
	AmountPaise int64     `json:"amount_paise"`
	At          time.Time `json:"at"`
	Reference   string    `json:"reference"`
}

// Store keeps bills in a bbolt database shared with the rest of the
// billing consumer (buckets prefixed "bill/").
type Store struct{ db *bolt.DB }

// OpenStore prepares the bill buckets in db.
func OpenStore(db *bolt.DB) (*Store, error) {
	err := db.Update(func(tx *bolt.Tx) error {
		for _, n := range [][]byte{bucketBills, bucketPayments} {
			if _, err := tx.CreateBucketIfNotExists(n); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("bill: open store: %w", err)
	}
	return &Store{db: db}, nil
}

func prefix(customerID, period string) []byte { return []byte(customerID + "\x00" + period + "\x00") }

func key(customerID, period string, rev int) []byte {
	return binary.BigEndian.AppendUint32(prefix(customerID, period), uint32(rev))
}

// Insert stores a new bill revision. Revision 1 or the next after the
// latest stored; an existing revision is never overwritten.
func (s *Store) Insert(b Bill) error {
	if b.CustomerID == "" || strings.ContainsRune(b.CustomerID, 0) || !periodPattern.MatchString(b.Period) || b.Revision < 1 {
		return fmt.Errorf("bill: cannot store bill %q; fix: customer id, period YYYY-MM and revision ≥ 1 are required", b.ID())
	}
	val, err := json.Marshal(b)
	if err != nil {
		return err
	}
	return s.db.Update(func(tx *bolt.Tx) error {
		bk := tx.Bucket(bucketBills)
		if bk.Get(key(b.CustomerID, b.Period, b.Revision)) != nil {
			return fmt.Errorf("%w: %s", ErrExists, b.ID())
		}
		if latest := latestIn(bk, b.CustomerID, b.Period); latest+1 != b.Revision {
			return fmt.Errorf("bill: revision %d of %s/%s out of order, latest is %d; fix: issue revision %d", b.Revision, b.CustomerID, b.Period, latest, latest+1)
		}
		return bk.Put(key(b.CustomerID, b.Period, b.Revision), val)
	})
}

func latestIn(bk *bolt.Bucket, customerID, period string) int {
	p := prefix(customerID, period)
	latest := 0
	c := bk.Cursor()
	for k, _ := c.Seek(p); k != nil && strings.HasPrefix(string(k), string(p)); k, _ = c.Next() {
		latest = int(binary.BigEndian.Uint32(k[len(p):]))
	}
	return latest
}

// Latest returns the newest revision of a customer's bill for a period.
func (s *Store) Latest(customerID, period string) (Bill, error) {
	var b Bill
	err := s.db.View(func(tx *bolt.Tx) error {
		bk := tx.Bucket(bucketBills)
		rev := latestIn(bk, customerID, period)
		if rev == 0 {
			return fmt.Errorf("%w: no bill for customer %q in %s", ErrNotFound, customerID, period)
		}
		return json.Unmarshal(bk.Get(key(customerID, period, rev)), &b)
	})
	return b, err
}

// Get returns a bill by its ID ("customer/period/rN").
func (s *Store) Get(id string) (Bill, error) {
	cust, period, rev, err := ParseID(id)
	if err != nil {
		return Bill{}, err
	}
	var b Bill
	err = s.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketBills).Get(key(cust, period, rev))
		if v == nil {
			return fmt.Errorf("%w: %s", ErrNotFound, id)
		}
		return json.Unmarshal(v, &b)
	})
	return b, err
}

// ParseID splits a bill ID into customer, period and revision.
func ParseID(id string) (customerID, period string, rev int, err error) {
	parts := strings.Split(id, "/")
	if len(parts) != 3 || parts[0] == "" || !periodPattern.MatchString(parts[1]) || !strings.HasPrefix(parts[2], "r") {
		return "", "", 0, fmt.Errorf("%w: bad bill id %q; fix: use customer/YYYY-MM/rN", ErrNotFound, id)
	}
	if _, err := fmt.Sscanf(parts[2], "r%d", &rev); err != nil || rev < 1 || fmt.Sprintf("r%d", rev) != parts[2] {
		return "", "", 0, fmt.Errorf("%w: bad revision in bill id %q; fix: use customer/YYYY-MM/rN", ErrNotFound, id)
	}
	return parts[0], parts[1], rev, nil
}

// List returns every stored bill revision, optionally only one customer's
// (customerID != ""), ordered by customer, period and revision.
func (s *Store) List(customerID string) ([]Bill, error) {
	var out []Bill
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketBills).Cursor()
		p := []byte{}
		if customerID != "" {
			p = []byte(customerID + "\x00")
		}
		for k, v := c.Seek(p); k != nil && strings.HasPrefix(string(k), string(p)); k, v = c.Next() {
			var b Bill
			if err := json.Unmarshal(v, &b); err != nil {
				return fmt.Errorf("bill: corrupt record %q: %w", k, err)
			}
			out = append(out, b)
		}
		return nil
	})
	return out, err
}

// MarkPaid records a payment of exactly the bill's total against the
// latest, issued revision. It refuses a second payment.
func (s *Store) MarkPaid(id string, amountPaise int64, at time.Time, ref string) error {
	b, err := s.Get(id)
	if err != nil {
		return err
	}
	val, err := json.Marshal(Payment{BillID: id, AmountPaise: amountPaise, At: at.UTC(), Reference: ref})
	if err != nil {
		return err
	}
	return s.db.Update(func(tx *bolt.Tx) error {
		switch latest := latestIn(tx.Bucket(bucketBills), b.CustomerID, b.Period); {
		case b.Status != StatusIssued:
			return fmt.Errorf("%w: %s is %s", ErrNotPayable, id, b.Status)
		case latest != b.Revision:
			return fmt.Errorf("%w: %s was superseded by revision %d; fix: pay the latest revision", ErrNotPayable, id, latest)
		case amountPaise != b.TotalPaise:
			return fmt.Errorf("%w: amount %d paise differs from the bill's %d", ErrNotPayable, amountPaise, b.TotalPaise)
		}
		pb := tx.Bucket(bucketPayments)
		if pb.Get([]byte(id)) != nil {
			return fmt.Errorf("%w: %s", ErrPaid, id)
		}
		return pb.Put([]byte(id), val)
	})
}

// Payment returns the payment of a bill, if any.
func (s *Store) Payment(id string) (Payment, bool, error) {
	var p Payment
	var found bool
	err := s.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketPayments).Get([]byte(id))
		if v == nil {
			return nil
		}
		found = true
		return json.Unmarshal(v, &p)
	})
	return p, found, err
}
