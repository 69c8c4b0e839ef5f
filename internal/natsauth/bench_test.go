package natsauth

import (
	"context"
	"crypto/rand"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/ppnet/ppnet/internal/natsx"
)

// BenchmarkNatsauth measures what the NKey users and permissions cost,
// against an anonymous server in the same run: connecting (NKey
// challenge–response) and JetStream publishing with acknowledgement (the
// server checks the publish permission per message, cached per subject).
func BenchmarkNatsauth(b *testing.B) {
	n := testNetworkF(b)
	k, err := Generate(n, "admin", rand.Reader)
	if err != nil {
		b.Fatal(err)
	}
	for _, secure := range []bool{false, true} {
		name := "anonymous"
		if secure {
			name = "nkey"
		}
		o := &server.Options{Host: "127.0.0.1", Port: -1, JetStream: true, StoreDir: b.TempDir(), NoSigs: true, NoLog: true}
		if secure {
			if err := ConfigureServer(o, n, &k.Users, nil); err != nil {
				b.Fatal(err)
			}
		}
		s, err := server.NewServer(o)
		if err != nil {
			b.Fatal(err)
		}
		s.Start()
		if !s.ReadyForConnections(10 * time.Second) {
			b.Fatal("server not ready")
		}
		dial := func(i Identity) *nats.Conn {
			var opts []nats.Option
			if secure {
				if opts, err = k.Client(i, nil); err != nil {
					b.Fatal(err)
				}
			}
			nc, err := nats.Connect(s.ClientURL(), opts...)
			if err != nil {
				b.Fatal(err)
			}
			return nc
		}
		admin := dial(Identity{RoleAdmin, "admin"})
		ajs, _ := jetstream.New(admin)
		if err := natsx.EnsureStreams(context.Background(), ajs, n); err != nil {
			b.Fatal(err)
		}
		producer := Identity{RoleProducer, "c1"}
		b.Run("connect/"+name, func(b *testing.B) {
			for b.Loop() {
				dial(producer).Close()
			}
		})
		b.Run("publish-1KiB/"+name, func(b *testing.B) {
			nc := dial(producer)
			defer nc.Close()
			js, _ := jetstream.New(nc, jetstream.WithPublishAsyncMaxPending(256))
			msg := make([]byte, 1024)
			b.SetBytes(int64(len(msg)))
			b.ResetTimer()
			for range b.N {
				if _, err := js.PublishAsync("ppnet.bundle.c1", msg); err != nil {
					b.Fatal(err)
				}
			}
			select { // the last acknowledgements are part of the cost
			case <-js.PublishAsyncComplete():
			case <-time.After(time.Minute):
				b.Fatal("acknowledgements missing")
			}
		})
		admin.Close()
		s.Shutdown()
		s.WaitForShutdown()
	}
}
