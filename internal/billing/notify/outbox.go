// Package notify delivers billing notifications — SMS through an HTTP
// gateway, e-mail over SMTP — from a persistent outbox in bbolt.
//
// # Delivery guarantee
//
// A message is enqueued under an idempotency key (e.g. the bill ID and
// channel); enqueuing the same key again does nothing. Before each attempt
// the outbox records the attempt in a committed transaction; after a
// successful send it records "sent" and never picks the message again, even
// across restarts. The one window no local store can close — a crash after
// the provider accepted the message but before "sent" was committed — is
// covered by idempotency at the provider: every attempt of a message
// carries the same key (the SMS gateway's reference, the e-mail's
// Message-ID), so a retry after such a crash is recognisable as a
// duplicate. Failed attempts are retried with exponential backoff
// (Backoff·2^(n−1), capped at MaxBackoff) up to MaxAttempts; a permanent
// error (the provider rejected the request) stops retries at once.
package notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	bolt "go.etcd.io/bbolt"
)

var bucketOutbox = []byte("notify/outbox")

// Channels.
const (
	ChannelSMS   = "sms"
	ChannelEmail = "email"
)

// States of an outbox entry.
const (
	StatePending = "pending"
	StateSent    = "sent"
	StateFailed  = "failed"
)

// Attachment is a file sent with an e-mail.
type Attachment struct {
	Name        string `json:"name"`
	ContentType string `json:"content_type"`
	Data        []byte `json:"data"`
}

// Message is one notification.
type Message struct {
	Key         string       `json:"key"` // idempotency key, unique per notification
	Channel     string       `json:"channel"`
	To          string       `json:"to"`                // phone (+91…) or e-mail address
	Subject     string       `json:"subject,omitempty"` // e-mail only
	Body        string       `json:"body"`
	Vars        []string     `json:"vars,omitempty"` // SMS template variables, in order (DLT)
	Attachments []Attachment `json:"attachments,omitempty"`
}

// Entry is a message with its delivery state.
type Entry struct {
	Message
	State       string    `json:"state"`
	Attempts    int       `json:"attempts"`
	NextAttempt time.Time `json:"next_attempt"`
	LastError   string    `json:"last_error,omitempty"`
	SentAt      time.Time `json:"sent_at,omitzero"`
}

// Sender delivers one message. It returns a *PermanentError when retrying
// cannot help.
type Sender interface {
	Send(ctx context.Context, m Message) error
}

// PermanentError is a failure that retries cannot fix (a rejected request).
type PermanentError struct{ Err error }

func (e *PermanentError) Error() string { return e.Err.Error() }
func (e *PermanentError) Unwrap() error { return e.Err }

// Options configures an Outbox; nil means defaults.
type Options struct {
	Now         func() time.Time // default time.Now
	Backoff     time.Duration    // first retry delay; default 30s
	MaxBackoff  time.Duration    // default 1h
	MaxAttempts int              // default 8
	Log         *slog.Logger     // default: discard
	// Resolve, when set, turns a stored message into the one to send just
	// before each attempt — e.g. replacing a recipient reference with an
	// address kept encrypted elsewhere, so the outbox never stores it.
	Resolve func(Message) (Message, error)
}

// Outbox is the persistent notification queue.
type Outbox struct {
	db      *bolt.DB
	senders map[string]Sender
	o       Options
}

// Open prepares the outbox in db (bucket "notify/outbox") with a sender per
// channel.
func Open(db *bolt.DB, senders map[string]Sender, opts *Options) (*Outbox, error) {
	o := Options{}
	if opts != nil {
		o = *opts
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Backoff <= 0 {
		o.Backoff = 30 * time.Second
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = time.Hour
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 8
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	err := db.Update(func(tx *bolt.Tx) error {
		_, err := tx.CreateBucketIfNotExists(bucketOutbox)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("notify: open outbox: %w", err)
	}
	return &Outbox{db: db, senders: senders, o: o}, nil
}

// Enqueue adds a message unless one with the same key exists; it reports
// whether the message was new.
func (ob *Outbox) Enqueue(m Message) (bool, error) {
	if m.Key == "" || m.To == "" {
		return false, errors.New("notify: message needs a key and a recipient")
	}
	if _, ok := ob.senders[m.Channel]; !ok {
		return false, fmt.Errorf("notify: no sender for channel %q; fix: configure the %s adapter", m.Channel, m.Channel)
	}
	val, err := json.Marshal(Entry{Message: m, State: StatePending, NextAttempt: ob.o.Now().UTC()})
	if err != nil {
		return false, err
	}
	added := false
	err = ob.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketOutbox)
		if b.Get([]byte(m.Key)) != nil {
			return nil
		}
		added = true
		return b.Put([]byte(m.Key), val)
	})
	return added, err
}

// Get returns the entry for a key.
func (ob *Outbox) Get(key string) (Entry, error) {
	var e Entry
	err := ob.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketOutbox).Get([]byte(key))
		if v == nil {
			return fmt.Errorf("notify: no message %q", key)
		}
		return json.Unmarshal(v, &e)
	})
	return e, err
}

// List returns every entry, ordered by key.
func (ob *Outbox) List() ([]Entry, error) {
	var out []Entry
	err := ob.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketOutbox).ForEach(func(_, v []byte) error {
			var e Entry
			if err := json.Unmarshal(v, &e); err != nil {
				return fmt.Errorf("notify: corrupt entry: %w", err)
			}
			out = append(out, e)
			return nil
		})
	})
	return out, err
}

// RunOnce attempts every pending message that is due and returns how many
// were sent. Call it from a loop or a ticker; it is safe to call again
// after a crash.
func (ob *Outbox) RunOnce(ctx context.Context) (int, error) {
	due, err := ob.due()
	if err != nil {
		return 0, err
	}
	sent := 0
	for _, key := range due {
		if ctx.Err() != nil {
			return sent, ctx.Err()
		}
		ok, err := ob.attempt(ctx, key)
		if err != nil {
			return sent, err
		}
		if ok {
			sent++
		}
	}
	return sent, nil
}

// Run calls RunOnce every interval until ctx ends, logging failures; it
// returns ctx's error.
func (ob *Outbox) Run(ctx context.Context, every time.Duration) error {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if _, err := ob.RunOnce(ctx); err != nil && ctx.Err() == nil {
			ob.o.Log.Error("outbox run failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}

func (ob *Outbox) due() ([]string, error) {
	now := ob.o.Now()
	var keys []string
	err := ob.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketOutbox).ForEach(func(k, v []byte) error {
			var e Entry
			if err := json.Unmarshal(v, &e); err != nil {
				return fmt.Errorf("notify: corrupt entry %q: %w", k, err)
			}
			if e.State == StatePending && !e.NextAttempt.After(now) {
				keys = append(keys, string(k))
			}
			return nil
		})
	})
	return keys, err
}

// attempt claims one message (committing the attempt), sends it, and
// records the outcome.
func (ob *Outbox) attempt(ctx context.Context, key string) (bool, error) {
	var e Entry
	claimed := false
	err := ob.update(key, func(cur *Entry) {
		if cur.State != StatePending || cur.NextAttempt.After(ob.o.Now()) {
			return
		}
		cur.Attempts++
		// Until the outcome is recorded, a crash leaves the message due
		// after one backoff, to be retried under the same key.
		cur.NextAttempt = ob.o.Now().Add(ob.backoff(cur.Attempts)).UTC()
		e, claimed = *cur, true
	})
	if err != nil || !claimed {
		return false, err
	}
	out, sendErr := e.Message, error(nil)
	if ob.o.Resolve != nil {
		out, sendErr = ob.o.Resolve(e.Message)
	}
	if sendErr == nil {
		sendErr = ob.senders[e.Channel].Send(ctx, out)
	}
	var perm *PermanentError
	err = ob.update(key, func(cur *Entry) {
		switch {
		case sendErr == nil:
			cur.State, cur.SentAt, cur.LastError = StateSent, ob.o.Now().UTC(), ""
		case errors.As(sendErr, &perm) || cur.Attempts >= ob.o.MaxAttempts:
			cur.State, cur.LastError = StateFailed, sendErr.Error()
		default:
			cur.LastError = sendErr.Error()
		}
	})
	if sendErr != nil {
		ob.o.Log.Warn("notification not delivered", "key", key, "channel", e.Channel, "attempt", e.Attempts, "err", sendErr)
	} else {
		ob.o.Log.Info("notification sent", "key", key, "channel", e.Channel, "attempt", e.Attempts)
	}
	return sendErr == nil && err == nil, err
}

func (ob *Outbox) backoff(attempt int) time.Duration {
	d := ob.o.Backoff
	for i := 1; i < attempt && d < ob.o.MaxBackoff; i++ {
		d *= 2
	}
	return min(d, ob.o.MaxBackoff)
}

func (ob *Outbox) update(key string, f func(*Entry)) error {
	return ob.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketOutbox)
		var e Entry
		if err := json.Unmarshal(b.Get([]byte(key)), &e); err != nil {
			return fmt.Errorf("notify: entry %q: %w", key, err)
		}
		f(&e)
		v, err := json.Marshal(e)
		if err != nil {
			return err
		}
		return b.Put([]byte(key), v)
	})
}
