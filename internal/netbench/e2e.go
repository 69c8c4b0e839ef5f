package netbench

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/ppnet/ppnet/internal/consumer"
	"github.com/ppnet/ppnet/internal/natsx"
	"github.com/ppnet/ppnet/internal/netconfig"
	"github.com/ppnet/ppnet/internal/ppn"
	"github.com/ppnet/ppnet/internal/wire"
)

// E2EResult is whole rounds through ppnet — publish the round's bundles,
// five PPNs ingest them, the round is sealed, the consumers recover — beside
// the raw baseline: the same bundle bytes published with plain nats.go and
// read by five ordered consumers.
type E2EResult struct {
	Meters, Producers, T, Rounds int
	Bundles                      int // per round
	BundleBytes                  int // mean
	Build                        time.Duration
	PPNet, Raw                   []time.Duration // per measured round
	// Phases of each measured ppnet round, from its first publish: all
	// bundles acknowledged, and all five PPNs past the seal (bundles applied,
	// aggregates built).
	Published, Applied []time.Duration
	SealToResult       []time.Duration // per measured round and rule, sorted
}

// e2eRules are two sum rules with one-round windows: each round yields
// two results (a feeder over half the meters, the whole network).
func e2eRules() []netconfig.RuleSpec {
	return []netconfig.RuleSpec{
		{ID: "feeder", Consumer: "dso", Kind: netconfig.KindSum, Window: 1, Fraction: 0.5},
		{ID: "all", Consumer: "planner", Kind: netconfig.KindSum, Window: 1, Fraction: 1},
	}
}

// E2E runs rounds measured rounds (after one warm-up round) of meters
// meters in producers producers through 5 PPNs with threshold t, and the
// same bundles through the raw baseline. Every result is checked against
// the plain sum of the readings.
func E2E(ctx context.Context, dir string, seed uint64, meters, producers, t, rounds int) (*E2EResult, error) {
	total := rounds + 1
	nw, err := newNetwork(seed, meters, producers, 0, t, uint64(total), e2eRules())
	if err != nil {
		return nil, err
	}
	res := &E2EResult{Meters: meters, Producers: producers, T: t, Rounds: rounds}
	all := make([][]bundle, total)
	for r := range total {
		t0 := time.Now()
		if all[r], _, err = nw.buildRound(uint64(r)); err != nil {
			return nil, err
		}
		res.Build += time.Since(t0)
	}
	res.Bundles = len(all[0])
	for _, b := range all[0] {
		res.BundleBytes += len(b.data)
	}
	res.BundleBytes /= len(all[0])
	if res.Raw, err = rawRounds(ctx, dir, nw, all); err != nil {
		return nil, err
	}
	if err := nw.ppnetRounds(ctx, dir, all, res); err != nil {
		return nil, err
	}
	slices.Sort(res.SealToResult)
	return res, nil
}

// rawRounds publishes each round's bundles with message ids to a stream
// on the same subjects and times until five ordered consumers have read
// them; the first round is warm-up.
func rawRounds(ctx context.Context, dir string, nw *network, all [][]bundle) ([]time.Duration, error) {
	e, err := newEnv(dir)
	if err != nil {
		return nil, err
	}
	defer e.close()
	if err := natsx.EnsureStreams(ctx, e.js, nw.net); err != nil {
		return nil, err
	}
	var got [5]atomic.Int64
	var its []jetstream.MessagesContext
	defer func() {
		for _, it := range its {
			it.Stop()
		}
	}()
	for i := range got {
		oc, err := e.js.OrderedConsumer(ctx, nw.net.Config.Streams.Bundles, jetstream.OrderedConsumerConfig{})
		if err != nil {
			return nil, fmt.Errorf("netbench: ordered consumer: %v", err)
		}
		it, err := oc.Messages(jetstream.PullMaxMessages(1024))
		if err != nil {
			return nil, fmt.Errorf("netbench: consume: %v", err)
		}
		its = append(its, it)
		go func() {
			for {
				if _, err := it.Next(); err != nil {
					return
				}
				got[i].Add(1)
			}
		}()
	}
	var out []time.Duration
	want := int64(0)
	for r, bs := range all {
		t0 := time.Now()
		if err := e.publishAsync(ctx, bs); err != nil {
			return nil, err
		}
		want += int64(len(bs))
		for i := range got {
			for got[i].Load() < want {
				if ctx.Err() != nil {
					return nil, fmt.Errorf("netbench: raw consumer %d read %d of %d messages: %w", i, got[i].Load(), want, ctx.Err())
				}
				time.Sleep(100 * time.Microsecond) // timing resolution, not correctness
			}
		}
		if r > 0 {
			out = append(out, time.Since(t0))
		}
	}
	return out, nil
}

// arrivals records when each final result line reaches its consumer.
type arrivals struct {
	mu   sync.Mutex
	at   map[string]time.Time // rule/window
	res  map[string]consumer.Result
	poke chan struct{}
}

type arrivalWriter struct{ a *arrivals }

func (w arrivalWriter) Write(b []byte) (int, error) {
	now := time.Now()
	var r consumer.Result
	if err := json.Unmarshal(b, &r); err != nil {
		return 0, fmt.Errorf("netbench: result line: %v", err)
	}
	k := fmt.Sprintf("%s/%d", r.Rule, r.WindowStart)
	w.a.mu.Lock()
	w.a.at[k], w.a.res[k] = now, r
	w.a.mu.Unlock()
	select {
	case w.a.poke <- struct{}{}:
	default:
	}
	return len(b), nil
}

// ppnetRounds runs the rounds through 5 PPNs and the consumers.
func (nw *network) ppnetRounds(ctx context.Context, dir string, all [][]bundle, res *E2EResult) error {
	e, err := newEnv(dir)
	if err != nil {
		return err
	}
	defer e.close()
	if err := natsx.EnsureStreams(ctx, e.js, nw.net); err != nil {
		return err
	}
	arr := &arrivals{at: map[string]time.Time{}, res: map[string]consumer.Result{}, poke: make(chan struct{}, 1)}
	ppns, stop, err := nw.startDaemons(ctx, e, arr)
	defer stop()
	if err != nil {
		return err
	}
	for r, bs := range all {
		t0 := time.Now()
		if err := e.publishAsync(ctx, bs); err != nil {
			return err
		}
		published := time.Since(t0)
		s := wire.Seal{Epoch: nw.cfg.Epoch, Round: uint64(r)}
		ack, err := e.js.Publish(ctx, nw.net.SealSubject(), s.Marshal(), jetstream.WithMsgID(fmt.Sprintf("s.%d.%d", s.Epoch, s.Round)))
		if err != nil {
			return fmt.Errorf("netbench: seal round %d: %v", r, err)
		}
		sealed := time.Now()
		if err := allApplied(ctx, ppns, ack.Sequence); err != nil {
			return err
		}
		applied := time.Since(t0)
		last, lat, err := nw.awaitRound(ctx, arr, uint64(r), sealed)
		if err != nil {
			return err
		}
		if r > 0 {
			res.PPNet = append(res.PPNet, last.Sub(t0))
			res.Published = append(res.Published, published)
			res.Applied = append(res.Applied, applied)
			res.SealToResult = append(res.SealToResult, lat...)
		}
	}
	return nil
}

// startDaemons starts five PPNs (no seal timers: the benchmark seals) and
// the consumers, each on its own connection; stop shuts them down.
func (nw *network) startDaemons(ctx context.Context, e *env, arr *arrivals) (ppns []*ppn.PPN, stop func(), err error) {
	var stops []func()
	stop = func() {
		for i := len(stops) - 1; i >= 0; i-- {
			stops[i]()
		}
	}
	log := slog.New(slog.DiscardHandler)
	dial := func() (*nats.Conn, error) {
		nc, err := nats.Connect(e.srv.ClientURL())
		if err != nil {
			return nil, fmt.Errorf("netbench: connect: %v", err)
		}
		stops = append(stops, nc.Close)
		return nc, nil
	}
	for i, c := range nw.cfg.Consumers {
		nc, err := dial()
		if err != nil {
			return nil, stop, err
		}
		cs, err := consumer.New(consumer.Config{ID: c.ID, DataDir: filepath.Join(e.dir, "consumer-"+c.ID), Net: nw.net,
			Key: nw.keys.Consumers[i], Conn: nc, Out: arrivalWriter{arr}, Logger: log})
		if err != nil {
			return nil, stop, err
		}
		if err := cs.Start(ctx); err != nil {
			return nil, stop, err
		}
		stops = append(stops, func() { cs.Shutdown(context.Background()) })
	}
	for i, p := range nw.cfg.PPNs {
		nc, err := dial()
		if err != nil {
			return nil, stop, err
		}
		pn, err := ppn.New(ppn.Config{ID: p.ID, DataDir: filepath.Join(e.dir, "ppn-"+p.ID), Net: nw.net, Key: nw.keys.PPNs[i],
			Conn: nc, NoSealer: true, Logger: log})
		if err != nil {
			return nil, stop, err
		}
		if err := pn.Start(ctx); err != nil {
			return nil, stop, err
		}
		stops = append(stops, func() { pn.Shutdown(context.Background()) })
		ppns = append(ppns, pn)
	}
	return ppns, stop, nil
}

// allApplied polls until every PPN has applied stream sequence seq.
func allApplied(ctx context.Context, ppns []*ppn.PPN, seq uint64) error {
	for _, p := range ppns {
		for {
			applied, _ := p.Position()
			if applied >= seq {
				break
			}
			if ctx.Err() != nil {
				return fmt.Errorf("netbench: a PPN applied %d of %d messages: %w", applied, seq, ctx.Err())
			}
			time.Sleep(100 * time.Microsecond) // timing resolution, not correctness
		}
	}
	return nil
}

// awaitRound waits for every rule's final result of round r, checks each
// against the plain sum, and returns the last arrival and each result's
// time since the seal.
func (nw *network) awaitRound(ctx context.Context, arr *arrivals, r uint64, sealed time.Time) (time.Time, []time.Duration, error) {
	for {
		arr.mu.Lock()
		var last time.Time
		var lat []time.Duration
		done := true
		for _, rule := range nw.net.Rules {
			k := fmt.Sprintf("%s/%d", rule.ID, r)
			at, ok := arr.at[k]
			if !ok {
				done = false
				break
			}
			if err := nw.checkSum(&rule, arr.res[k]); err != nil {
				arr.mu.Unlock()
				return time.Time{}, nil, err
			}
			lat = append(lat, at.Sub(sealed))
			if at.After(last) {
				last = at
			}
		}
		arr.mu.Unlock()
		if done {
			return last, lat, nil
		}
		select {
		case <-arr.poke:
		case <-ctx.Done():
			return time.Time{}, nil, fmt.Errorf("netbench: results of round %d: %w", r, ctx.Err())
		}
	}
}

// checkSum compares a sum result of a one-round window with the readings.
func (nw *network) checkSum(rule *netconfig.ResolvedRule, res consumer.Result) error {
	var plain int64
	for _, m := range rule.Meters {
		plain += reading(nw.seed, m, res.WindowStart)
	}
	switch {
	case res.Error != "":
		return fmt.Errorf("netbench: rule %s round %d: %s", rule.ID, res.WindowStart, res.Error)
	case len(res.Missing) != 0 || res.Covered != uint64(rule.Slots):
		return fmt.Errorf("netbench: rule %s round %d covers %d of %d readings", rule.ID, res.WindowStart, res.Covered, rule.Slots)
	case res.Value == nil || *res.Value != plain:
		return fmt.Errorf("netbench: rule %s round %d: recovered %v, plain sum %d", rule.ID, res.WindowStart, res.Value, plain)
	}
	return nil
}
