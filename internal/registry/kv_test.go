package registry

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/ppnet/ppnet/internal/natsx"
)

// TestPublishWatchRoundTrip publishes two epochs to a KV bucket on a real
// embedded nats-server while a watcher, started first, decodes what a role
// would see: epoch 1 unbounded, then epoch 1 again ending where epoch 2
// starts, then epoch 2.
func TestPublishWatchRoundTrip(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	srv, err := natsx.StartServer(natsx.ServerOptions{Dir: t.TempDir()})
	must(t, err)
	defer func() { srv.Shutdown(); srv.WaitForShutdown() }()
	nc, err := nats.Connect(srv.ClientURL())
	must(t, err)
	defer nc.Close()
	js, err := jetstream.New(nc)
	must(t, err)
	kv, err := OpenBucket(ctx, js, DefaultBucket, 1)
	must(t, err)
	w, err := kv.Watch(ctx, KeyPrefix+"*", jetstream.UpdatesOnly())
	must(t, err)
	defer w.Stop()

	r, _ := fixture(t)
	admitAll(t, r)
	clock := Clock{Start: t0, Round: 15 * time.Minute, Grace: time.Minute}
	e1, err := r.PlanEpoch(ctx, PlanOptions{FirstRound: 96, CurrentRound: 1, Clock: clock})
	must(t, err)
	if _, err := r.Publish(ctx, kv, 1, nil); err != nil {
		t.Fatal(err)
	}
	must(t, r.RetirePPN(e1.PPNs[0].ID))
	e2, err := r.PlanEpoch(ctx, PlanOptions{FirstRound: 384, CurrentRound: 100})
	must(t, err)
	rev, err := r.Publish(ctx, kv, 2, nil)
	must(t, err)

	want := []struct {
		key   string
		epoch *Epoch
		count uint64
	}{{"epoch.1", e1, 0}, {"epoch.1", e1, 288}, {"epoch.2", e2, 0}}
	for i, wnt := range want {
		var ent jetstream.KeyValueEntry
		select {
		case ent = <-w.Updates():
		case <-ctx.Done():
			t.Fatalf("update %d (%s) never arrived", i, wnt.key)
		}
		if ent == nil || ent.Key() != wnt.key {
			t.Fatalf("update %d is %v; want key %s", i, ent, wnt.key)
		}
		n, err := DecodeEntry(ent.Key(), ent.Value())
		if err != nil {
			t.Fatalf("update %d: %v", i, err)
		}
		checkNetwork(t, wnt.epoch, n)
		if n.Config.Rounds.Count != wnt.count {
			t.Fatalf("update %d: %s has %d rounds; want %d", i, wnt.key, n.Config.Rounds.Count, wnt.count)
		}
		if i == 2 && ent.Revision() != rev {
			t.Fatalf("epoch 2 at revision %d; Publish said %d", ent.Revision(), rev)
		}
	}
	es, err := r.Epochs()
	must(t, err)
	for _, e := range es {
		if e.Published == nil {
			t.Fatalf("epoch %d not recorded as published", e.Number)
		}
	}
}

func TestDecodeEntryRefusals(t *testing.T) {
	r, _ := fixture(t)
	admitAll(t, r)
	_, err := r.PlanEpoch(context.Background(), PlanOptions{FirstRound: 96, Clock: Clock{Start: t0, Round: time.Minute}})
	must(t, err)
	b, err := r.RenderFile(1, nil)
	must(t, err)
	tests := []struct {
		key  string
		val  []byte
		want string
	}{
		{"epoch.x", b, "not an epoch key"},
		{"epoch.0", b, "not an epoch key"},
		{"config.1", b, "not an epoch key"},
		{"epoch.2", b, `holds epoch 1; the key and the file disagree`},
		{"epoch.1", []byte("epoch: [1"), "netconfig:"},
		{"epoch.1", []byte("epoch: 1\n"), "netconfig: threshold 0"},
	}
	for _, tc := range tests {
		if _, err := DecodeEntry(tc.key, tc.val); err == nil || !containsAll(err.Error(), "registry: ", tc.want) {
			t.Errorf("DecodeEntry(%q, …) = %v; want %q", tc.key, err, tc.want)
		}
	}
	if _, err := DecodeEntry("epoch.1", b); err != nil {
		t.Fatalf("the rendered epoch: %v", err)
	}
}

// FuzzDecodeEntry: no input panics, and an accepted entry re-encodes to
// an entry that decodes to the same configuration.
func FuzzDecodeEntry(f *testing.F) {
	r, _ := fixture(f)
	for _, rule := range []Rule{feederRule("f12", "F12"), feederRule("f13", "F13")} {
		_, err := r.RequestRule(rule, nil)
		must(f, err)
	}
	_, err := r.PlanEpoch(context.Background(), PlanOptions{FirstRound: 8, Clock: Clock{Start: t0, Round: time.Minute}})
	must(f, err)
	b, err := r.RenderFile(1, nil)
	must(f, err)
	f.Add("epoch.1", b)
	f.Add("epoch.7", []byte("epoch: 7\nthreshold: 1\n"))
	f.Fuzz(func(t *testing.T, key string, val []byte) {
		n, err := DecodeEntry(key, val)
		if err != nil {
			return
		}
		again, err := n.Config.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := DecodeEntry(key, again); err != nil {
			t.Fatalf("accepted entry does not survive re-encoding: %v", err)
		}
	})
}
