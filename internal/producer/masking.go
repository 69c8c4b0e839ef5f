package producer

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/ppnet/ppnet/internal/fddm/bulletin"
	"github.com/ppnet/ppnet/internal/fddm/mask"
	"github.com/ppnet/ppnet/internal/fddm/model"
	"github.com/ppnet/ppnet/internal/fddm/scrub"
	"github.com/ppnet/ppnet/internal/netconfig"
)

// Masking configures the producer's dynamic masking job (docs/fddm.md):
// it watches the FDDM bulletin board for billing period closes and, for
// each, masks the covered rounds of every meter's stored history with the
// newest global sensitivity model, then compacts the history file so the
// originals are gone from it.
type Masking struct {
	// Board follows the bulletin bucket. If nil, the job watches Bucket
	// (default bulletin.Bucket) on the producer's connection.
	Board  *bulletin.Models
	Bucket string
	Policy mask.Policy
	// Profile is the population's mean reading per round of the day
	// (Generalise only), an aggregate the network releases.
	Profile []uint64
	// Interval is the time one reading covers and Start the start of round
	// 0's reading, for the model's time features. Defaults: the round
	// duration and the start of round 0; a fast-clock network (the devnet:
	// 100 ms rounds standing for 15-minute readings) sets both.
	Interval time.Duration
	Start    time.Time
}

// clock returns the start of round r's reading and the reading interval.
func (mc *Masking) clock(n *netconfig.Network, r uint64) (time.Time, time.Duration) {
	iv, st := mc.Interval, mc.Start
	if iv <= 0 {
		iv = n.Config.Rounds.Duration
	}
	if st.IsZero() {
		st = n.RoundStart(0)
	}
	return st.Add(time.Duration(r) * iv), iv
}

// masker is the state of the masking job inside a Producer.
type masker struct {
	dbMu   sync.RWMutex // held for writing while the history file is swapped
	board  *bulletin.Models
	own    bool // board watched by this producer: close it on stop
	cancel context.CancelFunc
	wg     sync.WaitGroup
	runs   int // masking runs completed, for tests
	runsMu sync.Mutex
	err    error
}

func maskedKey(period string) []byte { return []byte("masked." + period) }

func (p *Producer) startMasking() error {
	mc := p.cfg.Masking
	if mc == nil {
		return nil
	}
	if err := mc.Policy.Validate(); err != nil {
		return fmt.Errorf("producer: masking: %w", err)
	}
	if mc.Policy.Strategy == mask.Generalise && len(mc.Profile) == 0 {
		return errors.New("producer: masking by generalising needs the population profile (Masking.Profile)")
	}
	m := &p.masker
	m.board = mc.Board
	if m.board == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		kv, err := bulletin.Bind(ctx, p.js, mc.Bucket, p.declares())
		cancel()
		if err != nil {
			return fmt.Errorf("producer: masking: %w", err)
		}
		if m.board, err = bulletin.WatchModels(context.Background(), kv); err != nil {
			return fmt.Errorf("producer: masking: %w", err)
		}
		m.own = true
	}
	ctx, cancel := context.WithCancel(context.Background())
	m.cancel = cancel
	m.wg.Add(1)
	go func() { defer m.wg.Done(); p.maskLoop(ctx) }()
	return nil
}

func (p *Producer) stopMasking() {
	m := &p.masker
	if m.cancel == nil {
		return
	}
	m.cancel()
	m.wg.Wait()
	if m.own {
		m.board.Close()
	}
	m.cancel = nil
}

// MaskingRuns returns how many periods this producer has masked since it
// started.
func (p *Producer) MaskingRuns() int {
	p.masker.runsMu.Lock()
	defer p.masker.runsMu.Unlock()
	return p.masker.runs
}

// maskLoop masks every closed period not yet masked, whenever the board
// changes.
func (p *Producer) maskLoop(ctx context.Context) {
	m := &p.masker
	for {
		changed := m.board.Changed()
		if err := p.maskClosed(); err != nil {
			p.setErr(err)
			p.log.Error("masking failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-changed:
		}
	}
}

func (p *Producer) maskClosed() error {
	closes := p.masker.board.Closes()
	names := make([]string, 0, len(closes))
	for n := range closes {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, name := range names {
		done := false
		if err := p.db.View(func(tx *bolt.Tx) error {
			done = tx.Bucket(bucketMeta).Get(maskedKey(name)) != nil
			return nil
		}); err != nil {
			return fmt.Errorf("producer: %v", err)
		}
		if done {
			continue
		}
		g, ok := p.masker.board.Latest()
		if !ok {
			p.log.Warn("period closed but no global model published yet; masking waits for one", "period", name)
			return nil
		}
		n, err := p.MaskPeriod(closes[name], g.Model)
		if err != nil {
			return err
		}
		p.log.Info("period masked", "period", name, "model_round", g.Round, "masked", n)
		p.masker.runsMu.Lock()
		p.masker.runs++
		p.masker.runsMu.Unlock()
	}
	return nil
}

// MaskPeriod masks the rounds of pc in every meter's stored history with
// model m under the configured policy, in one transaction that also
// records the period as masked, then compacts the history file (the round
// loop and the sender pause meanwhile). It returns the number of readings
// masked.
func (p *Producer) MaskPeriod(pc bulletin.PeriodClose, m model.Logistic) (int, error) {
	mc := p.cfg.Masking
	if mc == nil {
		return 0, errors.New("producer: masking is not configured")
	}
	kind := map[mask.Strategy]byte{mask.Generalise: MaskGeneralised, mask.Coarsen: MaskCoarsened, mask.Suppress: MaskSuppressed}[mc.Policy.Strategy]
	_, iv := mc.clock(p.net, 0)
	perDay := uint64(24 * time.Hour / iv)
	masked := 0
	err := p.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketReadings)
		for _, meter := range p.net.ProducerMeters[p.idx] {
			var rounds []uint64
			var wh []uint64
			c := b.Cursor()
			for k, v := c.Seek(readingKey(meter, pc.FirstRound)); k != nil && binary.BigEndian.Uint32(k) == meter; k, v = c.Next() {
				r := binary.BigEndian.Uint64(k[4:])
				if r > pc.LastRound {
					break
				}
				x, kd, err := decodeReading(v)
				if err != nil {
					return err
				}
				if kd != MaskNone || x < 0 {
					continue // already masked, or export: left as stored
				}
				rounds, wh = append(rounds, r), append(wh, uint64(x))
			}
			if len(wh) == 0 {
				continue
			}
			start, _ := mc.clock(p.net, rounds[0])
			X, err := model.Features(nil, model.Series{Wh: wh, Start: start, Interval: iv}, model.NewBaseline(wh))
			if err != nil {
				return fmt.Errorf("producer: masking meter %s: %w", p.net.Meters[meter], err)
			}
			per := mask.Period{Wh: wh, Scores: m.Scores(nil, X), Profile: mc.Profile}
			if perDay > 0 && len(mc.Profile) > 0 {
				per.FirstSlot = int(rounds[0] % perDay % uint64(len(mc.Profile)))
			}
			res, err := mask.Apply(true, per, mc.Policy)
			if err != nil {
				return fmt.Errorf("producer: masking meter %s: %w", p.net.Meters[meter], err)
			}
			for _, i := range res.Masked {
				if err := b.Put(readingKey(meter, rounds[i]), encodeReading(int64(per.Wh[i]), kind)); err != nil {
					return err
				}
			}
			masked += len(res.Masked)
		}
		return tx.Bucket(bucketMeta).Put(maskedKey(pc.Period), binary.BigEndian.AppendUint64(nil, uint64(masked)))
	})
	if err != nil {
		return 0, fmt.Errorf("producer: masking period %s: %w", pc.Period, err)
	}
	return masked, p.compactHistory()
}

// compactHistory rewrites the history into a fresh file (scrub.Compact):
// bbolt keeps overwritten pages' bytes in its free list, so without this
// the originals would stay in the file. The round loop and the sender are
// stopped for the swap and restarted on the new file.
func (p *Producer) compactHistory() error {
	m := &p.masker
	m.dbMu.Lock()
	defer m.dbMu.Unlock()
	p.cancel()
	p.wg.Wait()
	path := filepath.Join(p.cfg.DataDir, "producer-"+p.cfg.ID+".db")
	if err := p.db.Close(); err != nil {
		return fmt.Errorf("producer: closing history for compaction: %v", err)
	}
	cerr := scrub.Compact(path)
	db, err := openStore(path)
	if err != nil {
		return errors.Join(cerr, err)
	}
	p.db = db
	select {
	case <-p.done: // every round delivered: nothing to restart
	default:
		p.runLoops()
	}
	if cerr != nil {
		return fmt.Errorf("producer: %w", cerr)
	}
	return nil
}

// masked returns a channel closed once every round is delivered and period
// has been masked, or the masking job has failed (the error is the
// producer's health).
func (p *Producer) masked(period string) <-chan struct{} {
	out := make(chan struct{})
	go func() {
		defer close(out)
		<-p.done
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for range t.C {
			if p.healthy() != nil || p.isMasked(period) {
				return
			}
		}
	}()
	return out
}

// isMasked reports whether period is recorded as masked in the history.
func (p *Producer) isMasked(period string) bool {
	p.masker.dbMu.RLock()
	defer p.masker.dbMu.RUnlock()
	done := false
	_ = p.db.View(func(tx *bolt.Tx) error {
		done = tx.Bucket(bucketMeta).Get(maskedKey(period)) != nil
		return nil
	})
	return done
}
