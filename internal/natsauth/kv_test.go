package natsauth

import (
	"context"
	"testing"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/ppnet/ppnet/internal/netconfig"
)

// TestRolesWatchConfigButCannotPut: every role binds the configuration
// bucket and watches its epoch keys (the admin's put arrives, and a later
// one too), but the server refuses each role's put and bucket creation.
func TestRolesWatchConfigButCannotPut(t *testing.T) {
	s := startSecured(t, testNetwork(t), nil, nil)
	admin := s.admin(t)
	kv, err := admin.js.CreateKeyValue(ctx10(t), jetstream.KeyValueConfig{Bucket: netconfig.Bucket, History: 8})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kv.Put(ctx10(t), netconfig.EpochKey(1), []byte("epoch 1")); err != nil {
		t.Fatal(err)
	}
	for _, id := range []Identity{{RoleProducer, "c1"}, {RolePPN, "ppn1"}, {RoleConsumer, "dso"}} {
		t.Run(string(id.Role), func(t *testing.T) {
			c := s.connect(t, id)
			ctx := ctx10(t)
			rkv, err := c.js.KeyValue(ctx, netconfig.Bucket)
			if err != nil {
				t.Fatalf("%s binding the bucket: %v", id, err)
			}
			w, err := rkv.Watch(ctx, netconfig.EpochKeyPrefix+"*")
			if err != nil {
				t.Fatalf("%s watching: %v", id, err)
			}
			defer w.Stop()
			next := func() jetstream.KeyValueEntry {
				t.Helper()
				for {
					select {
					case e := <-w.Updates():
						if e != nil {
							return e
						}
					case <-ctx.Done():
						t.Fatalf("%s: no entry: %v", id, ctx.Err())
					}
				}
			}
			if e := next(); e.Key() != "epoch.1" {
				t.Fatalf("%s saw %s=%q", id, e.Key(), e.Value())
			}
			again := "epoch 1 again, for " + id.String()
			if _, err := kv.Put(ctx, netconfig.EpochKey(1), []byte(again)); err != nil {
				t.Fatal(err)
			}
			if e := next(); string(e.Value()) != again {
				t.Fatalf("%s saw %s=%q after the re-put", id, e.Key(), e.Value())
			}
			err = c.refused(t, "Publish", "$KV.ppnet_config.epoch.2", func(ctx context.Context) error {
				_, err := rkv.Put(ctx, "epoch.2", []byte("forged epoch"))
				return err
			})
			mustFail(t, string(id.Role)+" put", err)
			err = c.refused(t, "Publish", "$JS.API.STREAM.CREATE.KV_mine", func(ctx context.Context) error {
				_, err := c.js.CreateStream(ctx, jetstream.StreamConfig{Name: "KV_mine", Subjects: []string{"$KV.mine.>"}})
				return err
			})
			mustFail(t, string(id.Role)+" bucket create", err)
		})
	}
	if ent, err := kv.Get(ctx10(t), "epoch.2"); err == nil {
		t.Fatalf("a role's put landed: %q", ent.Value())
	}
}
