package producer

import (
	"context"
	"encoding/binary"
	"fmt"
	"strconv"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/ppnet/ppnet/internal/outbox"
)

// rounds produces every round once it has ended, in order, resuming after
// the last round stored.
func (p *Producer) rounds(ctx context.Context) {
	next, err := p.firstRound()
	if err != nil {
		p.setErr(err)
		return
	}
	count := p.net.Config.Rounds.Count
	for count == 0 || next < count {
		if d := p.net.RoundStart(next + 1).Sub(p.now()); d > 0 {
			p.prefetch(next)
			t := time.NewTimer(d)
			select {
			case <-ctx.Done():
				t.Stop()
				return
			case <-t.C:
			}
		}
		t0 := time.Now()
		if err := p.produce(next); err != nil {
			p.setErr(err)
			p.log.Error("round not produced; stopping", "round", next, "err", err)
			return
		}
		p.log.Debug("round stored", "round", next, "took", time.Since(t0), "late_by", p.now().Sub(p.net.RoundStart(next+1)))
		next++
		select {
		case p.poke <- struct{}{}:
		default:
		}
	}
	p.finishedRounds.Store(true)
	select {
	case p.poke <- struct{}{}:
	default:
	}
}

// prefetch reads a round ahead of time, so a source that generates
// readings in bulk (a day of the household model) is warm when the round
// is due. The reading that counts is taken again at the due time.
func (p *Producer) prefetch(round uint64) {
	all := p.net.ProducerMeters[p.idx]
	ids := make([]uint64, len(all))
	for i, m := range all {
		ids[i] = uint64(m)
	}
	_ = p.cfg.Source.Read(p.net.Config.Rounds.First+round, ids, make([]int64, len(all))) // errors surface at the due time
}

func (p *Producer) setErr(err error) {
	p.mu.Lock()
	p.err = err
	p.mu.Unlock()
}

func (p *Producer) firstRound() (uint64, error) {
	var next uint64
	found := false
	err := p.db.View(func(tx *bolt.Tx) error {
		if v := tx.Bucket(bucketMeta).Get(keyNext); len(v) == 8 {
			next, found = binary.BigEndian.Uint64(v), true
		}
		return nil
	})
	if err != nil || found {
		return next, err
	}
	if p.cfg.From >= 0 {
		return uint64(p.cfg.From), nil
	}
	return uint64(max(0, p.net.RoundAt(p.now()))), nil
}

// produce reads, splits, seals and stores one round in one transaction.
func (p *Producer) produce(round uint64) error {
	all := p.net.ProducerMeters[p.idx]
	ids := make([]uint64, len(all))
	for i, m := range all {
		ids[i] = uint64(m)
	}
	wh := make([]int64, len(all))
	if err := p.cfg.Source.Read(p.net.Config.Rounds.First+round, ids, wh); err != nil {
		return err
	}
	lim := int64(p.net.Config.MaxReading)
	var send []uint32
	var sendWh []int64
	for i, m := range all {
		if wh[i] == NoReading {
			continue
		}
		if wh[i] > lim || wh[i] < -lim {
			p.m.rejected.Inc()
			p.log.Warn("reading outside ±max_reading left out", "meter", p.net.Meters[m], "round", round, "wh", wh[i])
			continue
		}
		if p.net.MeterPPNs[m] != 0 {
			send = append(send, m)
			sendWh = append(sendWh, wh[i])
		}
	}
	bundles, sealed, err := p.build.build(round, send, sendWh)
	if err != nil {
		return err
	}
	err = p.db.Update(func(tx *bolt.Tx) error {
		rb := tx.Bucket(bucketReadings)
		for i, m := range all {
			if wh[i] == NoReading {
				continue
			}
			if err := rb.Put(readingKey(m, round), encodeReading(wh[i], MaskNone)); err != nil {
				return err
			}
		}
		ob := tx.Bucket(bucketOutbox)
		for c, b := range bundles {
			if err := ob.Put(outKey(round, uint16(c)), b); err != nil {
				return err
			}
		}
		return tx.Bucket(bucketMeta).Put(keyNext, binary.BigEndian.AppendUint64(nil, round+1))
	})
	if err != nil {
		return fmt.Errorf("producer: store round %d: %v", round, err)
	}
	if p.cfg.Readings != nil {
		buf := make([]byte, 0, 32*len(all))
		for i, m := range all {
			if wh[i] == NoReading {
				continue
			}
			buf = append(buf, p.net.Meters[m]...)
			buf = append(buf, ',')
			buf = strconv.AppendUint(buf, p.net.Config.Rounds.First+round, 10)
			buf = append(buf, ',')
			buf = strconv.AppendInt(buf, wh[i], 10)
			buf = append(buf, '\n')
		}
		if _, err := p.cfg.Readings.Write(buf); err != nil {
			return fmt.Errorf("producer: write readings: %v", err)
		}
	}
	p.m.rounds.Inc()
	p.m.sealed.Add(float64(sealed))
	p.m.outbox.Add(float64(len(bundles)))
	return nil
}

// sender publishes the outbox until every bundle is acknowledged.
func (p *Producer) sender(ctx context.Context) {
	var doneOnce sync.Once
	s := &outbox.Sender{
		DB: p.db, Bucket: bucketOutbox, JS: p.js, Log: p.log,
		Route: func(key, _ []byte) (string, string) {
			round, chunk := binary.BigEndian.Uint64(key), binary.BigEndian.Uint16(key[8:])
			return p.net.BundleSubject(p.idx), fmt.Sprintf("b.%d.%d.%d.%d", p.net.Config.Epoch, p.idx, round, chunk)
		},
		Acked: func(n int) {
			p.m.published.Add(float64(n))
			p.m.outbox.Sub(float64(n))
		},
		Failed: func(n int) { p.m.failures.Add(float64(n)) },
		Empty: func() {
			if p.finishedRounds.Load() {
				doneOnce.Do(func() { close(p.done) })
			}
		},
	}
	if err := s.Run(ctx, p.poke); err != nil {
		p.setErr(fmt.Errorf("producer: %w", err))
		p.log.Error("sender stopped", "err", err)
	}
}
