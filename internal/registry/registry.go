package registry

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
)

// Errors callers match with errors.Is.
var (
	// ErrExists is returned when an id (or x-coordinate) is already taken.
	ErrExists = errors.New("registry: already enrolled")
	// ErrNotFound is returned for an unknown id or epoch.
	ErrNotFound = errors.New("registry: not found")
	// ErrInvalid wraps bad input: ids, keys, numbers, flags.
	ErrInvalid = errors.New("registry: invalid input")
	// ErrRefused is returned when the policy check refuses a rule set; the
	// report comes with it in a *RefusedError.
	ErrRefused = errors.New("registry: refused by the policy check")
)

var (
	bucketProducers = []byte("producers")
	bucketPPNs      = []byte("ppns")
	bucketConsumers = []byte("consumers")
	bucketRules     = []byte("rules")
	bucketEpochs    = []byte("epochs")
	allBuckets      = [][]byte{bucketProducers, bucketPPNs, bucketConsumers, bucketRules, bucketEpochs}
)

// idPattern is the id syntax of netconfig, so that every enrolled id
// renders into a valid network file.
var idPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// Options tunes Open; nil means defaults.
type Options struct {
	// Now is the clock for enrolment and publication times (default
	// time.Now).
	Now func() time.Time
	// LockTimeout is how long Open waits for another process holding the
	// file (default 1 s).
	LockTimeout time.Duration
}

// Registry is an open registry file. Its methods are safe for concurrent
// use (bbolt serialises writers).
type Registry struct {
	db   *bolt.DB
	path string
	now  func() time.Time
}

// Open opens or creates the registry file at path.
func Open(path string, opts *Options) (*Registry, error) {
	o := Options{Now: time.Now, LockTimeout: time.Second}
	if opts != nil {
		if opts.Now != nil {
			o.Now = opts.Now
		}
		if opts.LockTimeout > 0 {
			o.LockTimeout = opts.LockTimeout
		}
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: o.LockTimeout})
	if errors.Is(err, bolterrors.ErrTimeout) {
		return nil, fmt.Errorf("registry: %s is held by another process (a running configurator?); wait for it or use another --db", path)
	}
	if err != nil {
		return nil, fmt.Errorf("registry: open %s: %v; give a writable path with --db", path, err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range allBuckets {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("registry: %s: %v; is it a registry file?", path, err)
	}
	return &Registry{db: db, path: path, now: o.Now}, nil
}

// Close closes the file.
func (r *Registry) Close() error { return r.db.Close() }

// Path returns the file's path.
func (r *Registry) Path() string { return r.path }

func checkID(kind, id string) error {
	if !idPattern.MatchString(id) {
		return fmt.Errorf("%w: %s id %q; ids are 1–64 characters of A–Z a–z 0–9 _ -", ErrInvalid, kind, id)
	}
	return nil
}

// put stores v under key unless the key exists (when create is set).
func put(tx *bolt.Tx, bucket []byte, kind, key string, v any, create bool) error {
	b := tx.Bucket(bucket)
	if create && b.Get([]byte(key)) != nil {
		return fmt.Errorf("%w: %s %q exists; pick another id", ErrExists, kind, key)
	}
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("registry: encoding %s %q: %v", kind, key, err)
	}
	return b.Put([]byte(key), data)
}

// get loads key into v.
func get(tx *bolt.Tx, bucket []byte, kind, key string, v any) error {
	data := tx.Bucket(bucket).Get([]byte(key))
	if data == nil {
		return fmt.Errorf("%w: no %s %q; list them with the list command", ErrNotFound, kind, key)
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("registry: %s %q is corrupt: %v; restore the registry from a backup", kind, key, err)
	}
	return nil
}

// list decodes every value of a bucket in key order.
func list[T any](tx *bolt.Tx, bucket []byte, kind string) ([]T, error) {
	var out []T
	err := tx.Bucket(bucket).ForEach(func(k, data []byte) error {
		var v T
		if err := json.Unmarshal(data, &v); err != nil {
			return fmt.Errorf("registry: %s %q is corrupt: %v; restore the registry from a backup", kind, k, err)
		}
		out = append(out, v)
		return nil
	})
	return out, err
}

// view runs fn in a read transaction.
func (r *Registry) view(fn func(tx *bolt.Tx) error) error { return r.db.View(fn) }

// update runs fn in a write transaction.
func (r *Registry) update(fn func(tx *bolt.Tx) error) error { return r.db.Update(fn) }
