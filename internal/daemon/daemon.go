// Package daemon holds what every ppnet daemon shares: the HTTP endpoint
// with /metrics (a registry owned by the daemon, never the global one) and
// /healthz, strict YAML config loading, and the NATS connection (external
// URL or the embedded server).
package daemon

import (
	"bytes"
	"context"
	"crypto/ecdh"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"gopkg.in/yaml.v3"

	"github.com/ppnet/ppnet/internal/seal"
)

// HTTP serves /metrics, /healthz and any extra handlers.
type HTTP struct {
	srv *http.Server
	ln  net.Listener
}

// NewRegistry returns a fresh registry with the Go and process collectors.
func NewRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return reg
}

// ServeHTTP listens on addr (host:port, port 0 for any) and serves reg at
// /metrics, healthy at /healthz (503 with the error text when it fails) and
// the extra handlers by pattern. reg is a daemon's registry, or a gatherer
// over several (an epoch supervisor's instances).
func ServeHTTP(addr string, reg prometheus.Gatherer, healthy func() error, extra map[string]http.Handler) (*HTTP, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("daemon: listen %s: %v; choose another --http address", addr, err)
	}
	mux := http.NewServeMux()
	opts := promhttp.HandlerOpts{}
	if r, ok := reg.(prometheus.Registerer); ok {
		opts.Registry = r
	}
	mux.Handle("/metrics", promhttp.HandlerFor(reg, opts))
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		if err := healthy(); err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ok")
	})
	for p, h := range extra {
		mux.Handle(p, h)
	}
	h := &HTTP{srv: &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}, ln: ln}
	go func() { _ = h.srv.Serve(ln) }()
	return h, nil
}

// Addr returns the listening address.
func (h *HTTP) Addr() string { return h.ln.Addr().String() }

// Shutdown stops the server gracefully.
func (h *HTTP) Shutdown(ctx context.Context) error { return h.srv.Shutdown(ctx) }

// LoadYAML decodes the YAML file at path into v, rejecting unknown fields.
func LoadYAML(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("daemon: %v", err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("daemon: %s: %v", path, err)
	}
	return nil
}

// NATS is a connection and, when no URL was given, the embedded server
// behind it.
type NATS struct {
	Conn     *nats.Conn
	Embedded *server.Server // nil for an external server
	// StreamsDeclared is set when DialNATS declared the streams (a secured
	// embedded server); the role then must not try with its own user.
	StreamsDeclared bool
}

// Close drains the connection and stops the embedded server, if any.
func (n *NATS) Close() {
	if n.Conn != nil {
		_ = n.Conn.Drain()
		deadline := time.Now().Add(5 * time.Second)
		for !n.Conn.IsClosed() && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		n.Conn.Close()
	}
	if n.Embedded != nil {
		n.Embedded.Shutdown()
		n.Embedded.WaitForShutdown()
	}
}

// ErrNotReady is returned by health checks before a daemon is ready.
var ErrNotReady = errors.New("daemon: not ready")

// ReadKey reads a base64 X25519 private key file.
func ReadKey(path string) (*ecdh.PrivateKey, error) {
	if path == "" {
		return nil, errors.New("daemon: no private key; set --key to the key file")
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("daemon: %v", err)
	}
	k, err := seal.ParsePrivateKey(string(b))
	if err != nil {
		return nil, fmt.Errorf("daemon: key file %s: %w", path, err)
	}
	return k, nil
}

// ConfigFlag returns the value of a --config (or -config) argument in args,
// so a main can load the YAML file before defining flags whose defaults
// come from it: flags then override the file.
func ConfigFlag(args []string) string {
	for i, a := range args {
		for _, p := range []string{"--config", "-config"} {
			if a == p && i+1 < len(args) {
				return args[i+1]
			}
			if v, ok := strings.CutPrefix(a, p+"="); ok {
				return v
			}
		}
	}
	return ""
}

// Logger returns a text logger on stderr at the named level (debug, info,
// warn, error).
func Logger(level string) (*slog.Logger, error) { return LoggerTo(os.Stderr, level) }

// LoggerTo returns a text logger writing to w at the named level.
func LoggerTo(w io.Writer, level string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("daemon: log level %q; use debug, info, warn or error", level)
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: l})), nil
}

// OnReconnect calls f after every reconnect of nc until ctx ends.
func OnReconnect(ctx context.Context, nc *nats.Conn, f func()) {
	ch := nc.StatusChanged(nats.CONNECTED)
	go func() {
		defer nc.RemoveStatusListener(ch)
		for {
			select {
			case <-ctx.Done():
				return
			case _, ok := <-ch:
				if !ok {
					return
				}
				f()
			}
		}
	}()
}
