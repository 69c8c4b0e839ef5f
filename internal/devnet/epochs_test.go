package devnet

import (
	"bytes"
	"context"
	"crypto/ecdh"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nkeys"

	"github.com/ppnet/ppnet/internal/consumer"
	"github.com/ppnet/ppnet/internal/epochs"
	"github.com/ppnet/ppnet/internal/natsauth"
	"github.com/ppnet/ppnet/internal/natsx"
	"github.com/ppnet/ppnet/internal/netconfig"
	"github.com/ppnet/ppnet/internal/policy"
	"github.com/ppnet/ppnet/internal/ppn"
	"github.com/ppnet/ppnet/internal/producer"
	"github.com/ppnet/ppnet/internal/registry"
	"github.com/ppnet/ppnet/internal/seal"
)

// TestEpochSwitchLive is issue 6's re-planning test, run by the roles
// themselves: meters, PPNs and a consumer are enrolled in a registry, epoch
// 1 is planned and published to the KV bucket on the embedded server, and
// every role runs as a follower of the bucket (internal/epochs), each as
// its own NATS user with its role's permissions (the admin declares the
// streams). Mid-run a rule is added, a PPN of epoch 1 is retired, and
// epoch 2 is planned (F_2 picked by the registry, a few rounds ahead); the
// server is reloaded with the union of both epochs' permissions, the PPN
// epoch 2 brings in is started, and epoch 2 is published; the roles switch
// by themselves, and a meter publishing another's bundle is still refused. Epoch 2 is then bounded by planning epoch 3 and
// publishing epoch 2 again. Every window of every rule of both epochs must
// have a final result equal to the plain sum of the readings it covers
// (from the meters' own histories), with nothing missing.
func TestEpochSwitchLive(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	dir := t.TempDir()
	reg, err := registry.Open(filepath.Join(dir, "registry.db"), nil)
	must(t, err)
	defer reg.Close()
	const seed = 11
	rnd := rand.NewChaCha8([32]byte{seed}) // keys only
	keys := map[string]*ecdh.PrivateKey{}
	pub := func(id string) string {
		k, err := seal.GenerateKey(rnd)
		must(t, err)
		keys[id] = k
		return seal.EncodeKey(k.PublicKey().Bytes())
	}
	var meters []string
	for i := 1; i <= 8; i++ {
		id := fmt.Sprintf("m%d", i)
		meters = append(meters, id)
		feeder := []string{"F1", "F2"}[(i-1)/4]
		must(t, reg.AddProducer(registry.Producer{ID: id, Labels: map[string]string{"feeder": feeder}, Max: 20000, PublicKey: pub(id)}))
	}
	ppnIDs := []string{"ppn1", "ppn2", "ppn3", "ppn4"}
	for i, id := range ppnIDs {
		must(t, reg.AddPPN(registry.PPN{ID: id, X: uint64(20 + i), Capacity: 100, PublicKey: pub(id)}))
	}
	must(t, reg.AddConsumer(registry.Consumer{ID: "grid", Grant: policy.FileGrant{Kinds: []string{"sum"}, MinWindow: 1, MinCohort: 4}, PublicKey: pub("grid")}))
	request := func(id, selector string, ids []string, window int) {
		t.Helper()
		_, err := reg.RequestRule(registry.Rule{ID: id, Consumer: "grid", Producers: policy.FileSelection{Selector: selector, IDs: ids}, Window: window, Kind: "sum"}, nil)
		must(t, err)
	}
	request("f1", "feeder=F1", nil, 1)
	request("f2", "feeder=F2", nil, 2)

	clock := registry.Clock{Start: time.Now().Truncate(time.Second), Round: 250 * time.Millisecond, Grace: 500 * time.Millisecond}
	cur := func() int64 { return clock.RoundAt(time.Now()) }
	// Rounds of lead time before an epoch's first round: the registry then
	// picks the smallest valid F after it.
	const lead = 8
	_, err = reg.PlanEpoch(ctx, registry.PlanOptions{AutoFirst: true, CurrentRound: cur() + lead, Clock: clock, Threshold: 2, W: 3})
	must(t, err)

	// The server is secured as the devnet's: one NKey user per role with
	// the permissions of the epochs running (natsauth), anonymous clients
	// refused.
	render := func(n uint32) *netconfig.Network {
		t.Helper()
		e, next, err := reg.Epoch(n)
		must(t, err)
		c, err := e.Render(next, nil)
		must(t, err)
		net, err := c.Resolve()
		must(t, err)
		return net
	}
	net1 := render(1)
	// Keys for every enrolled identity; the server admits those of the
	// epochs running (ppn4 only once an epoch uses it).
	nk := &natsauth.Keys{Pairs: map[natsauth.Identity]nkeys.KeyPair{}}
	var users1 natsauth.Users
	ids := []natsauth.Identity{{Role: natsauth.RoleAdmin, ID: "admin"}, {Role: natsauth.RoleConsumer, ID: "grid"}}
	for _, id := range ppnIDs {
		ids = append(ids, natsauth.Identity{Role: natsauth.RolePPN, ID: id})
	}
	for _, id := range meters {
		ids = append(ids, natsauth.Identity{Role: natsauth.RoleProducer, ID: id})
	}
	for _, i := range ids {
		kp, err := natsauth.NewUserKey(rnd)
		must(t, err)
		pub, err := kp.PublicKey()
		must(t, err)
		nk.Pairs[i] = kp
		u := natsauth.User{Role: i.Role, ID: i.ID, NKey: pub}
		nk.Users.Users = append(nk.Users.Users, u)
		if _, err := natsauth.Permissions(net1, i); err == nil {
			users1.Users = append(users1.Users, u)
		}
	}
	var srvOpts *server.Options
	srv, err := natsx.StartServer(natsx.ServerOptions{Dir: filepath.Join(dir, "nats"), Configure: func(o *server.Options) error {
		srvOpts = o
		return natsauth.ConfigureServer(o, net1, &users1, nil)
	}})
	must(t, err)
	t.Cleanup(func() { srv.Shutdown(); srv.WaitForShutdown() }) // after the roles' cleanups
	if nc, err := nats.Connect(srv.ClientURL(), nats.NoReconnect()); err == nil {
		nc.Close()
		t.Fatal("an anonymous client was accepted by the secured server")
	}
	conn := func(role natsauth.Role, id string) *nats.Conn {
		t.Helper()
		opts, err := nk.Client(natsauth.Identity{Role: role, ID: id}, nil)
		must(t, err)
		nc, err := natsx.Connect(srv.ClientURL(), string(role)+"-"+id, slog.New(slog.DiscardHandler), opts...)
		must(t, err)
		t.Cleanup(nc.Close)
		return nc
	}
	admin := conn(natsauth.RoleAdmin, "admin")
	js, err := jetstream.New(admin)
	must(t, err)
	kv, err := registry.OpenBucket(ctx, js, registry.DefaultBucket, 1)
	must(t, err)
	must(t, natsx.EnsureStreams(ctx, js, net1)) // the roles may not declare them
	_, err = reg.Publish(ctx, kv, 1, nil)
	must(t, err)

	// One follower per role instance, each on its own connection as its
	// own NATS user, as separate daemons would be.
	var jsonl lockedBuffer
	cs, err := consumer.Follow(consumer.Config{ID: "grid", KV: registry.DefaultBucket, DataDir: filepath.Join(dir, "grid"),
		Settle: 500 * time.Millisecond, Key: keys["grid"], Conn: conn(natsauth.RoleConsumer, "grid"), Out: &jsonl, SkipStreams: true})
	must(t, err)
	must(t, cs.Start(ctx))
	defer cs.Shutdown(context.Background())
	startPPN := func(id string) {
		t.Helper()
		f, err := ppn.Follow(ppn.Config{ID: id, KV: registry.DefaultBucket, DataDir: filepath.Join(dir, id), Key: keys[id], Conn: conn(natsauth.RolePPN, id), SkipStreams: true})
		must(t, err)
		must(t, f.Start(ctx))
		t.Cleanup(func() { f.Shutdown(context.Background()) })
	}
	// A PPN no epoch uses yet has no NATS user: it starts once one does.
	var later []string
	for _, id := range ppnIDs {
		if _, err := net1.PPNIndex(id); err != nil {
			later = append(later, id)
			continue
		}
		startPPN(id)
	}
	var prods []*producer.Follower
	for _, id := range meters {
		f, err := producer.Follow(producer.Config{ID: id, KV: registry.DefaultBucket, DataDir: filepath.Join(dir, id), From: -1,
			Seed: seed, Key: keys[id], Conn: conn(natsauth.RoleProducer, id), SkipStreams: true})
		must(t, err)
		must(t, f.Start(ctx))
		prods = append(prods, f)
	}

	// Mid-run, once epoch 1 has final results: a new rule, a PPN of epoch
	// 1 retired, epoch 2 planned and published.
	pollUntil(ctx, t, "3 final results of epoch 1", func() bool { return len(finals(t, cs)) >= 3 })
	e1, _, err := reg.Epoch(1)
	must(t, err)
	retired := e1.Rules[0].PPNs[0]
	must(t, reg.RetirePPN(retired))
	request("all", "", meters, 4)
	e2, err := reg.PlanEpoch(ctx, registry.PlanOptions{AutoFirst: true, CurrentRound: cur() + lead})
	must(t, err)
	// Before epoch 2 is published, the server's users get the union of
	// both epochs' permissions (docs/deploy.md: render, reload, publish).
	both, err := natsauth.NkeyUsersAcross([]*netconfig.Network{net1, render(2)}, &nk.Users)
	must(t, err)
	reload := srvOpts.Clone()
	reload.Nkeys = both
	must(t, srv.ReloadOptions(reload))
	for _, id := range later {
		startPPN(id)
	}
	// The reloaded server still refuses what no epoch allows: a meter
	// publishing another meter's bundle.
	net2 := render(2)
	other, err := net2.ProducerIndex("m2")
	must(t, err)
	violations := make(chan error, 4)
	opts, err := nk.Client(natsauth.Identity{Role: natsauth.RoleProducer, ID: "m1"}, nil)
	must(t, err)
	spy, err := nats.Connect(srv.ClientURL(), append(opts, nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) { violations <- err }))...)
	must(t, err)
	must(t, spy.Publish(net2.BundleSubject(other), []byte("forged")))
	select {
	case err := <-violations:
		if !strings.Contains(err.Error(), "Permissions Violation for Publish to") {
			t.Fatalf("m1 publishing m2's bundle: %v; want a permissions violation", err)
		}
	case <-ctx.Done():
		t.Fatal("the server did not refuse m1 publishing m2's bundle after the reload")
	}
	spy.Close()
	_, err = reg.Publish(ctx, kv, 2, nil)
	must(t, err)
	for _, r := range e2.Rules {
		if slices.Contains(r.PPNs, retired) {
			t.Fatalf("epoch 2 rule %s still uses retired %s", r.ID, retired)
		}
	}
	// Bound epoch 2 at 8 rounds: plan epoch 3 and publish epoch 2 again.
	_, err = reg.PlanEpoch(ctx, registry.PlanOptions{FirstRound: e2.FirstRound + 8, CurrentRound: cur()})
	must(t, err)
	_, err = reg.Publish(ctx, kv, 2, nil)
	must(t, err)
	t.Logf("epoch 1 from round %d, epoch 2 from %d to %d; %s retired; current round %d", e1.FirstRound, e2.FirstRound, e2.FirstRound+8, retired, cur())

	nets := map[uint32]*netconfig.Network{}
	want := 0
	for n := uint32(1); n <= 2; n++ {
		nets[n] = render(n)
		for _, r := range nets[n].Rules {
			want += int(nets[n].Config.Rounds.Count / r.K)
		}
	}
	pollUntil(ctx, t, fmt.Sprintf("%d final results over both epochs", want), func() bool { return len(finals(t, cs)) == want })
	pollUntil(ctx, t, "every producer instance done", func() bool {
		for _, p := range prods {
			done := 0
			p.Each(func(e epochs.Epoch) {
				if e.Done {
					done++
				}
			})
			if done != 2 {
				return false
			}
		}
		return true
	})
	for _, p := range prods {
		must(t, p.Shutdown(context.Background()))
	}

	// The meters' own histories, by (meter id, global round).
	readings := map[string]map[uint64]int64{}
	for n, net := range nets {
		for _, p := range net.Config.Producers {
			h, err := producer.OpenHistory(filepath.Join(dir, p.ID, fmt.Sprintf("epoch-%d", n), "producer-"+p.ID+".db"))
			must(t, err)
			for e, err := range h.All() {
				must(t, err)
				id := net.Meters[e.Meter]
				if readings[id] == nil {
					readings[id] = map[uint64]int64{}
				}
				readings[id][net.Config.Rounds.First+e.Round] = e.Wh
			}
			h.Close()
		}
	}
	// Readings continue the meter's global sequence: the synthetic source
	// read at global rounds, whichever epoch took them.
	src, err := producer.NewHouseholdSource(nil, seed)
	must(t, err)
	for n, net := range nets {
		for m, id := range net.Meters {
			for r := range net.Config.Rounds.Count {
				g := net.Config.Rounds.First + r
				var wh [1]int64
				must(t, src.Read(g, []uint64{uint64(m)}, wh[:]))
				if got, ok := readings[id][g]; !ok || got != wh[0] {
					t.Fatalf("epoch %d meter %s global round %d: history %d (stored %v), the source gives %d", n, id, g, got, ok, wh[0])
				}
			}
		}
	}

	res := finals(t, cs)
	seen := map[string]bool{}
	for _, x := range res {
		net := nets[x.Epoch]
		if net == nil || x.FirstRound != net.Config.Rounds.First {
			t.Fatalf("result %+v: unknown epoch or first round", x)
		}
		var rr *netconfig.ResolvedRule
		for i := range net.Rules {
			if net.Rules[i].ID == x.Rule {
				rr = &net.Rules[i]
			}
		}
		if rr == nil || x.Value == nil || x.Error != "" || x.WindowStart%rr.K != 0 || x.WindowStart >= net.Config.Rounds.Count {
			t.Fatalf("result %+v: not a window of epoch %d", x, x.Epoch)
		}
		key := fmt.Sprintf("%d/%s/%d", x.Epoch, x.Rule, x.WindowStart)
		if seen[key] {
			t.Fatalf("two results for %s", key)
		}
		seen[key] = true
		var plain int64
		for _, m := range rr.Meters {
			for r := x.WindowStart; r < x.WindowStart+rr.K; r++ {
				v, ok := readings[net.Meters[m]][net.Config.Rounds.First+r]
				if !ok {
					t.Fatalf("%s: meter %s has no reading for round %d", key, net.Meters[m], r)
				}
				plain += v
			}
		}
		if len(x.Missing) != 0 || x.Covered != uint64(len(rr.Meters))*rr.K || *x.Value != plain {
			t.Fatalf("%s: value %d covering %d pairs, %d missing; the meters' readings sum to %d over %d pairs",
				key, *x.Value, x.Covered, len(x.Missing), plain, uint64(len(rr.Meters))*rr.K)
		}
		if x.Epoch == 2 && slices.Contains(x.PPNs, retired) {
			t.Fatalf("%s combined a share of retired %s", key, retired)
		}
	}
	for n, net := range nets {
		for _, r := range net.Rules {
			for w := uint64(0); w < net.Config.Rounds.Count; w += r.K {
				if !seen[fmt.Sprintf("%d/%s/%d", n, r.ID, w)] {
					t.Fatalf("no result for epoch %d rule %s window %d", n, r.ID, w)
				}
			}
		}
	}
	// JSON lines continue across the switch; /metrics labels each epoch.
	lines := strings.Count(jsonl.String(), "\n")
	if lines != want || !strings.Contains(jsonl.String(), `"epoch":2`) {
		t.Fatalf("%d JSON lines (want %d, tagged with their epochs):\n%s", lines, want, jsonl.String())
	}
	body := get(t, "http://"+cs.HTTPAddr()+"/metrics")
	for _, s := range []string{`ppnet_consumer_results_final_total{epoch="1"}`, `ppnet_consumer_results_final_total{epoch="2"}`, "ppnet_epochs_done_total 2"} {
		if !strings.Contains(body, s) {
			t.Fatalf("/metrics lacks %s:\n%s", s, body)
		}
	}
	var served []consumer.Result
	must(t, json.Unmarshal([]byte(get(t, "http://"+cs.HTTPAddr()+"/results")), &served))
	if len(served) != want {
		t.Fatalf("/results serves %d results; want %d", len(served), want)
	}
	t.Logf("%d results over 2 epochs, all exact, none missing", want)
}

func finals(t *testing.T, cs *consumer.Follower) []consumer.Result {
	t.Helper()
	res, err := cs.Results()
	must(t, err)
	var out []consumer.Result
	for _, r := range res {
		if r.Final {
			out = append(out, r)
		}
	}
	return out
}

// pollUntil polls cond until it holds or ctx ends.
func pollUntil(ctx context.Context, t *testing.T, what string, cond func() bool) {
	t.Helper()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatalf("waiting for %s: %v", what, ctx.Err())
		case <-tick.C:
		}
	}
}

func get(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	must(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	must(t, err)
	return string(b)
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
