package configurator

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nkeys"

	"github.com/ppnet/ppnet/internal/natsauth"
	"github.com/ppnet/ppnet/internal/natsx"
	"github.com/ppnet/ppnet/internal/netconfig"
)

// TestNATSConfigStandaloneServer: NKeys enrolled in the registry and
// `nats-config --epoch 1` give a file that a real nats-server, configured
// from files as in production, runs with: every role connects with its
// seed, does what it must, and is refused by the server what it must not.
func TestNATSConfigStandaloneServer(t *testing.T) {
	db := enrolled(t)
	mustRun(t, 0, "epoch", "plan", "--db", db, "--start", "2026-01-01T00:00:00Z", "--current-round", "0")
	dir := t.TempDir()
	auth := filepath.Join(dir, "ppnet-auth.conf")

	// Without NKeys there is nothing to render; the error says how to enrol.
	if out := mustRun(t, 1, "nats-config", "--db", db, "--epoch", "1", "--out", auth); !strings.Contains(out, "no NKey enrolled for producer/h1") || !strings.Contains(out, "nkeys set") {
		t.Fatalf("without nkeys: %q", out)
	}
	kps := map[natsauth.Identity]nkeys.KeyPair{}
	enrol := func(role natsauth.Role, id string) {
		kp, err := nkeys.CreateUser()
		if err != nil {
			t.Fatal(err)
		}
		kps[natsauth.Identity{Role: role, ID: id}] = kp
		if role == natsauth.RoleAdmin {
			return
		}
		pub, _ := kp.PublicKey()
		mustRun(t, 0, "nkeys", "set", "--db", db, "--role", string(role), "--id", id, "--nkey", pub)
	}
	for i := 1; i <= 6; i++ {
		enrol(natsauth.RoleProducer, fmt.Sprintf("h%d", i))
	}
	for i := 1; i <= 4; i++ {
		enrol(natsauth.RolePPN, fmt.Sprintf("ppn%d", i))
	}
	enrol(natsauth.RoleConsumer, "grid")
	enrol(natsauth.RoleAdmin, "admin1")
	seed, _ := kps[natsauth.Identity{Role: natsauth.RoleProducer, ID: "h1"}].Seed()
	if out := mustRun(t, 1, "nkeys", "set", "--db", db, "--role", "producer", "--id", "h2", "--nkey", string(seed)); !strings.Contains(out, "looks like a seed") {
		t.Fatalf("seed enrolled as a key: %q", out)
	}
	h1pub, _ := kps[natsauth.Identity{Role: natsauth.RoleProducer, ID: "h1"}].PublicKey()
	if out := mustRun(t, 1, "nkeys", "set", "--db", db, "--role", "producer", "--id", "h2", "--nkey", h1pub); !strings.Contains(out, "enrolled for producer h1") {
		t.Fatalf("shared nkey: %q", out)
	}
	adminPub, _ := kps[natsauth.Identity{Role: natsauth.RoleAdmin, ID: "admin1"}].PublicKey()
	mustRun(t, 0, "nats-config", "--db", db, "--epoch", "1", "--out", auth, "--admin-nkey", adminPub)

	// The server's own file: listen, JetStream, and the rendered users.
	main := filepath.Join(dir, "server.conf")
	conf := fmt.Sprintf("host: 127.0.0.1\nport: -1\njetstream {store_dir: %q}\ninclude \"ppnet-auth.conf\"\n", filepath.Join(dir, "js"))
	if err := os.WriteFile(main, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	opts, err := server.ProcessConfigFile(main)
	if err != nil {
		b, _ := os.ReadFile(auth)
		t.Fatalf("nats-server rejects the rendered file: %v\n%s", err, b)
	}
	opts.NoSigs, opts.NoLog = true, true
	srv, err := server.NewServer(opts)
	if err != nil {
		t.Fatal(err)
	}
	srv.Start()
	t.Cleanup(func() { srv.Shutdown(); srv.WaitForShutdown() })
	if !srv.ReadyForConnections(10 * time.Second) {
		t.Fatal("server not ready")
	}
	url := srv.ClientURL()
	if _, err := nats.Connect(url); err == nil || !strings.Contains(err.Error(), "Authorization Violation") {
		t.Fatalf("anonymous connection: %v, want an authorization violation", err)
	}

	// The admin declares the streams and publishes epoch 1 to ppnet_config.
	cfg, err := netconfig.Parse([]byte(mustRun(t, 0, "epoch", "show", "--db", db, "--network")))
	if err != nil {
		t.Fatal(err)
	}
	n, err := cfg.Resolve()
	if err != nil {
		t.Fatal(err)
	}
	admin := dialAs(t, url, natsauth.Identity{Role: natsauth.RoleAdmin, ID: "admin1"}, kps)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := natsx.EnsureStreams(ctx, admin.js, n); err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(dir, "admin.nk")
	if err := natsauth.WriteKeyFile(keyFile, natsauth.Identity{Role: natsauth.RoleAdmin, ID: "admin1"}, kps[natsauth.Identity{Role: natsauth.RoleAdmin, ID: "admin1"}]); err != nil {
		t.Fatal(err)
	}
	mustRun(t, 0, "epoch", "publish", "--db", db, "--current-round", "0", "--nats", url, "--nats-key", keyFile, "--nats-admin", "admin1")

	h1, _ := n.ProducerIndex("h1")
	h2, _ := n.ProducerIndex("h2")
	servesGrid := n.Config.PPNs[n.Rules[0].PPNs[0]].ID
	for _, tc := range []struct {
		id        natsauth.Identity
		allowed   func(ctx context.Context, c *conn) error
		forbidden string // a subject the role may not publish on
	}{
		{natsauth.Identity{Role: natsauth.RoleProducer, ID: "h1"}, func(ctx context.Context, c *conn) error {
			_, err := c.js.Publish(ctx, n.BundleSubject(h1), []byte("bundle"))
			return err
		}, n.BundleSubject(h2)},
		{natsauth.Identity{Role: natsauth.RolePPN, ID: servesGrid}, func(ctx context.Context, c *conn) error {
			_, err := c.js.Publish(ctx, n.AggregateSubject(0), []byte("aggregate"))
			return err
		}, n.BundleSubject(h1)},
		{natsauth.Identity{Role: natsauth.RoleConsumer, ID: "grid"}, nil, "$KV." + netconfig.Bucket + ".epoch.1"},
	} {
		t.Run(string(tc.id.Role), func(t *testing.T) {
			c := dialAs(t, url, tc.id, kps)
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			// Every role watches the configuration bucket.
			kv, err := c.js.KeyValue(ctx, netconfig.Bucket)
			if err != nil {
				t.Fatalf("%s binding %s: %v", tc.id, netconfig.Bucket, err)
			}
			w, err := kv.Watch(ctx, netconfig.EpochKeyPrefix+"*")
			if err != nil {
				t.Fatalf("%s watching: %v", tc.id, err)
			}
			defer w.Stop()
			for e := range w.Updates() {
				if e != nil {
					if _, err := netconfig.DecodeEntry(e.Key(), e.Value()); err != nil {
						t.Fatal(err)
					}
					break
				}
			}
			if tc.allowed != nil {
				if err := tc.allowed(ctx, c); err != nil {
					t.Fatalf("%s: allowed action failed: %v", tc.id, err)
				}
			}
			if err := c.nc.Publish(tc.forbidden, []byte("x")); err != nil {
				t.Fatal(err)
			}
			want := fmt.Sprintf("Permissions Violation for Publish to %q", tc.forbidden)
			for {
				select {
				case err := <-c.errs:
					if strings.Contains(err.Error(), want) {
						return
					}
				case <-ctx.Done():
					t.Fatalf("%s: the server did not refuse a publish on %s", tc.id, tc.forbidden)
				}
			}
		})
	}
}

type conn struct {
	nc   *nats.Conn
	js   jetstream.JetStream
	errs chan error
}

// dialAs connects as id with its NKey seed, collecting the server's
// asynchronous errors (permission violations arrive that way).
func dialAs(t *testing.T, url string, id natsauth.Identity, kps map[natsauth.Identity]nkeys.KeyPair) *conn {
	t.Helper()
	opts, err := natsauth.ClientOptions(id, kps[id], nil)
	if err != nil {
		t.Fatal(err)
	}
	c := &conn{errs: make(chan error, 64)}
	opts = append(opts, nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
		select {
		case c.errs <- err:
		default:
		}
	}))
	if c.nc, err = nats.Connect(url, opts...); err != nil {
		t.Fatalf("connect as %s: %v", id, err)
	}
	t.Cleanup(c.nc.Close)
	if c.js, err = jetstream.New(c.nc); err != nil {
		t.Fatal(err)
	}
	return c
}
