package customer

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdh"
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"time"

	bolt "go.etcd.io/bbolt"
)

var (
	bucketCustomers = []byte("customer/records")
	bucketMeters    = []byte("customer/by-meter")
	bucketMeta      = []byte("customer/meta")
	bucketAudit     = []byte("customer/audit")
	keyMeta         = []byte("registry")
)

// Errors callers match with errors.Is.
var (
	ErrNotFound       = errors.New("customer: not found")
	ErrNotInitialised = errors.New("customer: registry not initialised; fix: run Init once and hand its shares to the officers")
	ErrQuorum         = errors.New("customer: shares do not reconstruct the reveal key")
)

// Options configures a Store; nil means defaults.
type Options struct {
	Rand io.Reader        // randomness for keys and nonces; required
	Now  func() time.Time // clock for the audit log; default time.Now
	// ContactKey, when set (32 bytes), also seals each customer's e-mail
	// address under this service-held key so notifications can be sent
	// (Store.Contact). Without it, e-mail is reachable only by quorum.
	ContactKey []byte
}

// Store is the encrypted customer registry in a bbolt database it shares
// with the rest of the billing consumer (its buckets are prefixed
// "customer/").
type Store struct {
	db   *bolt.DB
	meta meta
	pub  *ecdh.PublicKey
	rnd  io.Reader
	now  func() time.Time
	ck   cipher.AEAD // contact key; nil when not configured
}

type meta struct {
	PublicKey []byte `json:"public_key"` // X25519 reveal public key
	Threshold int    `json:"threshold"`
	Officers  int    `json:"officers"`
}

// record is a customer as stored: the masked view in the clear, the PII
// sealed.
type record struct {
	Masked  Masked  `json:"masked"`
	Sealed  sealed  `json:"sealed"`
	Contact *sealed `json:"contact,omitempty"` // e-mail under the contact key
}

type sealed struct {
	Ephemeral  []byte `json:"ephemeral"` // X25519 public key of the record's key agreement
	Nonce      []byte `json:"nonce"`
	Ciphertext []byte `json:"ciphertext"`
}

// Init creates the registry's reveal key in db, splits its private half
// into officers shares of which threshold reconstruct it, and returns the
// shares; only the public half is stored. It refuses to run twice.
func Init(db *bolt.DB, rnd io.Reader, officers, threshold int) ([][]byte, error) {
	if threshold < 2 || officers < threshold || officers > 255 {
		return nil, fmt.Errorf("customer: quorum %d of %d; fix: need 2 ≤ threshold ≤ officers ≤ 255", threshold, officers)
	}
	priv, err := ecdh.X25519().GenerateKey(rnd)
	if err != nil {
		return nil, fmt.Errorf("customer: reveal key: %w", err)
	}
	shares, err := splitKey(priv.Bytes(), officers, threshold)
	if err != nil {
		return nil, err
	}
	m, err := json.Marshal(meta{PublicKey: priv.PublicKey().Bytes(), Threshold: threshold, Officers: officers})
	if err != nil {
		return nil, err
	}
	err = db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bucketMeta)
		if err != nil {
			return err
		}
		if b.Get(keyMeta) != nil {
			return errors.New("customer: registry already initialised; fix: use the existing officers' shares")
		}
		return b.Put(keyMeta, m)
	})
	if err != nil {
		return nil, err
	}
	return shares, nil
}

// Open returns the registry kept in db, which Init must have set up.
func Open(db *bolt.DB, opts *Options) (*Store, error) {
	if opts == nil || opts.Rand == nil {
		return nil, errors.New("customer: Options.Rand is required; fix: pass crypto/rand.Reader")
	}
	s := &Store{db: db, rnd: opts.Rand, now: opts.Now}
	if s.now == nil {
		s.now = time.Now
	}
	if opts.ContactKey != nil {
		if len(opts.ContactKey) != 32 {
			return nil, fmt.Errorf("customer: contact key of %d bytes; fix: use 32 random bytes", len(opts.ContactKey))
		}
		block, err := aes.NewCipher(opts.ContactKey)
		if err != nil {
			return nil, err
		}
		if s.ck, err = cipher.NewGCM(block); err != nil {
			return nil, err
		}
	}
	err := db.Update(func(tx *bolt.Tx) error {
		for _, name := range [][]byte{bucketCustomers, bucketMeters, bucketAudit} {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return err
			}
		}
		b := tx.Bucket(bucketMeta)
		if b == nil || b.Get(keyMeta) == nil {
			return ErrNotInitialised
		}
		return json.Unmarshal(b.Get(keyMeta), &s.meta)
	})
	if err != nil {
		return nil, err
	}
	if s.pub, err = ecdh.X25519().NewPublicKey(s.meta.PublicKey); err != nil {
		return nil, fmt.Errorf("customer: stored reveal key: %w", err)
	}
	return s, nil
}

// Quorum returns the threshold and number of officers set by Init.
func (s *Store) Quorum() (threshold, officers int) { return s.meta.Threshold, s.meta.Officers }

// Put validates c, seals its PII and stores it, replacing any customer with
// the same ID. A meter may belong to one customer only.
func (s *Store) Put(c Customer) error {
	if err := c.Validate(); err != nil {
		return err
	}
	pii, err := json.Marshal(c.pii())
	if err != nil {
		return err
	}
	sl, err := s.seal(c.ID, pii)
	if err != nil {
		return err
	}
	rec := record{Masked: Mask(&c), Sealed: sl}
	if s.ck != nil {
		nonce := make([]byte, s.ck.NonceSize())
		if _, err := io.ReadFull(s.rnd, nonce); err != nil {
			return fmt.Errorf("customer: nonce: %w", err)
		}
		rec.Contact = &sealed{Nonce: nonce, Ciphertext: s.ck.Seal(nil, nonce, []byte(c.Email), []byte("contact "+c.ID))}
	}
	val, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	return s.db.Update(func(tx *bolt.Tx) error {
		meters := tx.Bucket(bucketMeters)
		if owner := meters.Get([]byte(c.MeterID)); owner != nil && string(owner) != c.ID {
			return fmt.Errorf("customer: meter %q already belongs to customer %q; fix: move it off that customer first", c.MeterID, owner)
		}
		recs := tx.Bucket(bucketCustomers)
		if old := recs.Get([]byte(c.ID)); old != nil {
			var r record
			if err := json.Unmarshal(old, &r); err == nil && r.Masked.MeterID != c.MeterID {
				if err := meters.Delete([]byte(r.Masked.MeterID)); err != nil {
					return err
				}
			}
		}
		if err := meters.Put([]byte(c.MeterID), []byte(c.ID)); err != nil {
			return err
		}
		return recs.Put([]byte(c.ID), val)
	})
}

// Contact returns a customer's e-mail address for sending notifications.
// It needs the contact key; callers must not display or log the result.
func (s *Store) Contact(id string) (string, error) {
	if s.ck == nil {
		return "", errors.New("customer: no contact key configured; fix: set Options.ContactKey to send e-mail")
	}
	r, err := s.get(id)
	if err != nil {
		return "", err
	}
	if r.Contact == nil || len(r.Contact.Nonce) != s.ck.NonceSize() {
		return "", fmt.Errorf("customer: %q has no sealed contact; fix: re-save the customer with the contact key set", id)
	}
	email, err := s.ck.Open(nil, r.Contact.Nonce, r.Contact.Ciphertext, []byte("contact "+id))
	if err != nil {
		return "", fmt.Errorf("customer: contact of %q does not decrypt (wrong contact key?): %w", id, err)
	}
	return string(email), nil
}

// Get returns the masked view of one customer.
func (s *Store) Get(id string) (Masked, error) {
	r, err := s.get(id)
	return r.Masked, err
}

// ByMeter returns the masked view of the customer billed for a meter.
func (s *Store) ByMeter(meterID string) (Masked, error) {
	var id []byte
	_ = s.db.View(func(tx *bolt.Tx) error {
		id = append(id, tx.Bucket(bucketMeters).Get([]byte(meterID))...)
		return nil
	})
	if id == nil {
		return Masked{}, fmt.Errorf("%w: no customer for meter %q; fix: register the customer with meter_id %s", ErrNotFound, meterID, meterID)
	}
	return s.Get(string(id))
}

// List returns every customer's masked view, ordered by ID.
func (s *Store) List() ([]Masked, error) {
	var out []Masked
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketCustomers).ForEach(func(_, v []byte) error {
			var r record
			if err := json.Unmarshal(v, &r); err != nil {
				return fmt.Errorf("customer: corrupt record: %w", err)
			}
			out = append(out, r.Masked)
			return nil
		})
	})
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, err
}

func (s *Store) get(id string) (record, error) {
	var r record
	err := s.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketCustomers).Get([]byte(id))
		if v == nil {
			return fmt.Errorf("%w: customer %q", ErrNotFound, id)
		}
		return json.Unmarshal(v, &r)
	})
	return r, err
}

// seal encrypts pii for the reveal key: a fresh X25519 agreement gives the
// record's data key, AES-256-GCM with a random nonce, the ID as AAD.
func (s *Store) seal(id string, pii []byte) (sealed, error) {
	eph, err := ecdh.X25519().GenerateKey(s.rnd)
	if err != nil {
		return sealed{}, fmt.Errorf("customer: ephemeral key: %w", err)
	}
	shared, err := eph.ECDH(s.pub)
	if err != nil {
		return sealed{}, fmt.Errorf("customer: key agreement: %w", err)
	}
	aead, err := recordAEAD(shared, eph.PublicKey().Bytes(), s.pub.Bytes(), id)
	if err != nil {
		return sealed{}, err
	}
	nonce := make([]byte, aead.NonceSize())
	if _, err := io.ReadFull(s.rnd, nonce); err != nil {
		return sealed{}, fmt.Errorf("customer: nonce: %w", err)
	}
	return sealed{Ephemeral: eph.PublicKey().Bytes(), Nonce: nonce, Ciphertext: aead.Seal(nil, nonce, pii, []byte(id))}, nil
}

// open decrypts a record's PII with the reveal private key.
func open(priv *ecdh.PrivateKey, id string, sl sealed) (PII, error) {
	ephPub, err := ecdh.X25519().NewPublicKey(sl.Ephemeral)
	if err != nil {
		return PII{}, fmt.Errorf("customer: record %q: %w", id, err)
	}
	shared, err := priv.ECDH(ephPub)
	if err != nil {
		return PII{}, fmt.Errorf("customer: record %q: %w", id, err)
	}
	aead, err := recordAEAD(shared, sl.Ephemeral, priv.PublicKey().Bytes(), id)
	if err != nil {
		return PII{}, err
	}
	if len(sl.Nonce) != aead.NonceSize() {
		return PII{}, fmt.Errorf("customer: record %q: bad nonce length %d", id, len(sl.Nonce))
	}
	plain, err := aead.Open(nil, sl.Nonce, sl.Ciphertext, []byte(id))
	if err != nil {
		return PII{}, fmt.Errorf("customer: record %q does not decrypt (tampered, or sealed under another key): %w", id, err)
	}
	var p PII
	return p, json.Unmarshal(plain, &p)
}

func recordAEAD(shared, ephPub, pub []byte, id string) (cipher.AEAD, error) {
	salt := append(append([]byte{}, ephPub...), pub...)
	key, err := hkdf.Key(sha256.New, shared, salt, "ppnet billing customer pii v1 "+id, 32)
	if err != nil {
		return nil, fmt.Errorf("customer: hkdf: %w", err)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}
