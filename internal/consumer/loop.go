package consumer

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	bolt "go.etcd.io/bbolt"

	"github.com/ppnet/ppnet/internal/netconfig"
	"github.com/ppnet/ppnet/internal/seal"
	"github.com/ppnet/ppnet/internal/wire"
	"github.com/ppnet/ppnet/sharing"
)

func (c *Consumer) consume(ctx context.Context, it jetstream.MessagesContext) {
	msgs := make(chan jetstream.Msg, 256)
	go func() {
		defer close(msgs)
		for {
			m, err := it.Next()
			if err != nil {
				if errors.Is(err, jetstream.ErrMsgIteratorClosed) {
					return
				}
				c.log.Warn("stream read", "err", err)
				continue
			}
			msgs <- m
		}
	}()
	defer func() {
		it.Stop()
		for range msgs {
		}
	}()
	tick := time.NewTicker(max(c.cfg.Settle/4, 10*time.Millisecond))
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case m := <-msgs:
			if m == nil {
				return
			}
			// Take what else has arrived, up to a batch: the batch
			// commits in one transaction and each window recombines once.
			batch := []jetstream.Msg{m}
		more:
			for len(batch) < maxBatch {
				select {
				case m, ok := <-msgs:
					if !ok {
						break more
					}
					batch = append(batch, m)
				default:
					break more
				}
			}
			if err := c.handle(batch); err != nil {
				c.setErr(err)
				c.log.Error("store failed; stopping", "err", err)
				return
			}
		case <-tick.C:
		}
		if err := c.settle(); err != nil {
			c.setErr(err)
			c.log.Error("store failed; stopping", "err", err)
			return
		}
	}
}

// maxBatch bounds the aggregated shares committed in one transaction.
const maxBatch = 256

// inMsg is one message of the aggregates stream.
type inMsg struct {
	data []byte
	seq  uint64
}

// handle verifies and stores a batch of aggregated shares, then recombines
// their windows. Only a database failure is returned; bad messages are
// counted.
func (c *Consumer) handle(ms []jetstream.Msg) error {
	in := make([]inMsg, 0, len(ms))
	for _, m := range ms {
		meta, err := m.Metadata()
		if err != nil {
			c.log.Warn("message without stream metadata", "err", err)
			continue
		}
		in = append(in, inMsg{m.Data(), meta.Sequence.Stream})
	}
	return c.ingestBatch(in)
}

// ingest verifies and stores the aggregate at stream sequence seq unless it
// was applied already.
func (c *Consumer) ingest(data []byte, seq uint64) error {
	return c.ingestBatch([]inMsg{{data, seq}})
}

// ingestBatch verifies the aggregates of in (increasing stream sequence)
// not applied yet, commits the new shares and the stream position in one
// transaction, and recombines each window that got a new share, once.
func (c *Consumer) ingestBatch(in []inMsg) error {
	type put struct{ key, msg []byte }
	var puts []put
	last := c.seq
	for _, m := range in {
		if m.seq <= last {
			continue
		}
		last = m.seq
		a, reason, err := c.verify(m.data)
		if err != nil {
			c.m.rejected.WithLabelValues(reason).Inc()
			level := slog.LevelWarn
			if reason == "epoch" {
				// Every epoch shares the stream: while an epoch supervisor
				// runs two epochs side by side, each sees the other's aggregates.
				level = slog.LevelDebug
			}
			c.log.Log(context.Background(), level, "aggregate rejected", "seq", m.seq, "reason", reason, "err", err)
			continue
		}
		c.m.in.Inc()
		puts = append(puts, put{shareKey(a.Rule, a.Window, a.PPN), m.data})
	}
	if last == c.seq {
		return nil
	}
	var fresh []wkey
	err := c.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketShares)
		for _, p := range puts {
			if old := b.Get(p.key); old == nil {
				k := wkey{binary.BigEndian.Uint16(p.key), binary.BigEndian.Uint64(p.key[2:])}
				if !slices.Contains(fresh, k) {
					fresh = append(fresh, k)
				}
				if err := b.Put(p.key, p.msg); err != nil {
					return err
				}
			} else if !bytes.Equal(old, p.msg) {
				c.m.rejected.WithLabelValues("conflicting").Inc()
				c.log.Warn("second, different aggregate from the same PPN for a window; keeping the first", "key", fmt.Sprintf("%x", p.key))
			}
		}
		return tx.Bucket(bucketMeta).Put(keySeq, binary.BigEndian.AppendUint64(nil, last))
	})
	if err != nil {
		return fmt.Errorf("consumer: commit: %v", err)
	}
	c.seq = last
	for _, k := range fresh {
		if err := c.combine(k, false); err != nil {
			return err
		}
	}
	return nil
}

// verify decodes an aggregate and checks it is for this consumer, from a
// PPN of its rule, and opens. It returns the metric reason on failure.
func (c *Consumer) verify(data []byte) (wire.Aggregate, string, error) {
	a, err := wire.DecodeAggregate(data)
	if err != nil {
		return a, wire.Reason(err), fmt.Errorf("consumer: %w", err)
	}
	n := c.net
	switch {
	case a.Epoch != n.Config.Epoch:
		return a, "epoch", fmt.Errorf("consumer: aggregate of epoch %d, this consumer runs epoch %d", a.Epoch, n.Config.Epoch)
	case int(a.Consumer) != c.me || int(a.Rule) >= len(n.Rules) || n.Rules[a.Rule].Consumer != c.me:
		return a, "rule", fmt.Errorf("consumer: aggregate for rule %d of consumer %d is not for this consumer", a.Rule, a.Consumer)
	}
	r := &n.Rules[a.Rule]
	switch {
	case !slices.Contains(r.PPNs, int(a.PPN)):
		return a, "sender", fmt.Errorf("consumer: aggregate of rule %q from PPN %d, which the rule is not assigned to", r.ID, a.PPN)
	case a.Slots != r.Slots || a.Window%r.K != 0 || !n.InEpoch(a.Window):
		return a, "window", fmt.Errorf("consumer: aggregate of rule %q has window %d with %d slots; want a multiple of %d with %d", r.ID, a.Window, a.Slots, r.K, r.Slots)
	case len(a.Sealed) != 8*r.Values+wire.TagSize:
		return a, "length", fmt.Errorf("consumer: aggregate of rule %q carries %d bytes, want %d", r.ID, len(a.Sealed), 8*r.Values+wire.TagSize)
	}
	if _, err := c.open(&a); err != nil {
		return a, "forged", err
	}
	return a, "", nil
}

func (c *Consumer) open(a *wire.Aggregate) ([]sharing.Element, error) {
	aead, err := c.ring.AEAD(seal.PurposeAggregate, int(a.PPN))
	if err != nil {
		return nil, fmt.Errorf("consumer: %w", err)
	}
	p, err := seal.Open(aead, nil, seal.AggregateNonce(a.Epoch, a.Rule, a.Window), a.Sealed, a.Header)
	if err != nil {
		return nil, fmt.Errorf("consumer: aggregate of rule %d window %d from PPN %d does not open: forged or corrupted", a.Rule, a.Window, a.PPN)
	}
	vals := make([]sharing.Element, len(p)/8)
	if err := wire.DecodeElements(vals, p); err != nil {
		return nil, fmt.Errorf("consumer: %w", err)
	}
	return vals, nil
}

type share struct {
	agg  wire.Aggregate
	vals []sharing.Element
}

// combine recovers the window's aggregate from its stored shares and stores
// the result; final forces it final.
func (c *Consumer) combine(k wkey, final bool) error {
	var shares []share
	err := c.db.View(func(tx *bolt.Tx) error {
		cur := tx.Bucket(bucketShares).Cursor()
		prefix := windowKey(k.rule, k.window)
		for key, v := cur.Seek(prefix); key != nil && bytes.HasPrefix(key, prefix); key, v = cur.Next() {
			msg := append([]byte(nil), v...)
			a, err := wire.DecodeAggregate(msg)
			if err != nil {
				return fmt.Errorf("consumer: stored share %x: %v", key, err)
			}
			vals, err := c.open(&a)
			if err != nil {
				return err
			}
			shares = append(shares, share{a, vals})
		}
		return nil
	})
	if err != nil {
		return err
	}
	r := &c.net.Rules[k.rule]
	// Group by coverage digest; combine the largest group.
	groups := map[wire.Digest][]share{}
	var best wire.Digest
	for _, s := range shares {
		groups[s.agg.Digest] = append(groups[s.agg.Digest], s)
		if len(groups[s.agg.Digest]) > len(groups[best]) {
			best = s.agg.Digest
		}
	}
	group := groups[best]
	t := c.net.Config.Threshold
	if len(group) < t {
		return nil // not enough yet
	}
	res := c.recover(r, k, group)
	for d, g := range groups {
		if d != best {
			for _, s := range g {
				res.Mismatched = append(res.Mismatched, c.net.Config.PPNs[s.agg.PPN].ID)
			}
		}
	}
	slices.Sort(res.Mismatched)
	res.Final = final || len(shares) == len(r.PPNs)
	// Before a value missing producers is stored (and so served), the
	// policy check decides the effective sets of everything released.
	w, err := c.check(k, &res)
	if err != nil {
		return err
	}
	if w != nil {
		res.Value, res.Values, res.Withheld = nil, nil, w
	}
	return c.storeResult(k, res)
}

// recover combines shares of one coverage group.
func (c *Consumer) recover(r *netconfig.ResolvedRule, k wkey, group []share) Result {
	res := Result{Consumer: c.cfg.ID, Rule: r.ID, Kind: r.Kind, WindowStart: k.window, WindowRounds: r.K, Missing: [][2]any{}}
	if c.cfg.TagEpoch {
		res.Epoch, res.FirstRound = c.net.Config.Epoch, c.net.Config.Rounds.First
	}
	a := &group[0].agg
	res.Covered = a.Covered()
	n := uint32(len(r.Meters))
	for _, run := range a.Missing {
		for i := run.Start; i < run.Start+run.Len; i++ {
			res.Missing = append(res.Missing, [2]any{c.net.Meters[r.Meters[i%n]], r.RoundOf(k.window, uint64(i/n))})
		}
	}
	xs := make([]sharing.Element, len(group))
	ys := make([][]sharing.Element, len(group))
	for i, s := range group {
		xs[i] = c.net.X[s.agg.PPN]
		ys[i] = s.vals
		res.PPNs = append(res.PPNs, c.net.Config.PPNs[s.agg.PPN].ID)
	}
	t := c.net.Config.Threshold
	rv, err := c.comb.RobustRecoverVec(xs, ys, t)
	c.m.recoveries.Inc()
	if err != nil {
		c.m.inconsistent.Inc()
		res.Error = err.Error()
		c.log.Error("aggregate cannot be recovered", "rule", r.ID, "window", k.window, "err", err)
		return res
	}
	res.Checked = rv.Checked
	for _, x := range rv.Faulty {
		for p, px := range c.net.X {
			if px == x {
				id := c.net.Config.PPNs[p].ID
				res.Faulty = append(res.Faulty, id)
				c.m.faulty.WithLabelValues(id).Inc()
				c.log.Warn("faulty PPN detected and corrected for", "ppn", id, "rule", r.ID, "window", k.window)
			}
		}
	}
	if r.Kind == netconfig.KindSum {
		v := rv.Secret[0].Int64()
		res.Value = &v
	} else {
		res.Values = make(map[string]int64, len(r.Meters))
		for p, m := range r.Meters {
			res.Values[c.net.Meters[m]] = rv.Secret[p].Int64()
		}
	}
	return res
}

func (c *Consumer) storeResult(k wkey, res Result) error {
	key := windowKey(k.rule, k.window)
	wasFinal, wasWithheld := false, ""
	var b []byte
	err := c.db.Update(func(tx *bolt.Tx) error {
		bk := tx.Bucket(bucketResults)
		if old := bk.Get(key); old != nil {
			var o Result
			if json.Unmarshal(old, &o) == nil {
				wasFinal = o.Final
				if o.Withheld != nil {
					wasWithheld = o.Withheld.Reason
				}
			}
		}
		if err := recordRelease(tx, key, &res); err != nil {
			return err
		}
		res.Final = res.Final || wasFinal // final stays final; late shares still refine the stored result
		var err error
		if b, err = json.Marshal(res); err != nil {
			return err
		}
		return bk.Put(key, b)
	})
	if err != nil {
		return fmt.Errorf("consumer: store result: %v", err)
	}
	if w := res.Withheld; w != nil && w.Reason != wasWithheld {
		if wasWithheld == "" {
			c.gate.withheld.Inc()
		}
		c.log.Warn("result withheld by the release-time policy check", "rule", res.Rule, "window", k.window,
			"missing", len(res.Missing), "reason", w.Reason, "refusals", w.Refusals, "leaks", w.Leaks)
	}
	if res.Final {
		delete(c.pending, k)
		if !wasFinal {
			c.m.final.Inc()
			c.emit(b)
			c.countFinal()
		}
	} else if _, ok := c.pending[k]; !ok {
		c.pending[k] = c.now()
	}
	return nil
}

func (c *Consumer) emit(line []byte) {
	if c.cfg.Out == nil {
		return
	}
	c.outMu.Lock()
	defer c.outMu.Unlock()
	_, _ = c.cfg.Out.Write(append(line, '\n'))
}

// settle finalizes results that have waited Settle for missing shares.
func (c *Consumer) settle() error {
	now := c.now()
	for k, since := range c.pending {
		if now.Sub(since) >= c.cfg.Settle {
			if err := c.combine(k, true); err != nil {
				return err
			}
		}
	}
	return nil
}

// loadPending finds stored results that are not final, after a restart.
func (c *Consumer) loadPending() error {
	return c.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketResults).ForEach(func(k, v []byte) error {
			var r Result
			if err := json.Unmarshal(v, &r); err != nil {
				return fmt.Errorf("consumer: corrupt stored result: %v", err)
			}
			if r.Final {
				c.countFinal()
			}
			if !r.Final && len(k) == 10 {
				c.pending[wkey{binary.BigEndian.Uint16(k), binary.BigEndian.Uint64(k[2:])}] = c.now()
			}
			return nil
		})
	})
}

func (c *Consumer) countFinal() {
	c.finals++
	if c.expected > 0 && c.finals == c.expected {
		close(c.done)
	}
}
