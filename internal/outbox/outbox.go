// Package outbox publishes messages stored in a bbolt bucket to JetStream
// until the stream acknowledges each one, then deletes it.
//
// A role writes what it will send into the bucket in the same transaction
// as the state change that produced it (a producer's round, a PPN's
// emitted window); the Sender then publishes it, with a Nats-Msg-Id derived
// from the key so the stream drops a resend after a crash between publish
// and delete. Messages are never rebuilt, so sealed payloads are never
// re-encrypted under a used nonce.
package outbox

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	bolt "go.etcd.io/bbolt"
)

// Sender publishes a bucket's entries in key order.
type Sender struct {
	DB     *bolt.DB
	Bucket []byte
	JS     jetstream.JetStream
	// Route gives the subject and message id of an entry.
	Route func(key, val []byte) (subject, msgID string)
	Log   *slog.Logger
	// Acked and Failed, if set, are told how many entries were acknowledged
	// or failed (and will be retried) in each pass.
	Acked, Failed func(n int)
	// Empty, if set, is called whenever the bucket is found empty.
	Empty func()
	// Timeout bounds the wait for one pass's acknowledgements (default 3s):
	// past it, unacknowledged entries are re-sent (the stream drops
	// duplicates by message id), which is what recovers from acks lost in a
	// cluster leader change.
	Timeout time.Duration
}

type entry struct{ key, val []byte }

// Run publishes until ctx ends, waking on poke when the bucket is empty and
// backing off (50 ms doubling to 2 s) after failures; a poke during the
// backoff (new work, a reconnect) retries at once. It returns an error only
// if the database fails.
func (s *Sender) Run(ctx context.Context, poke <-chan struct{}) error {
	if s.Timeout == 0 {
		s.Timeout = 3 * time.Second
	}
	backoff := 50 * time.Millisecond
	for {
		var out []entry
		err := s.DB.View(func(tx *bolt.Tx) error {
			return tx.Bucket(s.Bucket).ForEach(func(k, v []byte) error {
				out = append(out, entry{append([]byte(nil), k...), append([]byte(nil), v...)})
				return nil
			})
		})
		if err != nil {
			return fmt.Errorf("outbox: read %s: %v", s.Bucket, err)
		}
		if len(out) == 0 {
			if s.Empty != nil {
				s.Empty()
			}
			select {
			case <-ctx.Done():
				return nil
			case <-poke:
			}
			continue
		}
		acked := s.publish(ctx, out)
		if len(acked) > 0 {
			err := s.DB.Update(func(tx *bolt.Tx) error {
				for _, k := range acked {
					if err := tx.Bucket(s.Bucket).Delete(k); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				return fmt.Errorf("outbox: delete from %s: %v", s.Bucket, err)
			}
			if s.Acked != nil {
				s.Acked(len(acked))
			}
		}
		if len(acked) == len(out) {
			backoff = 50 * time.Millisecond
			continue
		}
		if s.Failed != nil {
			s.Failed(len(out) - len(acked))
		}
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
			backoff = min(2*backoff, 2*time.Second)
		case <-poke: // new work or a reconnect: retry now
			t.Stop()
		}
	}
}

// publish sends out asynchronously and returns the keys acknowledged.
func (s *Sender) publish(ctx context.Context, out []entry) [][]byte {
	futs := make([]jetstream.PubAckFuture, len(out))
	for i, e := range out {
		subj, id := s.Route(e.key, e.val)
		m := nats.NewMsg(subj)
		m.Data = e.val
		f, err := s.JS.PublishMsgAsync(m, jetstream.WithMsgID(id))
		if err != nil {
			s.Log.Debug("publish failed; will retry", "msg_id", id, "err", err)
			continue
		}
		futs[i] = f
	}
	var acked [][]byte
	timeout := time.NewTimer(s.Timeout)
	defer timeout.Stop()
	for i, f := range futs {
		if f == nil {
			continue
		}
		select {
		case <-f.Ok():
			acked = append(acked, out[i].key)
		case err := <-f.Err():
			s.Log.Debug("publish not acknowledged; will retry", "err", err)
		case <-timeout.C:
			return acked
		case <-ctx.Done():
			return acked
		}
	}
	return acked
}
