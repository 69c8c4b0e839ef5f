package configurator

import (
	"bytes"
	"context"
	"crypto/rand"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/ppnet/ppnet/internal/natsauth"
	"github.com/ppnet/ppnet/internal/natsx"
	"github.com/ppnet/ppnet/internal/netconfig"
	"github.com/ppnet/ppnet/internal/registry"
)

// run runs the configurator in-process and returns its exit code and
// output.
func run(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := Main(context.Background(), args, &Env{Stdout: &out, Stderr: &errb})
	return code, out.String(), errb.String()
}

// mustRun runs the configurator and fails unless it exits with want.
func mustRun(t *testing.T, want int, args ...string) string {
	t.Helper()
	code, out, errs := run(t, args...)
	if code != want {
		t.Fatalf("configurator %s: exit %d, want %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), code, want, out, errs)
	}
	return out + errs
}

var testKeys = []string{
	"PKyg7m66rhHoOLUAN6xJpb99U0V28HcTKGqMefanzAg=", "01GeC3s5F0jttYJpjRIirRVBUBMrih6rTIjvvKprH0o=",
	"iwucOZTIccQ0WWXhbED7Ikbi/UxpDTtZ7w4gMFz0exw=", "VWhESZPpDhqnWDUmtt8wpzVu/+fm+1c2SwQk2l4jqnk=",
	"VkMMOvk5SfAWsJQ/R3gdUa3lJAm0jIdLpDh6bbBU/B0=", "gajt+qQTxe2ThBX0GD0JOkqeO0bdWD0Xr1Hk9qviYBc=",
	"bKq3tkOj1T5/oLnbqa1+VlfAPAy6UtvwV9CxPWBOaAY=", "R2Hj0gH7LtZiCbFYgjxIDx2YcfEheZyclFyXZUp+d1g=",
	"DSLGfDHLc7i/qmOXBXwrrlHteOSyWmKtMdYy4qdDyRg=", "myv7mV6ZdJMcIbRuc0WQPbYceswqySZs6cvhwWGOCzI=",
}

// enrolled returns a registry path with six meters on two feeders, four
// PPNs, a grid consumer and hourly feeder rules.
func enrolled(t *testing.T) string {
	t.Helper()
	db := filepath.Join(t.TempDir(), "reg.db")
	for i, f := range []string{"F12", "F12", "F12", "F13", "F13", "F13"} {
		mustRun(t, 0, "producers", "add", "--db", db, "--id", "h"+string(rune('1'+i)), "--label", "feeder="+f, "--max", "5000", "--public-key", testKeys[i])
	}
	for i := range 4 {
		mustRun(t, 0, "ppns", "add", "--db", db, "--id", "ppn"+string(rune('1'+i)), "--x", string(rune('1'+i)), "--capacity", "20", "--public-key", testKeys[6+i])
	}
	mustRun(t, 0, "consumers", "add", "--db", db, "--id", "grid", "--kinds", "sum", "--min-window", "4", "--min-cohort", "3", "--public-key", "v7txVXVkgMcWSj0CEJ+aYXYrp7YG/Pi2M4Pw0KBu6FI=")
	for _, f := range []string{"F12", "F13"} {
		mustRun(t, 0, "rules", "request", "--db", db, "--id", strings.ToLower(f), "--consumer", "grid", "--selector", "feeder="+f, "--window", "4", "--kind", "sum")
	}
	return db
}

func TestRegistryExitCodes(t *testing.T) {
	db := enrolled(t)
	tests := []struct {
		name string
		code int
		args []string
		want string
	}{
		{"leak refused", 3, []string{"rules", "request", "--id", "x", "--consumer", "grid", "--selector", "feeder=F12", "--ids", "h4", "--window", "4", "--kind", "sum"}, `"accepted": false`},
		{"cohort refused", 3, []string{"rules", "request", "--id", "x", "--consumer", "grid", "--ids", "h1,h2", "--window", "4", "--kind", "sum"}, "minimum cohort 3"},
		{"duplicate", 1, []string{"producers", "add", "--id", "h1", "--max", "1", "--public-key", testKeys[0]}, "already enrolled"},
		{"missing flag", 2, []string{"ppns", "add", "--id", "p"}, "--x is required"},
		{"bad band", 2, []string{"rules", "request", "--id", "x", "--consumer", "grid", "--ids", "h1", "--window", "4", "--kind", "sum", "--band", "7"}, "write from-to"},
		{"unknown verb", 2, []string{"epoch", "frob"}, `unknown verb "frob"`},
		{"bad solver", 2, []string{"epoch", "plan", "--solver", "cplex"}, `--solver "cplex"`},
		{"bad start", 2, []string{"epoch", "plan", "--start", "yesterday"}, "not an RFC 3339 time"},
		{"past round", 1, []string{"epoch", "plan", "--start", "2026-01-01T00:00:00Z", "--current-round", "10", "--first-round", "8"}, "first round 8 is not in the future (current round 10); use 12 or later"},
		{"unknown epoch", 1, []string{"epoch", "show", "--epoch", "9"}, "no epoch 9; epoch show lists the newest"},
	}
	if out := mustRun(t, 2, "epoch"); !strings.Contains(out, "usage: configurator epoch <verb>") {
		t.Fatalf("epoch without a verb: %q", out)
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out := mustRun(t, tc.code, append(tc.args, "--db", db)...)
			if !strings.Contains(out, tc.want) {
				t.Fatalf("output %q; want %q", out, tc.want)
			}
		})
	}
}

// TestEpochPublishLoads renders an epoch with --out and loads it with
// netconfig's own loader, as the data-plane roles do.
func TestEpochPublishLoads(t *testing.T) {
	db := enrolled(t)
	mustRun(t, 0, "epoch", "plan", "--db", db, "--start", "2026-01-01T00:00:00Z", "--round", "1m", "--current-round", "3", "--t", "2", "--w", "3")
	path := filepath.Join(t.TempDir(), "network.yaml")
	mustRun(t, 0, "epoch", "publish", "--db", db, "--current-round", "3", "--out", path, "--replicas", "3")
	n, err := netconfig.Load(path)
	if err != nil {
		t.Fatalf("netconfig rejects the published epoch: %v", err)
	}
	c := n.Config
	if c.Epoch != 1 || c.Threshold != 2 || len(n.Rules) != 2 || len(n.Meters) != 6 || c.Streams.Replicas != 3 || c.MaxReading != 5000 {
		t.Fatalf("loaded epoch %d, t = %d, %d rules, %d meters, replicas %d, max %d", c.Epoch, c.Threshold, len(n.Rules), len(n.Meters), c.Streams.Replicas, c.MaxReading)
	}
	if want := time.Date(2026, 1, 1, 0, 4, 0, 0, time.UTC); !c.Rounds.Start.Equal(want) {
		t.Fatalf("round 0 of the file starts %v; want global round 4 at %v", c.Rounds.Start, want)
	}
	for _, r := range n.Rules {
		if len(r.PPNs) != 3 {
			t.Fatalf("rule %s has %d PPNs; want w = 3", r.ID, len(r.PPNs))
		}
	}
}

// TestEpochPublishNATS publishes with --nats to a real embedded server and
// reads the entry back from the bucket.
func TestEpochPublishNATS(t *testing.T) {
	db := enrolled(t)
	srv, err := natsx.StartServer(natsx.ServerOptions{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { srv.Shutdown(); srv.WaitForShutdown() }()
	mustRun(t, 0, "epoch", "plan", "--db", db, "--start", "2026-01-01T00:00:00Z", "--current-round", "0")
	out := mustRun(t, 0, "epoch", "publish", "--db", db, "--current-round", "0", "--nats", srv.ClientURL())
	if !strings.Contains(out, "epoch 1 published to ppnet_config key epoch.1") {
		t.Fatalf("publish said %q", out)
	}
	nc, err := nats.Connect(srv.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	kv, err := js.KeyValue(ctx, registry.DefaultBucket)
	if err != nil {
		t.Fatal(err)
	}
	ent, err := kv.Get(ctx, "epoch.1")
	if err != nil {
		t.Fatal(err)
	}
	n, err := registry.DecodeEntry(ent.Key(), ent.Value())
	if err != nil {
		t.Fatalf("the published entry does not decode: %v", err)
	}
	if n.Config.Epoch != 1 || len(n.Rules) != 2 {
		t.Fatalf("entry holds epoch %d with %d rules", n.Config.Epoch, len(n.Rules))
	}
	if _, _, errs := run(t, "epoch", "publish", "--db", db, "--current-round", "0", "--nats", "nats://127.0.0.1:1"); !strings.Contains(errs, "check --nats") {
		t.Fatalf("unreachable server: %q", errs)
	}
}

// TestEpochPublishSecured publishes to a server with NKey users and the
// per-role permissions of internal/natsauth: the admin's key file works,
// no key and a PPN's key are refused.
func TestEpochPublishSecured(t *testing.T) {
	db := enrolled(t)
	mustRun(t, 0, "epoch", "plan", "--db", db, "--start", "2026-01-01T00:00:00Z", "--current-round", "0")
	cfg, err := netconfig.Parse([]byte(mustRun(t, 0, "epoch", "show", "--db", db, "--network")))
	if err != nil {
		t.Fatal(err)
	}
	n, err := cfg.Resolve()
	if err != nil {
		t.Fatal(err)
	}
	keys, err := natsauth.Generate(n, "admin", rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := keys.WriteFiles(dir); err != nil {
		t.Fatal(err)
	}
	opts := &server.Options{Host: "127.0.0.1", Port: -1, JetStream: true, StoreDir: t.TempDir(), NoSigs: true, NoLog: true}
	if err := natsauth.ConfigureServer(opts, n, &keys.Users, nil); err != nil {
		t.Fatal(err)
	}
	srv, err := server.NewServer(opts)
	if err != nil {
		t.Fatal(err)
	}
	srv.Start()
	defer func() { srv.Shutdown(); srv.WaitForShutdown() }()
	if !srv.ReadyForConnections(10 * time.Second) {
		t.Fatal("server not ready")
	}
	url := srv.ClientURL()
	if out := mustRun(t, 1, "epoch", "publish", "--db", db, "--current-round", "0", "--nats", url); !strings.Contains(out, "Authorization Violation") {
		t.Fatalf("publish without a key: %q", out)
	}
	ppnKey := natsauth.KeyFileName(dir, natsauth.Identity{Role: natsauth.RolePPN, ID: "ppn1"})
	if out := mustRun(t, 1, "epoch", "publish", "--db", db, "--current-round", "0", "--nats", url, "--nats-key", ppnKey, "--nats-admin", "ppn1", "--timeout", "2s"); !strings.Contains(out, "Permissions Violation") || !strings.Contains(out, "registry: key-value bucket") {
		t.Fatalf("publish with a PPN's key: %q", out)
	}
	adminKey := natsauth.KeyFileName(dir, natsauth.Identity{Role: natsauth.RoleAdmin, ID: "admin"})
	if out := mustRun(t, 0, "epoch", "publish", "--db", db, "--current-round", "0", "--nats", url, "--nats-key", adminKey); !strings.Contains(out, "key epoch.1") {
		t.Fatalf("publish as admin: %q", out)
	}
}
