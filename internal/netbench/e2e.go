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
	"github.com/ppnet/ppnet/internal/seal"
)

// E2EResult is whole rounds through ppnet — publish the round's bundles,
// five PPNs ingest them, the round is sealed, the consumers recover — beside
// the raw baseline: the same bundle bytes published with plain nats.go and
// read by five ordered consumers. Raw and ppnet rounds alternate (which goes
// first alternates too), each on its own server, so both see the same load
// from whatever else runs on the machine; Ratio pairs them round by round.
type E2EResult struct {
	Meters, Producers, T, Rounds int
	Bundles                      int // per round
	BundleBytes                  int // mean
	Build                        time.Duration
	PPNet, Raw                   []time.Duration // wall time per measured round
	PPNetCPU, RawCPU             []time.Duration // process CPU time (user+system) per measured round
	Ratio                        []float64       // PPNet[i] / Raw[i]
	// Phases of each measured ppnet round, from its first publish: all
	// bundles acknowledged, and all five PPNs past the seal (bundles applied,
	// aggregates built).
	Published, Applied []time.Duration
	SealToResult       []time.Duration // per measured round and rule, sorted
	// Commits is the PPNs' state commits (bbolt transactions, each synced
	// to disk) per PPN per round, over the whole run.
	Commits float64
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
	raw, err := newRawRunner(ctx, dir, nw)
	if err != nil {
		return nil, err
	}
	defer raw.close()
	pp, err := newPPNetRunner(ctx, dir, nw)
	if err != nil {
		return nil, err
	}
	defer pp.close()
	for r, bs := range all {
		var rr, pr roundResult
		if r%2 == 0 {
			if rr, err = raw.round(ctx, bs); err == nil {
				pr, err = pp.round(ctx, uint64(r), bs)
			}
		} else {
			if pr, err = pp.round(ctx, uint64(r), bs); err == nil {
				rr, err = raw.round(ctx, bs)
			}
		}
		if err != nil {
			return nil, err
		}
		if r == 0 {
			continue // warm-up
		}
		res.Raw = append(res.Raw, rr.wall)
		res.RawCPU = append(res.RawCPU, rr.cpu)
		res.PPNet = append(res.PPNet, pr.wall)
		res.PPNetCPU = append(res.PPNetCPU, pr.cpu)
		res.Ratio = append(res.Ratio, float64(pr.wall)/float64(rr.wall))
		res.Published = append(res.Published, pr.published)
		res.Applied = append(res.Applied, pr.applied)
		res.SealToResult = append(res.SealToResult, pr.latency...)
	}
	slices.Sort(res.SealToResult)
	var commits float64
	for _, p := range pp.ppns {
		c, err := counter(p.Registry(), "ppnet_ppn_commits_total")
		if err != nil {
			return nil, err
		}
		commits += c
	}
	res.Commits = commits / float64(len(pp.ppns)*total)
	return res, nil
}

// roundResult is one timed round.
type roundResult struct {
	wall, cpu          time.Duration
	published, applied time.Duration // ppnet phases
	latency            []time.Duration
}

// rawRunner publishes rounds with message ids to a stream on the same
// subjects and waits until five ordered consumers have read them.
type rawRunner struct {
	e    *env
	got  [5]atomic.Int64
	its  []jetstream.MessagesContext
	want int64
}

func newRawRunner(ctx context.Context, dir string, nw *network) (*rawRunner, error) {
	e, err := newEnv(dir)
	if err != nil {
		return nil, err
	}
	x := &rawRunner{e: e}
	if err := natsx.EnsureStreams(ctx, e.js, nw.net); err != nil {
		x.close()
		return nil, err
	}
	for i := range x.got {
		oc, err := e.js.OrderedConsumer(ctx, nw.net.Config.Streams.Bundles, jetstream.OrderedConsumerConfig{})
		if err != nil {
			x.close()
			return nil, fmt.Errorf("netbench: ordered consumer: %v", err)
		}
		it, err := oc.Messages(jetstream.PullMaxMessages(1024))
		if err != nil {
			x.close()
			return nil, fmt.Errorf("netbench: consume: %v", err)
		}
		x.its = append(x.its, it)
		go func() {
			for {
				if _, err := it.Next(); err != nil {
					return
				}
				x.got[i].Add(1)
			}
		}()
	}
	return x, nil
}

func (x *rawRunner) close() {
	for _, it := range x.its {
		it.Stop()
	}
	x.e.close()
}

func (x *rawRunner) round(ctx context.Context, bs []bundle) (roundResult, error) {
	t0, c0 := time.Now(), processCPU()
	if err := x.e.publishAsync(ctx, bs); err != nil {
		return roundResult{}, err
	}
	x.want += int64(len(bs))
	for i := range x.got {
		for x.got[i].Load() < x.want {
			if ctx.Err() != nil {
				return roundResult{}, fmt.Errorf("netbench: raw consumer %d read %d of %d messages: %w", i, x.got[i].Load(), x.want, ctx.Err())
			}
			time.Sleep(100 * time.Microsecond) // timing resolution, not correctness
		}
	}
	return roundResult{wall: time.Since(t0), cpu: processCPU() - c0}, nil
}

// arrivals records when each final result line reaches its consumer.
type arrivals struct {
	mu   sync.Mutex
	at   map[string]time.Time // rule/window
	res  map[string]consumer.Result
	poke chan struct{}
}

type arrivalWriter struct{ a *arrivals }

// Write records one final result line (a consumer.Result in JSON) and
// when it came.
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

// ppnetRunner runs rounds through five PPNs and the consumers.
type ppnetRunner struct {
	nw   *network
	e    *env
	arr  *arrivals
	ppns []*ppn.PPN
	stop func()
	ring *seal.Keyring // PPN 0's seal keys: the benchmark seals as PPN 0
}

func newPPNetRunner(ctx context.Context, dir string, nw *network) (*ppnetRunner, error) {
	e, err := newEnv(dir)
	if err != nil {
		return nil, err
	}
	x := &ppnetRunner{nw: nw, e: e, stop: func() {}, ring: ppn.SealKeyring(nw.net, nw.keys.PPNs[0]),
		arr: &arrivals{at: map[string]time.Time{}, res: map[string]consumer.Result{}, poke: make(chan struct{}, 1)}}
	if err := natsx.EnsureStreams(ctx, e.js, nw.net); err != nil {
		x.close()
		return nil, err
	}
	x.ppns, x.stop, err = nw.startDaemons(ctx, e, x.arr)
	if err != nil {
		x.close()
		return nil, err
	}
	return x, nil
}

func (x *ppnetRunner) close() {
	x.stop()
	x.e.close()
}

// round publishes round r's bundles, then its seal, and waits for every
// rule's result of the round.
func (x *ppnetRunner) round(ctx context.Context, r uint64, bs []bundle) (roundResult, error) {
	nw, e := x.nw, x.e
	t0, c0 := time.Now(), processCPU()
	if err := e.publishAsync(ctx, bs); err != nil {
		return roundResult{}, err
	}
	res := roundResult{published: time.Since(t0)}
	msg, id, err := ppn.SealMarker(nw.net, x.ring, 0, r)
	if err != nil {
		return roundResult{}, fmt.Errorf("netbench: seal round %d: %v", r, err)
	}
	ack, err := e.js.Publish(ctx, nw.net.SealSubject(), msg, jetstream.WithMsgID(id))
	if err != nil {
		return roundResult{}, fmt.Errorf("netbench: seal round %d: %v", r, err)
	}
	sealed := time.Now()
	if err := allApplied(ctx, x.ppns, ack.Sequence); err != nil {
		return roundResult{}, err
	}
	res.applied = time.Since(t0)
	last, lat, err := nw.awaitRound(ctx, x.arr, r, sealed)
	if err != nil {
		return roundResult{}, err
	}
	res.wall, res.cpu, res.latency = last.Sub(t0), processCPU()-c0, lat
	return res, nil
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
