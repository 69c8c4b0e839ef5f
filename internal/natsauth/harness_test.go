package natsauth

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/ppnet/ppnet/internal/natsx"
	"github.com/ppnet/ppnet/internal/netconfig"
)

// testNetwork: PPNs ppn1–ppn3 (t = w = 2), producers c1 and c2 with two
// meters each, consumer dso (rule r-dso on ppn1, ppn2) and consumer planner
// (rule r-planner on ppn2, ppn3). So ppn1 serves only dso, ppn3 only planner.
func testNetwork(t *testing.T) *netconfig.Network { return testNetworkF(t) }

func testNetworkF(t testing.TB) *netconfig.Network {
	t.Helper()
	cfg, _, err := netconfig.Generate(netconfig.Spec{PPNs: 3, Threshold: 2, W: 2, Meters: 4, Producers: 2,
		Start: time.Now(), Round: time.Second, Rounds: 4, Rules: []netconfig.RuleSpec{
			{ID: "r-dso", Consumer: "dso", Kind: netconfig.KindSum, Window: 1, Fraction: 1},
			{ID: "r-planner", Consumer: "planner", Kind: netconfig.KindSum, Window: 1, Fraction: 0.5},
		}}, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	n, err := cfg.Resolve()
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// secured is a running embedded server secured for a network.
type secured struct {
	net  *netconfig.Network
	keys *Keys
	srv  *server.Server
	tls  *tls.Config // client TLS, nil without
}

func startSecured(t *testing.T, n *netconfig.Network, serverTLS, clientTLS *tls.Config) *secured {
	t.Helper()
	k, err := Generate(n, "admin", rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	o := &server.Options{Host: "127.0.0.1", Port: -1, JetStream: true, StoreDir: t.TempDir(), NoSigs: true, NoLog: true}
	if err := ConfigureServer(o, n, &k.Users, serverTLS); err != nil {
		t.Fatal(err)
	}
	s, err := server.NewServer(o)
	if err != nil {
		t.Fatal(err)
	}
	s.Start()
	t.Cleanup(func() { s.Shutdown(); s.WaitForShutdown() })
	if !s.ReadyForConnections(10 * time.Second) {
		t.Fatal("server not ready")
	}
	return &secured{net: n, keys: k, srv: s, tls: clientTLS}
}

// client is a connection as one identity that records asynchronous errors
// (the server's permission violations arrive that way).
type client struct {
	id   Identity
	nc   *nats.Conn
	js   jetstream.JetStream
	errs chan error
}

func (s *secured) connect(t *testing.T, id Identity) *client {
	t.Helper()
	opts, err := s.keys.Client(id, s.tls)
	if err != nil {
		t.Fatal(err)
	}
	c := &client{id: id, errs: make(chan error, 64)}
	opts = append(opts, nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
		select {
		case c.errs <- err:
		default:
		}
	}))
	if c.nc, err = nats.Connect(s.srv.ClientURL(), opts...); err != nil {
		t.Fatalf("connect as %s: %v", id, err)
	}
	t.Cleanup(c.nc.Close)
	if c.js, err = jetstream.New(c.nc); err != nil {
		t.Fatal(err)
	}
	return c
}

// admin connects as the admin and declares the streams.
func (s *secured) admin(t *testing.T) *client {
	t.Helper()
	a := s.connect(t, Identity{RoleAdmin, "admin"})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := natsx.EnsureStreams(ctx, a.js, s.net); err != nil {
		t.Fatal(err)
	}
	return a
}

// refused runs act and requires the server to report a permissions
// violation for verb ("Publish" or "Subscription") on subject. act is
// cancelled once the violation arrives (a refused request would otherwise
// wait for its timeout). It returns act's error.
func (c *client) refused(t *testing.T, verb, subject string, act func(ctx context.Context) error) error {
	t.Helper()
	want := fmt.Sprintf("Permissions Violation for %s to %q", verb, subject)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- act(ctx) }()
	var seen []string
	for {
		select {
		case err := <-c.errs:
			if strings.Contains(err.Error(), want) {
				cancel()
				return <-done
			}
			seen = append(seen, err.Error())
		case <-ctx.Done():
			t.Fatalf("%s: no %q from the server (other errors: %q)", c.id, want, seen)
		}
	}
}

// refusedPrefix is [client.refused] for a subject known only up to a
// prefix (consumer create subjects carry a random consumer name).
func (c *client) refusedPrefix(t *testing.T, verb, prefix string, act func(ctx context.Context) error) error {
	t.Helper()
	want := fmt.Sprintf("Permissions Violation for %s to %q", verb, prefix)
	want = want[:len(want)-1] // open quote: any rest of the subject
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- act(ctx) }()
	var seen []string
	for {
		select {
		case err := <-c.errs:
			if strings.Contains(err.Error(), want) {
				cancel()
				return <-done
			}
			seen = append(seen, err.Error())
		case <-ctx.Done():
			t.Fatalf("%s: no %q… from the server (other errors: %q)", c.id, want, seen)
		}
	}
}
