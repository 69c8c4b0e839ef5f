package natsauth

import (
	"context"
	"crypto/rand"
	"slices"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/ppnet/ppnet/internal/fddm/bulletin"
	"github.com/ppnet/ppnet/internal/netconfig"
	"github.com/ppnet/ppnet/internal/seal"
)

// fddmNetwork: testNetwork's roles, plus a billing consumer utility (a
// per-producer rule), and producer c1 as a FedAvg participant: component
// meters c1-c0, c1-c1 under sum rules fedavg-c0, fedavg-c1 of consumer
// fedavg (as fednet.AddRules lays them out).
func fddmNetwork(t *testing.T) *netconfig.Network {
	t.Helper()
	cfg, _, err := netconfig.Generate(netconfig.Spec{PPNs: 3, Threshold: 2, W: 2, Meters: 4, Producers: 2,
		Start: time.Now(), Round: time.Second, Rounds: 4, Rules: []netconfig.RuleSpec{
			{ID: "r-dso", Consumer: "dso", Kind: netconfig.KindSum, Window: 1, Fraction: 1},
			{ID: "r-planner", Consumer: "planner", Kind: netconfig.KindSum, Window: 1, Fraction: 0.5},
			{ID: "bill", Consumer: "utility", Kind: netconfig.KindPerProducer, Window: 4, Fraction: 1},
		}}, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	k, err := seal.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Consumers = append(cfg.Consumers, netconfig.Consumer{ID: "fedavg", PublicKey: seal.EncodeKey(k.PublicKey().Bytes())})
	for i := range cfg.Producers {
		if cfg.Producers[i].ID == "c1" {
			cfg.Producers[i].Meters = append(slices.Clip(cfg.Producers[i].Meters), "c1-c0", "c1-c1")
		}
	}
	for _, j := range []string{"0", "1"} {
		cfg.Rules = append(cfg.Rules, netconfig.Rule{ID: "fedavg-c" + j, Consumer: "fedavg", Kind: netconfig.KindSum,
			WindowRounds: 1, Meters: []string{"c1-c" + j}, PPNs: []string{"ppn1", "ppn2"}})
	}
	n, err := cfg.Resolve()
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestFDDMWriter: which consumers the rules make bulletin writers.
func TestFDDMWriter(t *testing.T) {
	n := fddmNetwork(t)
	for _, c := range []struct {
		id              string
		models, periods bool
	}{{"fedavg", true, false}, {"utility", false, true}, {"dso", false, false}, {"planner", false, false}, {"nobody", false, false}} {
		m, p := FDDMWriter(n, c.id)
		if m != c.models || p != c.periods {
			t.Errorf("%s: models %v periods %v, want %v %v", c.id, m, p, c.models, c.periods)
		}
	}
	// A rule named like a component rule whose meters are not the
	// component's meters gives no model write.
	for i := range n.Rules {
		if n.Rules[i].ID == "r-dso" {
			n.Rules[i].ID = "dso-c0"
		}
	}
	if m, _ := FDDMWriter(n, "dso"); m {
		t.Error("dso-c0 over ordinary meters made dso a model writer")
	}
}

// TestFDDMBulletinPermissions: producers watch the FDDM bulletin bucket
// (a model and a period close put by the admin arrive) but the server
// refuses their puts; the FedAvg coordinator may put model.* only, the
// billing consumer period.* only; other consumers and PPNs cannot even bind
// the bucket. The bucket ends up holding only the allowed puts.
func TestFDDMBulletinPermissions(t *testing.T) {
	s := startSecured(t, fddmNetwork(t), nil, nil)
	admin := s.admin(t)
	akv, err := bulletin.OpenBucket(ctx10(t), admin.js, "", 1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := akv.Put(ctx10(t), "model.0", []byte("admin model")); err != nil {
		t.Fatal(err)
	}
	bind := func(c *client) jetstream.KeyValue {
		t.Helper()
		kv, err := c.js.KeyValue(ctx10(t), bulletin.Bucket)
		if err != nil {
			t.Fatalf("%s binding %s: %v", c.id, bulletin.Bucket, err)
		}
		return kv
	}
	put := func(kv jetstream.KeyValue, key string) func(ctx context.Context) error {
		return func(ctx context.Context) error {
			_, err := kv.Put(ctx, key, []byte("put "+key))
			return err
		}
	}
	subj := func(key string) string { return "$KV." + bulletin.Bucket + "." + key }

	t.Run("producer watches, cannot put", func(t *testing.T) {
		c := s.connect(t, Identity{RoleProducer, "c1"})
		kv := bind(c)
		ctx := ctx10(t)
		w, err := kv.WatchAll(ctx)
		if err != nil {
			t.Fatalf("watching: %v", err)
		}
		defer w.Stop()
		seen := map[string]bool{}
		closed := false
		for !seen["model.0"] || !seen["period.2026-03"] {
			select {
			case e := <-w.Updates():
				if e == nil && !closed {
					closed = true
					if _, err := akv.Put(ctx, "period.2026-03", []byte("admin close")); err != nil {
						t.Fatal(err)
					}
				}
				if e != nil {
					seen[e.Key()] = true
				}
			case <-ctx.Done():
				t.Fatalf("producer saw only %v", seen)
			}
		}
		mustFail(t, "producer model put", c.refused(t, "Publish", subj("model.1"), put(kv, "model.1")))
		mustFail(t, "producer close put", c.refused(t, "Publish", subj("period.2026-04"), put(kv, "period.2026-04")))
	})
	t.Run("coordinator puts models only", func(t *testing.T) {
		c := s.connect(t, Identity{RoleConsumer, "fedavg"})
		kv := bind(c)
		if err := put(kv, "model.1")(ctx10(t)); err != nil {
			t.Fatalf("coordinator's model put: %v", err)
		}
		mustFail(t, "coordinator close put", c.refused(t, "Publish", subj("period.2026-05"), put(kv, "period.2026-05")))
	})
	t.Run("billing puts period closes only", func(t *testing.T) {
		c := s.connect(t, Identity{RoleConsumer, "utility"})
		kv := bind(c)
		if err := put(kv, "period.2026-06")(ctx10(t)); err != nil {
			t.Fatalf("billing's close put: %v", err)
		}
		mustFail(t, "billing model put", c.refused(t, "Publish", subj("model.2"), put(kv, "model.2")))
	})
	for _, id := range []Identity{{RoleConsumer, "dso"}, {RolePPN, "ppn1"}} {
		t.Run(id.String()+" cannot bind", func(t *testing.T) {
			c := s.connect(t, id)
			err := c.refused(t, "Publish", "$JS.API.STREAM.INFO.KV_"+bulletin.Bucket, func(ctx context.Context) error {
				_, err := c.js.KeyValue(ctx, bulletin.Bucket)
				return err
			})
			mustFail(t, id.String()+" bind", err)
		})
	}
	keys, err := akv.Keys(ctx10(t))
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(keys)
	if want := []string{"model.0", "model.1", "period.2026-03", "period.2026-06"}; !slices.Equal(keys, want) {
		t.Fatalf("bucket holds %q, want %q", keys, want)
	}
}
