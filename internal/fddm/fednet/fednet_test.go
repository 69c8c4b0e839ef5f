package fednet

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"math"
	mrand "math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/ppnet/ppnet/internal/consumer"
	"github.com/ppnet/ppnet/internal/fddm/bulletin"
	"github.com/ppnet/ppnet/internal/fddm/fedavg"
	"github.com/ppnet/ppnet/internal/fddm/model"
	"github.com/ppnet/ppnet/internal/natsx"
	"github.com/ppnet/ppnet/internal/ppn"
	"github.com/ppnet/ppnet/internal/producer"
	"github.com/ppnet/ppnet/sharing"
)

// testSeed returns FDDM_TEST_SEED if set, else 1, and logs it.
func testSeed(t *testing.T) uint64 {
	t.Helper()
	seed := uint64(1)
	if v := os.Getenv("FDDM_TEST_SEED"); v != "" {
		s, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			t.Fatalf("FDDM_TEST_SEED=%q: want an unsigned integer", v)
		}
		seed = s
	}
	t.Logf("seed %d (set FDDM_TEST_SEED to change)", seed)
	return seed
}

// population returns k producers' local data: rows of model.Dim features
// with a label that depends on two of them, a different share per producer.
func population(seed uint64, k int, codec *fedavg.Codec, train model.Train) []*fedavg.Local {
	r := mrand.New(mrand.NewPCG(seed, 11))
	var out []*fedavg.Local
	for p := range k {
		n := 60 + r.IntN(60)
		l := &fedavg.Local{Producer: uint64(p), Train: train, Codec: codec}
		for range n {
			row := []float64{1, r.NormFloat64(), r.NormFloat64(), float64(r.IntN(2)), r.NormFloat64() + float64(p)/4, r.Float64(), r.Float64(), r.Float64()}
			y := 0.0
			if row[1]+row[4] > 1 {
				y = 1
			}
			l.X = append(l.X, row...)
			l.Y = append(l.Y, y)
		}
		out = append(out, l)
	}
	return out
}

// recorder keeps every message a subscriber on ">" sees.
type recorder struct {
	mu   sync.Mutex
	msgs [][]byte
}

func (r *recorder) add(m *nats.Msg) {
	r.mu.Lock()
	defer r.mu.Unlock()
	b := append([]byte(m.Subject+" "), m.Data...)
	for k, vs := range m.Header {
		for _, v := range vs {
			b = append(b, " "+k+":"+v...)
		}
	}
	r.msgs = append(r.msgs, b)
}

// contains reports whether any message holds pat.
func (r *recorder) contains(pat []byte) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, m := range r.msgs {
		if bytes.Contains(m, pat) {
			return true
		}
	}
	return false
}

// TestFedAvgOverNetwork runs FedAvg rounds of 6 producers through 5 real
// PPNs (t = 3) and a coordinator consumer over embedded JetStream, and
// checks every round's global model against the in-process aggregator fed
// the same clients (the same integer sums, so the same model to the bit,
// and within 2^−(f+1) of the float average in any case), that every round
// has all 6 contributions, and that no message on the server — every
// subject, seen by a subscriber on ">" — holds any producer's update.
func TestFedAvgOverNetwork(t *testing.T) {
	seed := testSeed(t)
	const producers, rounds = 6, 4
	train := model.Train{Epochs: 3, Rate: 0.5, L2: 1e-3}
	codec, err := fedavg.NewCodec(fedavg.CodecOptions{MaxSamples: 200, Producers: producers})
	if err != nil {
		t.Fatal(err)
	}
	// Stride 2: each FedAvg round has two round durations for recovery,
	// publication and local training, so a loaded machine does not make a
	// producer miss its round.
	d, g, stride := 400*time.Millisecond, 200*time.Millisecond, uint64(2)
	cfg, keys, err := Generate(Spec{Producers: producers, PPNs: 5, Threshold: 3, Components: codec.Len(model.Dim), Codec: codec,
		Start: time.Now().Add(1500 * time.Millisecond), Round: d, Grace: g, Rounds: rounds * stride}, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	net, err := cfg.Resolve()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	srv, err := natsx.StartServer(natsx.ServerOptions{Dir: filepath.Join(dir, "nats")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Shutdown(); srv.WaitForShutdown() })
	url := srv.ClientURL()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()

	spy, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	defer spy.Close()
	rec := &recorder{}
	if _, err := spy.Subscribe(">", rec.add); err != nil {
		t.Fatal(err)
	}
	if err := spy.Flush(); err != nil {
		t.Fatal(err)
	}

	admin, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	js, err := jetstream.New(admin)
	if err != nil {
		t.Fatal(err)
	}
	if err := natsx.EnsureStreams(ctx, js, net); err != nil {
		t.Fatal(err)
	}
	kv, err := bulletin.OpenBucket(ctx, js, "", 1)
	if err != nil {
		t.Fatal(err)
	}

	coord, err := NewCoordinator(CoordinatorConfig{Net: net, Codec: codec, KV: kv, Rounds: Rounds{Stride: stride}})
	if err != nil {
		t.Fatal(err)
	}
	cs, err := consumer.New(consumer.Config{ID: "fedavg", NATS: url, DataDir: filepath.Join(dir, "consumer"), Net: net, Key: keys.Consumers[0], Out: coord})
	if err != nil {
		t.Fatal(err)
	}
	if err := cs.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer cs.Shutdown(context.Background())
	for i, p := range cfg.PPNs {
		pn, err := ppn.New(ppn.Config{ID: p.ID, NATS: url, DataDir: filepath.Join(dir, p.ID), Net: net, Key: keys.PPNs[i]})
		if err != nil {
			t.Fatal(err)
		}
		if err := pn.Start(ctx); err != nil {
			t.Fatal(err)
		}
		defer pn.Shutdown(context.Background())
	}

	var encMu sync.Mutex
	var encoded [][]sharing.Element // every update a producer encoded
	clients := population(seed, producers, codec, train)
	for i, p := range cfg.Producers {
		models, err := bulletin.WatchModels(ctx, kv)
		if err != nil {
			t.Fatal(err)
		}
		defer models.Close()
		src, err := NewSource(SourceConfig{Net: net, Producer: p.ID, Client: clients[i], Models: models, Rounds: Rounds{Stride: stride},
			Encoded: func(r uint64, v []sharing.Element) {
				encMu.Lock()
				encoded = append(encoded, append([]sharing.Element(nil), v...))
				encMu.Unlock()
			}})
		if err != nil {
			t.Fatal(err)
		}
		defer src.Close()
		pr, err := producer.New(producer.Config{ID: p.ID, NATS: url, DataDir: filepath.Join(dir, p.ID), From: 0, Net: net, Key: keys.Producers[i], Source: src})
		if err != nil {
			t.Fatal(err)
		}
		if err := pr.Start(ctx); err != nil {
			t.Fatal(err)
		}
		defer pr.Shutdown(context.Background())
		defer src.Close() // runs first: releases a Read waiting for a model
	}

	got, err := coord.WaitRounds(ctx, rounds)
	if err != nil {
		t.Fatal(err)
	}

	// Reference: the same clients (fresh copies) through the in-process
	// aggregator.
	ref := population(seed, producers, codec, train)
	refClients := make([]fedavg.Client, len(ref))
	for i, l := range ref {
		refClients[i] = l
	}
	agg, err := fedavg.NewInProcess(5, 3, mrand.NewChaCha8([32]byte{byte(seed)}))
	if err != nil {
		t.Fatal(err)
	}
	rc := &fedavg.Coordinator{Codec: codec, Agg: agg}
	var want model.Logistic
	for r, res := range got {
		if res.Err != nil || res.Carried || res.Contributors != producers {
			t.Fatalf("round %d: %d contributions, carried %v, err %v; want all %d", r, res.Contributors, res.Carried, res.Err, producers)
		}
		if want, err = rc.Round(uint64(r), want, refClients, agg); err != nil {
			t.Fatal(err)
		}
		for j := range want.W {
			if e := math.Abs(res.Model.W[j] - want.W[j]); e != 0 {
				t.Errorf("round %d weight %d: network %g, in-process %g (error %g)", r, j, res.Model.W[j], want.W[j], e)
			}
		}
		t.Logf("round %d: %d contributions, %d samples, model published %v after the carrying round's deadline", r, res.Contributors, res.Samples, res.Latency.Round(time.Millisecond))
	}
	if got[rounds-1].Model.W == (model.Logistic{}).W {
		t.Fatal("the global model never moved; the comparison is vacuous")
	}

	// No update, in any encoding, crossed the server.
	encMu.Lock()
	defer encMu.Unlock()
	if len(encoded) != producers*rounds {
		t.Fatalf("%d updates encoded, want %d", len(encoded), producers*rounds)
	}
	checked := 0
	for _, v := range encoded {
		for _, e := range v[:model.Dim] {
			x := e.Int64()
			if x > -1<<20 && x < 1<<20 {
				continue // too short to be distinctive
			}
			for _, pat := range [][]byte{
				binary.BigEndian.AppendUint64(nil, e.Uint64()),
				binary.LittleEndian.AppendUint64(nil, e.Uint64()),
				[]byte(strconv.FormatInt(x, 10)),
			} {
				if rec.contains(pat) {
					t.Errorf("an update component (%d) appears on the server in the clear", x)
				}
			}
			checked++
		}
	}
	if checked < producers*rounds {
		t.Fatalf("only %d components checked", checked)
	}
	// The spy saw the traffic: sealed parts, aggregates and the models.
	for _, subj := range []string{"$KV." + bulletin.Bucket + "." + bulletin.ModelKey(0), net.BundleSubject(0), net.AggregateSubject(0)} {
		if !rec.contains([]byte(subj + " ")) {
			t.Errorf("the subscriber on > saw nothing on %s; the privacy check is vacuous", subj)
		}
	}
}
