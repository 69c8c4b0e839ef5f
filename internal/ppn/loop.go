package ppn

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/ppnet/ppnet/internal/outbox"
)

// consume applies the bundle stream in order, committing in batches.
func (p *PPN) consume(ctx context.Context, it jetstream.MessagesContext) {
	msgs := make(chan jetstream.Msg, 1024)
	go func() {
		defer close(msgs)
		for {
			m, err := it.Next()
			if err != nil {
				if errors.Is(err, jetstream.ErrMsgIteratorClosed) {
					return
				}
				p.log.Warn("stream read", "err", err)
				continue
			}
			msgs <- m
		}
	}()
	defer func() {
		it.Stop()
		for range msgs { // let the reader goroutine finish
		}
		if p.st.uncommit > 0 && !p.cfg.Crash {
			if err := p.commit(); err != nil {
				p.log.Error("final commit", "err", err)
			}
		}
	}()
	for {
		var m jetstream.Msg
		select {
		case <-ctx.Done():
			return
		case m = <-msgs:
		}
		if m == nil {
			return
		}
		sealed := p.handle(m)
		// Commit at a seal (aggregates must be durable before they are
		// sent), every CommitEvery messages, or when the stream is idle.
		idle := len(msgs) == 0 && !p.cfg.Crash
		if sealed || p.st.uncommit >= p.cfg.CommitEvery || idle {
			if err := p.commit(); err != nil {
				p.setErr(err)
				p.log.Error("state commit failed; stopping", "err", err)
				return
			}
		}
	}
}

// handle applies one message and reports whether it sealed rounds.
func (p *PPN) handle(m jetstream.Msg) bool {
	meta, err := m.Metadata()
	if err != nil {
		p.log.Warn("message without stream metadata", "err", err)
		return false
	}
	return p.ingest(m.Data(), meta.Sequence.Stream, m.Subject(), meta.Timestamp)
}

// ingest applies the message at seq, stored at the server's time stored,
// unless it was applied already, counts and logs a rejection, and reports
// whether it sealed rounds.
func (p *PPN) ingest(data []byte, seq uint64, subject string, stored time.Time) bool {
	if seq <= p.st.seq {
		return false // already applied before a restart or consumer reset
	}
	if p.st.seq > 0 && seq > p.st.seq+1 {
		p.streamGap(p.st.seq+1, seq-1, stored)
	}
	before := p.st.sealed
	if err := p.apply(data, seq, subject); err != nil {
		var re *rejectError
		reason := "other"
		if errors.As(err, &re) {
			reason = re.reason
		}
		p.m.rejected.WithLabelValues(reason).Inc()
		level := slog.LevelWarn
		if reason == "epoch" {
			// Every epoch shares the stream: while an epoch supervisor
			// runs two epochs side by side, each sees the other's messages.
			level = slog.LevelDebug
		}
		p.log.Log(context.Background(), level, "message rejected", "seq", seq, "subject", subject, "reason", reason, "err", err)
	}
	p.m.seq.Set(float64(seq))
	p.applied.Store(seq)
	return p.st.sealed != before
}

func (p *PPN) commit() error {
	emitted := len(p.st.outbox) > 0
	if err := p.st.commit(p.db); err != nil {
		return err
	}
	p.m.commits.Inc()
	p.committed.Store(p.st.seq)
	if emitted {
		poke(p.outboxPoke)
	}
	poke(p.sealedPoke)
	return nil
}

func poke(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// sealer appends a seal marker once the deadline of the first unsealed
// round has passed, for the last round whose deadline has passed.
func (p *PPN) sealer(ctx context.Context) {
	n := p.net
	grace := n.Config.Rounds.Grace
	wasDown := false
	for {
		next := p.sealedNext.Load()
		if !n.InEpoch(next) {
			return
		}
		due := n.Deadline(next)
		if hold := time.Unix(0, p.holdSeals.Load()); hold.After(due) {
			due = hold
		}
		if d := due.Sub(p.now()); d > 0 {
			if !p.wait(ctx, d) {
				return
			}
			continue // re-read: another PPN's seal may have moved it
		}
		if !p.nats.Conn.IsConnected() {
			// A seal buffered now would be flushed at reconnect ahead of
			// the producers' buffered bundles; wait for the connection.
			wasDown = true
			if !p.wait(ctx, grace) {
				return
			}
			continue
		}
		if wasDown { // back: hold seals as after any reconnect
			wasDown = false
			p.holdAfterReconnect()
			continue
		}
		target := uint64(n.RoundAt(p.now().Add(-grace)) - 1) // last round with deadline ≤ now
		if c := n.Config.Rounds.Count; c > 0 && target >= c {
			target = c - 1
		}
		msg, id, err := SealMarker(n, p.ring, p.me, target)
		if err != nil {
			p.setErr(err)
			p.log.Error("cannot make seal markers; sealing stopped", "err", err)
			return
		}
		pctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		_, err = p.js.Publish(pctx, n.SealSubject(), msg, jetstream.WithMsgID(id))
		cancel()
		switch {
		case sealRace(err):
			// This PPN's own earlier attempt at the same seal (same
			// message id) is being stored right now, as wanted.
			p.log.Debug("seal raced with another PPN's", "round", target)
		case err != nil:
			p.log.Warn("seal not appended; retrying", "round", target, "err", err)
		default:
			p.m.sealsPublished.Inc()
		}
		// Wait until the stream reader has applied a seal past target.
		deadline := time.Now().Add(2 * time.Second)
		for p.sealedNext.Load() <= target && time.Now().Before(deadline) {
			if !p.wait(ctx, time.Until(deadline)) {
				return
			}
		}
	}
}

// reconnectSlack covers clients reconnecting at different times: the
// client retries every 100 ms with up to 100 ms of jitter.
const reconnectSlack = 250 * time.Millisecond

// holdAfterReconnect gives producers one grace period (plus reconnect
// slack) after a reconnect to flush what they buffered during the outage,
// before this PPN closes the rounds whose deadlines passed meanwhile.
func (p *PPN) holdAfterReconnect() {
	hold := p.now().Add(p.net.Config.Rounds.Grace + reconnectSlack).UnixNano()
	if hold > p.holdSeals.Load() {
		p.holdSeals.Store(hold)
	}
	poke(p.sealedPoke)
}

// wait blocks for d, a commit (which may have moved the seal point), or the
// end of ctx; it reports false when ctx has ended.
func (p *PPN) wait(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
	case <-p.sealedPoke:
	}
	return true
}

// send publishes emitted aggregates from the outbox.
func (p *PPN) send(ctx context.Context) {
	var once sync.Once
	s := &outbox.Sender{
		DB: p.db, Bucket: bucketOutbox, JS: p.js, Log: p.log,
		Route: func(key, _ []byte) (string, string) {
			rule, start := int(binary.BigEndian.Uint16(key)), binary.BigEndian.Uint64(key[2:])
			r := &p.net.Rules[rule]
			return p.net.AggregateSubject(r.Consumer), fmt.Sprintf("a.%d.%d.%d.%d", p.net.Config.Epoch, rule, start, p.me)
		},
		Acked:  func(n int) { p.m.published.Add(float64(n)) },
		Failed: func(n int) { p.m.pubFailures.Add(float64(n)) },
		Empty: func() {
			if c := p.net.Config.Rounds.Count; c > 0 && p.sealedNext.Load() >= c {
				once.Do(func() { close(p.done) })
			}
		},
	}
	if err := s.Run(ctx, p.outboxPoke); err != nil {
		p.setErr(fmt.Errorf("ppn: %w", err))
		p.log.Error("aggregate sender stopped", "err", err)
	}
}

// errCodeDuplicateInProcess is nats-server's JetStream error code for a
// publish whose message id is already being stored ("duplicate message id
// is in process", HTTP-style 409): several PPNs sealing the same round at
// once get it, and it is not a failure.
const errCodeDuplicateInProcess jetstream.ErrorCode = 10158

// sealRace reports whether err is that benign duplicate-in-process answer.
func sealRace(err error) bool {
	var apiErr *jetstream.APIError
	return errors.As(err, &apiErr) && apiErr.ErrorCode == errCodeDuplicateInProcess
}
