// Package natsx runs the embedded NATS server and declares ppnet's
// JetStream streams.
//
// Every ppnet daemon either connects to an external NATS (a URL, in
// production a cluster with R3 streams) or, with no URL, runs the real
// nats-server in-process with JetStream storing under its data directory.
// Streams:
//
//   - bundles (subjects <prefix>.bundle.> and <prefix>.seal): share bundles
//     and seal markers in one total order, the log that sequences rounds;
//   - aggregates (<prefix>.agg.>): aggregated shares for consumers.
//
// Both deduplicate by Nats-Msg-Id over [DedupWindow] and keep file storage.
package natsx

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/ppnet/ppnet/internal/netconfig"
	"github.com/ppnet/ppnet/internal/wire"
)

// DedupWindow is how long the streams remember Nats-Msg-Id values.
const DedupWindow = 10 * time.Minute

// ServerOptions configures an embedded server.
type ServerOptions struct {
	Dir  string // JetStream store directory (required)
	Host string // listen host (default 127.0.0.1)
	Port int    // listen port; −1 picks a free one (default −1 when 0)
	Name string // server name (default "ppnet")
	// Configure, if set, adjusts the options last (users, permissions,
	// TLS: natsauth.ConfigureServer).
	Configure func(*server.Options) error
}

// StartServer starts an embedded nats-server with JetStream and waits until
// it accepts connections. Shut it down with Shutdown and WaitForShutdown.
func StartServer(o ServerOptions) (*server.Server, error) {
	if o.Dir == "" {
		return nil, errors.New("natsx: embedded server needs a store directory; set the data directory")
	}
	if o.Host == "" {
		o.Host = "127.0.0.1"
	}
	if o.Port == 0 {
		o.Port = -1
	}
	if o.Name == "" {
		o.Name = "ppnet"
	}
	opts := &server.Options{
		ServerName: o.Name, Host: o.Host, Port: o.Port,
		JetStream: true, StoreDir: o.Dir,
		MaxPayload: wire.MaxMessage, NoSigs: true, NoLog: true,
		JetStreamMaxMemory: 256 << 20, JetStreamMaxStore: 8 << 30,
	}
	if o.Configure != nil {
		if err := o.Configure(opts); err != nil {
			return nil, err
		}
	}
	s, err := server.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("natsx: embedded server: %v", err)
	}
	s.Start()
	if !s.ReadyForConnections(15 * time.Second) {
		s.Shutdown()
		return nil, fmt.Errorf("natsx: embedded server on %s:%d not ready after 15s; is the port taken?", o.Host, o.Port)
	}
	return s, nil
}

// Connect dials url, retrying forever on disconnects so that publishers
// buffer through a server restart. extra options come last (credentials,
// TLS: natsauth.ClientOptions).
func Connect(url, name string, log *slog.Logger, extra ...nats.Option) (*nats.Conn, error) {
	opts := []nats.Option{
		nats.Name(name),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(100 * time.Millisecond),
		nats.ReconnectBufSize(64 << 20),
		nats.RetryOnFailedConnect(true),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if err != nil {
				log.Warn("nats disconnected", "err", err)
			}
		}),
		nats.ReconnectHandler(func(c *nats.Conn) { log.Info("nats reconnected", "url", c.ConnectedUrl()) }),
	}
	nc, err := nats.Connect(url, append(opts, extra...)...)
	if err != nil {
		return nil, fmt.Errorf("natsx: connect %s: %v; check --nats", url, err)
	}
	return nc, nil
}

// EnsureStreams creates or updates the bundle and aggregate streams.
func EnsureStreams(ctx context.Context, js jetstream.JetStream, n *netconfig.Network) error {
	s := n.Config.Streams
	for _, cfg := range []jetstream.StreamConfig{
		{Name: s.Bundles, Subjects: n.BundleSubjects()},
		{Name: s.Aggregates, Subjects: n.AggregateSubjects()},
	} {
		cfg.Storage = jetstream.FileStorage
		cfg.Replicas = s.Replicas
		cfg.Duplicates = DedupWindow
		cfg.MaxMsgSize = wire.MaxMessage
		cfg.MaxAge = max(0, s.MaxAge) // 0 for JetStream: no limit
		cfg.MaxBytes = -1
		if s.MaxBytes > 0 {
			cfg.MaxBytes = s.MaxBytes
		}
		if _, err := js.CreateOrUpdateStream(ctx, cfg); err != nil {
			return fmt.Errorf("natsx: stream %s: %v", cfg.Name, err)
		}
	}
	return nil
}
