package daemon

import (
	"context"
	"crypto/rand"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/ppnet/ppnet/internal/natsauth"
	"github.com/ppnet/ppnet/internal/netconfig"
)

// TestDialSecuredEmbedded runs the embedded server from a users file: the
// streams are declared (by the one-off admin), the role connects as its
// own user and sees the stream only through what its permissions allow,
// another identity's key is refused at start, and the server files are
// refused with an external URL.
func TestDialSecuredEmbedded(t *testing.T) {
	cfg, _, err := netconfig.Generate(netconfig.Spec{PPNs: 3, Threshold: 2, W: 2, Meters: 4, Producers: 2,
		Start: time.Now(), Round: time.Second, Rounds: 4, Rules: []netconfig.RuleSpec{
			{ID: "r-dso", Consumer: "dso", Kind: netconfig.KindSum, Window: 1, Fraction: 1},
		}}, rand.Reader)
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
	kd := filepath.Join(t.TempDir(), "nats")
	if err := keys.WriteFiles(kd); err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	c1 := natsauth.Identity{Role: natsauth.RoleProducer, ID: cfg.Producers[0].ID}
	ppn := natsauth.Identity{Role: natsauth.RolePPN, ID: cfg.PPNs[0].ID}
	users := filepath.Join(kd, "users.yaml")
	dial := func(url string, key string) (*NATS, error) {
		return DialNATS(Dial{URL: url, DataDir: t.TempDir(), Port: -1, Name: "test", Log: log, Identity: c1,
			Auth:    NATSAuth{ClientFiles: natsauth.ClientFiles{Key: key}, ServerFiles: natsauth.ServerFiles{Users: users}},
			Network: n, Rand: rand.Reader})
	}
	nc, err := dial("", natsauth.KeyFileName(kd, c1))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	if !nc.StreamsDeclared {
		t.Fatal("streams not declared by the secured embedded server")
	}
	js, err := jetstream.New(nc.Conn)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := js.Publish(ctx, "ppnet.bundle."+c1.ID, []byte("x")); err != nil {
		t.Fatalf("producer publish on its own subject: %v", err)
	}
	ictx, icancel := context.WithTimeout(ctx, time.Second) // refused: the request gets no reply
	defer icancel()
	if _, err := js.Stream(ictx, "PPNET_BUNDLES"); err == nil {
		t.Fatal("producer read stream info")
	}

	tests := []struct {
		name, url, key, want string
	}{
		{"other identity's key", "", natsauth.KeyFileName(kd, ppn), "refuses " + c1.String() + " its own inbox"},
		{"no key", "", "", "has no --nats-key"},
		{"server files with --nats", nc.Embedded.ClientURL(), natsauth.KeyFileName(kd, c1), "drop them"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := dial(tc.url, tc.key)
			if err == nil {
				got.Close()
				t.Fatal("accepted")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q, want %q", err, tc.want)
			}
		})
	}
}
