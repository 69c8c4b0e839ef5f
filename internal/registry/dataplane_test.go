package registry

import (
	"context"
	"crypto/ecdh"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"testing"
	"time"

	"github.com/ppnet/ppnet/internal/consumer"
	"github.com/ppnet/ppnet/internal/natsx"
	"github.com/ppnet/ppnet/internal/netconfig"
	"github.com/ppnet/ppnet/internal/policy"
	"github.com/ppnet/ppnet/internal/ppn"
	"github.com/ppnet/ppnet/internal/producer"
	"github.com/ppnet/ppnet/internal/seal"
)

// TestEpochRunsInDataPlane enrols parties with real key pairs, plans an
// epoch, renders it (bounded by a second epoch) and runs the data plane on
// the result — embedded NATS, the PPNs, a producer per meter and the
// consumer — then checks every recovered sum against the meters' own
// history.
func TestEpochRunsInDataPlane(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	r, err := Open(filepath.Join(t.TempDir(), "registry.db"), nil)
	must(t, err)
	defer r.Close()
	rnd := rand.NewChaCha8([32]byte{7}) // keys only; the result does not depend on them
	keys := map[string]*ecdh.PrivateKey{}
	pub := func(id string) string {
		k, err := seal.GenerateKey(rnd)
		must(t, err)
		keys[id] = k
		return seal.EncodeKey(k.PublicKey().Bytes())
	}
	for i := 1; i <= 6; i++ {
		id := fmt.Sprintf("h%d", i)
		must(t, r.AddProducer(Producer{ID: id, Labels: map[string]string{"feeder": []string{"F12", "F13"}[(i-1)/3]}, Max: 20000, PublicKey: pub(id)}))
	}
	for i := 1; i <= 4; i++ {
		id := fmt.Sprintf("ppn%d", i)
		must(t, r.AddPPN(PPN{ID: id, X: uint64(10 + i), Capacity: 12, PublicKey: pub(id)}))
	}
	must(t, r.AddConsumer(Consumer{ID: "grid", Grant: policy.FileGrant{Kinds: []string{"sum"}, MinWindow: 4, MinCohort: 3}, PublicKey: pub("grid")}))
	for _, f := range []string{"F12", "F13"} {
		_, err := r.RequestRule(Rule{ID: f, Consumer: "grid", Producers: policy.FileSelection{Selector: "feeder=" + f}, Window: 4, Kind: "sum"}, nil)
		must(t, err)
	}
	clock := Clock{Start: time.Now().Truncate(time.Second), Round: 200 * time.Millisecond, Grace: 200 * time.Millisecond}
	cur := clock.RoundAt(time.Now())
	first := uint64(cur+15+3) / 4 * 4 // ≥ 3 s ahead, on a window boundary
	e1, err := r.PlanEpoch(ctx, PlanOptions{FirstRound: first, CurrentRound: cur, Clock: clock, Threshold: 2, W: 3})
	must(t, err)
	_, err = r.RenderFile(1, nil)
	must(t, err)
	_, err = r.PlanEpoch(ctx, PlanOptions{FirstRound: first + 8, CurrentRound: cur})
	must(t, err)
	e1, next, err := r.Epoch(1)
	must(t, err)
	cfg, err := e1.Render(next, nil)
	must(t, err)
	b, err := cfg.Marshal()
	must(t, err)
	netPath := filepath.Join(t.TempDir(), "network.yaml")
	must(t, writeFile(netPath, b))
	n, err := netconfig.Load(netPath)
	must(t, err)
	if n.Config.Rounds.Count != 8 {
		t.Fatalf("epoch 1 renders %d rounds; want 8", n.Config.Rounds.Count)
	}
	runDataPlane(ctx, t, n, keys)
}

func runDataPlane(ctx context.Context, t *testing.T, n *netconfig.Network, keys map[string]*ecdh.PrivateKey) {
	dir := t.TempDir()
	srv, err := natsx.StartServer(natsx.ServerOptions{Dir: filepath.Join(dir, "nats")})
	must(t, err)
	defer func() { srv.Shutdown(); srv.WaitForShutdown() }()
	url := srv.ClientURL()
	cs, err := consumer.New(consumer.Config{ID: "grid", NATS: url, DataDir: filepath.Join(dir, "grid"), Settle: 500 * time.Millisecond, Net: n, Key: keys["grid"]})
	must(t, err)
	must(t, cs.Start(ctx))
	defer cs.Shutdown(context.Background())
	for _, p := range n.Config.PPNs {
		pn, err := ppn.New(ppn.Config{ID: p.ID, NATS: url, DataDir: filepath.Join(dir, p.ID), Net: n, Key: keys[p.ID]})
		must(t, err)
		must(t, pn.Start(ctx))
		defer pn.Shutdown(context.Background())
	}
	var prods []*producer.Producer
	for i, p := range n.Config.Producers {
		src, err := producer.NewHouseholdSource(nil, uint64(i+1))
		must(t, err)
		pr, err := producer.New(producer.Config{ID: p.ID, NATS: url, DataDir: filepath.Join(dir, p.ID), From: 0, Net: n, Key: keys[p.ID], Source: src})
		must(t, err)
		must(t, pr.Start(ctx))
		prods = append(prods, pr)
	}
	select {
	case <-cs.Done():
	case <-ctx.Done():
		t.Fatal("the consumer did not finish the epoch's windows in time")
	}
	readings := map[[2]uint64]int64{}
	for i, pr := range prods {
		must(t, pr.Shutdown(context.Background()))
		id := n.Config.Producers[i].ID
		h, err := producer.OpenHistory(filepath.Join(dir, id, "producer-"+id+".db"))
		must(t, err)
		for e, err := range h.All() {
			must(t, err)
			readings[[2]uint64{uint64(e.Meter), e.Round}] = e.Wh
		}
		h.Close()
	}
	res, err := cs.Results()
	must(t, err)
	if len(res) != 4 {
		t.Fatalf("%d results; want 2 rules × 2 windows", len(res))
	}
	var covered uint64
	for _, x := range res {
		checkResult(t, n, x, readings)
		covered += x.Covered
	}
	if covered == 0 {
		t.Fatal("no reading reached any result; every bundle was late")
	}
}

// checkResult checks a sum against the history: it must equal the sum of
// the readings of the (meter, round) pairs it covers, and covered plus
// missing pairs must make the whole window (a bundle that arrives after
// its round is sealed is missing, not wrong).
func checkResult(t *testing.T, n *netconfig.Network, x consumer.Result, readings map[[2]uint64]int64) {
	t.Helper()
	var rr *netconfig.ResolvedRule
	for i := range n.Rules {
		if n.Rules[i].ID == x.Rule {
			rr = &n.Rules[i]
		}
	}
	if rr == nil || x.Value == nil || !x.Final {
		t.Fatalf("result %+v: unknown rule, no value or not final", x)
	}
	missing := map[[2]uint64]bool{}
	for _, m := range x.Missing {
		id, _ := m[0].(string)
		mi, err := n.MeterIndex(id)
		must(t, err)
		rd, _ := m[1].(uint64)
		missing[[2]uint64{uint64(mi), rd}] = true
	}
	var want int64
	for _, m := range rr.Meters {
		for rd := x.WindowStart; rd < x.WindowStart+x.WindowRounds; rd++ {
			if missing[[2]uint64{uint64(m), rd}] {
				continue
			}
			v, ok := readings[[2]uint64{uint64(m), rd}]
			if !ok {
				t.Fatalf("meter %d has no reading for round %d in its history", m, rd)
			}
			want += v
		}
	}
	total := uint64(len(rr.Meters)) * x.WindowRounds
	if *x.Value != want || x.Covered+uint64(len(missing)) != total {
		t.Fatalf("rule %s window %d: value %d over %d pairs (%d missing); the history gives %d over %d", x.Rule, x.WindowStart, *x.Value, x.Covered, len(missing), want, total)
	}
	if len(missing) > 0 {
		t.Logf("rule %s window %d: %d of %d pairs missing (late bundles)", x.Rule, x.WindowStart, len(missing), total)
	}
}
