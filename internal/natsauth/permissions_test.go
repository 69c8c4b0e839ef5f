package natsauth

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

func ctx10(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// publish is a core publish flushed to the server.
func publish(nc *nats.Conn, subject string) func(context.Context) error {
	return func(ctx context.Context) error {
		if err := nc.Publish(subject, []byte("x")); err != nil {
			return err
		}
		return nc.FlushWithContext(ctx)
	}
}

// subscribe is a core subscription flushed to the server.
func subscribe(nc *nats.Conn, subject string) func(context.Context) error {
	return func(ctx context.Context) error {
		if _, err := nc.SubscribeSync(subject); err != nil {
			return err
		}
		return nc.FlushWithContext(ctx)
	}
}

// readOne reads the first message of stream through an ordered consumer.
func readOne(ctx context.Context, js jetstream.JetStream, stream string, filter ...string) (jetstream.Msg, error) {
	oc, err := js.OrderedConsumer(ctx, stream, jetstream.OrderedConsumerConfig{FilterSubjects: filter})
	if err != nil {
		return nil, err
	}
	return oc.Next(jetstream.FetchContext(ctx))
}

// mustFail asserts that a refused action also failed from the client's
// point of view: a JetStream request that the server dropped must not
// report success.
func mustFail(t *testing.T, what string, err error) {
	t.Helper()
	if err == nil {
		t.Fatalf("%s: succeeded, want refused", what)
	}
}

func TestProducerPermissions(t *testing.T) {
	s := startSecured(t, testNetwork(t), nil, nil)
	admin := s.admin(t)
	c1 := s.connect(t, Identity{RoleProducer, "c1"})

	// Allowed: publish its own bundle with a JetStream acknowledgement.
	ack, err := c1.js.Publish(ctx10(t), "ppnet.bundle.c1", []byte("bundle"), jetstream.WithMsgID("b.1.c1.0.0"))
	if err != nil {
		t.Fatalf("producer c1 publishing its own bundle: %v", err)
	}
	if ack.Stream != "PPNET_BUNDLES" {
		t.Fatalf("ack from stream %q", ack.Stream)
	}

	tests := []struct {
		name, verb, subject string
		act                 func(context.Context) error
		js                  bool // a JetStream request: the client must see it fail
	}{
		{"publish as another producer", "Publish", "ppnet.bundle.c2", publish(c1.nc, "ppnet.bundle.c2"), false},
		{"JetStream publish as another producer", "Publish", "ppnet.bundle.c2", func(ctx context.Context) error {
			_, err := c1.js.Publish(ctx, "ppnet.bundle.c2", []byte("forged"))
			return err
		}, true},
		{"seal a round", "Publish", "ppnet.seal", publish(c1.nc, "ppnet.seal"), false},
		{"publish an aggregate", "Publish", "ppnet.agg.dso", publish(c1.nc, "ppnet.agg.dso"), false},
		{"subscribe to the bundle subjects", "Subscription", "ppnet.bundle.>", subscribe(c1.nc, "ppnet.bundle.>"), false},
		{"subscribe to another's inbox", "Subscription", "_INBOX.producer.c2.>", subscribe(c1.nc, "_INBOX.producer.c2.>"), false},
		{"read the bundle stream", "Publish", "$JS.API.CONSUMER.CREATE.PPNET_BUNDLES.*", nil, true},
		{"stream info", "Publish", "$JS.API.STREAM.INFO.PPNET_BUNDLES", func(ctx context.Context) error {
			_, err := c1.js.Stream(ctx, "PPNET_BUNDLES")
			return err
		}, true},
		{"delete the bundle stream", "Publish", "$JS.API.STREAM.DELETE.PPNET_BUNDLES", func(ctx context.Context) error {
			return c1.js.DeleteStream(ctx, "PPNET_BUNDLES")
		}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			act, subject := tc.act, tc.subject
			if act == nil { // the create subject carries a random consumer name
				act = func(ctx context.Context) error { _, err := readOne(ctx, c1.js, "PPNET_BUNDLES"); return err }
				subject = ""
			}
			if subject == "" {
				err := c1.refusedPrefix(t, "Publish", "$JS.API.CONSUMER.CREATE.PPNET_BUNDLES.", act)
				mustFail(t, tc.name, err)
				return
			}
			err := c1.refused(t, tc.verb, subject, act)
			if tc.js {
				mustFail(t, tc.name, err)
			}
		})
	}
	checkStream(t, admin, "PPNET_BUNDLES", []string{"ppnet.bundle.c1"})
}

func TestPPNPermissions(t *testing.T) {
	s := startSecured(t, testNetwork(t), nil, nil)
	admin := s.admin(t)
	c1 := s.connect(t, Identity{RoleProducer, "c1"})
	ppn1 := s.connect(t, Identity{RolePPN, "ppn1"})
	if _, err := c1.js.Publish(ctx10(t), "ppnet.bundle.c1", []byte("bundle")); err != nil {
		t.Fatal(err)
	}

	// Allowed: read the bundle stream through an ordered consumer, seal,
	// and publish an aggregate for a consumer whose rule it serves.
	m, err := readOne(ctx10(t), ppn1.js, "PPNET_BUNDLES")
	if err != nil {
		t.Fatalf("ppn1 reading the bundle stream: %v", err)
	}
	if m.Subject() != "ppnet.bundle.c1" || string(m.Data()) != "bundle" {
		t.Fatalf("ppn1 read %s %q", m.Subject(), m.Data())
	}
	for _, subj := range []string{"ppnet.seal", "ppnet.agg.dso"} {
		if _, err := ppn1.js.Publish(ctx10(t), subj, []byte("ppn1")); err != nil {
			t.Fatalf("ppn1 publishing on %s: %v", subj, err)
		}
	}
	// Allowed: deleting a consumer on the bundle stream, as an ordered
	// consumer does with its previous one when it resets.
	oc, err := ppn1.js.OrderedConsumer(ctx10(t), "PPNET_BUNDLES", jetstream.OrderedConsumerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	name := oc.CachedInfo().Name
	if err := ppn1.js.DeleteConsumer(ctx10(t), "PPNET_BUNDLES", name); err != nil {
		t.Fatalf("ppn1 deleting its consumer %s: %v", name, err)
	}

	tests := []struct {
		name, verb, subject string
		act                 func(context.Context) error
		js                  bool
	}{
		{"aggregate for a consumer it does not serve", "Publish", "ppnet.agg.planner", func(ctx context.Context) error {
			_, err := ppn1.js.Publish(ctx, "ppnet.agg.planner", []byte("forged"))
			return err
		}, true},
		{"publish a bundle", "Publish", "ppnet.bundle.c1", publish(ppn1.nc, "ppnet.bundle.c1"), false},
		{"subscribe to aggregates", "Subscription", "ppnet.agg.>", subscribe(ppn1.nc, "ppnet.agg.>"), false},
		{"subscribe to another PPN's inbox", "Subscription", "_INBOX.ppn.ppn2.>", subscribe(ppn1.nc, "_INBOX.ppn.ppn2.>"), false},
		{"list consumers", "Publish", "$JS.API.CONSUMER.NAMES.PPNET_BUNDLES", func(ctx context.Context) error {
			_, err := ppn1.nc.RequestWithContext(ctx, "$JS.API.CONSUMER.NAMES.PPNET_BUNDLES", nil)
			return err
		}, true},
		{"stream info", "Publish", "$JS.API.STREAM.INFO.PPNET_BUNDLES", func(ctx context.Context) error {
			_, err := ppn1.js.Stream(ctx, "PPNET_BUNDLES")
			return err
		}, true},
		{"delete the bundle stream", "Publish", "$JS.API.STREAM.DELETE.PPNET_BUNDLES", func(ctx context.Context) error {
			return ppn1.js.DeleteStream(ctx, "PPNET_BUNDLES")
		}, true},
		{"purge the bundle stream", "Publish", "$JS.API.STREAM.PURGE.PPNET_BUNDLES", func(ctx context.Context) error {
			_, err := ppn1.nc.RequestWithContext(ctx, "$JS.API.STREAM.PURGE.PPNET_BUNDLES", nil)
			return err
		}, true},
		{"delete the aggregate stream", "Publish", "$JS.API.STREAM.DELETE.PPNET_AGGREGATES", func(ctx context.Context) error {
			return ppn1.js.DeleteStream(ctx, "PPNET_AGGREGATES")
		}, true},
		{"delete a consumer on the aggregate stream", "Publish", "$JS.API.CONSUMER.DELETE.PPNET_AGGREGATES.x", func(ctx context.Context) error {
			return ppn1.js.DeleteConsumer(ctx, "PPNET_AGGREGATES", "x")
		}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := ppn1.refused(t, tc.verb, tc.subject, tc.act)
			if tc.js {
				mustFail(t, tc.name, err)
			}
		})
	}
	t.Run("read the aggregate stream", func(t *testing.T) {
		err := ppn1.refusedPrefix(t, "Publish", "$JS.API.CONSUMER.CREATE.PPNET_AGGREGATES.", func(ctx context.Context) error {
			_, err := readOne(ctx, ppn1.js, "PPNET_AGGREGATES", "ppnet.agg.dso")
			return err
		})
		mustFail(t, "ppn1 reading aggregates", err)
	})
	checkStream(t, admin, "PPNET_BUNDLES", []string{"ppnet.bundle.c1", "ppnet.seal"})
	checkStream(t, admin, "PPNET_AGGREGATES", []string{"ppnet.agg.dso"})
}

func TestConsumerPermissions(t *testing.T) {
	s := startSecured(t, testNetwork(t), nil, nil)
	admin := s.admin(t)
	ppn2 := s.connect(t, Identity{RolePPN, "ppn2"}) // serves both consumers
	dso := s.connect(t, Identity{RoleConsumer, "dso"})
	for _, subj := range []string{"ppnet.agg.planner", "ppnet.agg.dso"} {
		if _, err := ppn2.js.Publish(ctx10(t), subj, []byte("for "+subj)); err != nil {
			t.Fatalf("ppn2 publishing on %s: %v", subj, err)
		}
	}

	// Allowed: an ordered consumer filtered on its own aggregate subject.
	m, err := readOne(ctx10(t), dso.js, "PPNET_AGGREGATES", "ppnet.agg.dso")
	if err != nil {
		t.Fatalf("dso reading its aggregates: %v", err)
	}
	if string(m.Data()) != "for ppnet.agg.dso" {
		t.Fatalf("dso read %q", m.Data())
	}

	t.Run("read another consumer's aggregates", func(t *testing.T) {
		err := dso.refusedPrefix(t, "Publish", "$JS.API.CONSUMER.CREATE.PPNET_AGGREGATES.", func(ctx context.Context) error {
			_, err := readOne(ctx, dso.js, "PPNET_AGGREGATES", "ppnet.agg.planner")
			return err
		})
		mustFail(t, "dso reading planner's aggregates", err)
	})
	t.Run("read the whole aggregate stream", func(t *testing.T) {
		err := dso.refusedPrefix(t, "Publish", "$JS.API.CONSUMER.CREATE.PPNET_AGGREGATES.", func(ctx context.Context) error {
			_, err := readOne(ctx, dso.js, "PPNET_AGGREGATES")
			return err
		})
		mustFail(t, "dso reading every aggregate", err)
	})
	t.Run("read the bundle stream", func(t *testing.T) {
		err := dso.refusedPrefix(t, "Publish", "$JS.API.CONSUMER.CREATE.PPNET_BUNDLES.", func(ctx context.Context) error {
			_, err := readOne(ctx, dso.js, "PPNET_BUNDLES")
			return err
		})
		mustFail(t, "dso reading bundles", err)
	})
	t.Run("subscribe to aggregates directly", func(t *testing.T) {
		dso.refused(t, "Subscription", "ppnet.agg.dso", subscribe(dso.nc, "ppnet.agg.dso"))
	})
	t.Run("publish an aggregate", func(t *testing.T) {
		dso.refused(t, "Publish", "ppnet.agg.dso", publish(dso.nc, "ppnet.agg.dso"))
	})
	t.Run("delete the aggregate stream", func(t *testing.T) {
		err := dso.refused(t, "Publish", "$JS.API.STREAM.DELETE.PPNET_AGGREGATES", func(ctx context.Context) error {
			return dso.js.DeleteStream(ctx, "PPNET_AGGREGATES")
		})
		mustFail(t, "dso deleting the stream", err)
	})
	t.Run("delete a consumer on the bundle stream", func(t *testing.T) {
		err := dso.refused(t, "Publish", "$JS.API.CONSUMER.DELETE.PPNET_BUNDLES.x", func(ctx context.Context) error {
			return dso.js.DeleteConsumer(ctx, "PPNET_BUNDLES", "x")
		})
		mustFail(t, "dso deleting a bundle consumer", err)
	})

	// The create subject it may use names its own filter; a request body
	// asking for another consumer's subject is refused by the server.
	t.Run("filter in the body differs from the subject", func(t *testing.T) {
		req, _ := json.Marshal(map[string]any{"stream_name": "PPNET_AGGREGATES", "config": map[string]any{
			"name": "sneak", "filter_subject": "ppnet.agg.planner", "ack_policy": "none"}})
		msg, err := dso.nc.RequestWithContext(ctx10(t), "$JS.API.CONSUMER.CREATE.PPNET_AGGREGATES.sneak.ppnet.agg.dso", req)
		if err != nil {
			t.Fatal(err)
		}
		var resp struct {
			Error *struct {
				Code        int    `json:"code"`
				Description string `json:"description"`
			} `json:"error"`
		}
		if err := json.Unmarshal(msg.Data, &resp); err != nil {
			t.Fatal(err)
		}
		if resp.Error == nil || !strings.Contains(resp.Error.Description, "filter") {
			t.Fatalf("server created a consumer on another filter: %s", msg.Data)
		}
	})
	checkStream(t, admin, "PPNET_AGGREGATES", []string{"ppnet.agg.planner", "ppnet.agg.dso"})
}

func TestAnonymousAndUnknownRefused(t *testing.T) {
	s := startSecured(t, testNetwork(t), nil, nil)
	if nc, err := nats.Connect(s.srv.ClientURL()); err == nil {
		nc.Close()
		t.Fatal("anonymous client connected")
	} else if !errors.Is(err, nats.ErrAuthorization) {
		t.Fatalf("anonymous client: %v, want an authorization violation", err)
	}
	stranger, err := NewUserKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	opts, err := ClientOptions(Identity{RoleProducer, "c1"}, stranger, nil)
	if err != nil {
		t.Fatal(err)
	}
	if nc, err := nats.Connect(s.srv.ClientURL(), opts...); err == nil {
		nc.Close()
		t.Fatal("client with an unenrolled key connected")
	} else if !errors.Is(err, nats.ErrAuthorization) {
		t.Fatalf("unenrolled key: %v, want an authorization violation", err)
	}
}

// checkStream asserts, as the admin, the subjects of every message in a
// stream, in order: refused publishes left nothing behind.
func checkStream(t *testing.T, admin *client, stream string, want []string) {
	t.Helper()
	ctx := ctx10(t)
	st, err := admin.js.Stream(ctx, stream)
	if err != nil {
		t.Fatal(err)
	}
	info, err := st.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for seq := uint64(1); seq <= info.State.LastSeq; seq++ {
		m, err := st.GetMsg(ctx, seq)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, m.Subject)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("stream %s holds %q, want %q", stream, got, want)
	}
}
