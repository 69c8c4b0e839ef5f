// Package faulttest runs real nats-servers and a whole ppnet network —
// producers, PPNs, consumers — under the control of a test, so that the
// test can break the transport in the middle of a run (restart the server,
// lose one server of a cluster) and then check every result against the
// plain sums of the meters' own stored readings.
//
// # Notation
//
// A network has N PPNs, threshold t, w PPNs per rule, M meters and R rounds
// of length D with seal grace G (package netconfig). A result is exact when
// its recovered value equals Σ of the readings µ_{m,τ} of the (meter m,
// round τ) pairs it says it covers; it is complete when it covers every pair
// of its window. "Nothing lost" is completeness, "nothing double counted"
// is exactness with completeness.
//
// # Servers
//
// [Server] is one embedded nats-server with JetStream that can be stopped
// and started again on the same store directory and port, as an operator
// restarts a server. [Cluster] is three (or more) such servers joined by
// cluster routes on loopback, each with its own store, for streams
// replicated R3; one of them can be stopped mid-run. Ports are chosen by
// the kernel (listen on 127.0.0.1:0 and close), never fixed.
package faulttest

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"path/filepath"
	"strings"
	"time"

	"github.com/nats-io/nats-server/v2/server"

	"github.com/ppnet/ppnet/internal/wire"
)

// FreePorts returns n distinct TCP ports on 127.0.0.1 that were free a
// moment ago: the kernel picks them (port 0), the listeners are closed
// before returning.
func FreePorts(n int) ([]int, error) {
	lns := make([]net.Listener, 0, n)
	defer func() {
		for _, l := range lns {
			l.Close()
		}
	}()
	ports := make([]int, 0, n)
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("faulttest: pick a free port: %v", err)
		}
		lns = append(lns, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// Server is an embedded nats-server with JetStream whose options are kept,
// so it can be restarted on the same port and store directory.
type Server struct {
	opts *server.Options
	s    *server.Server
}

// serverOptions are the options every faulttest server shares.
func serverOptions(name, dir string, port int) *server.Options {
	return &server.Options{
		ServerName: name, Host: "127.0.0.1", Port: port,
		JetStream: true, StoreDir: dir,
		MaxPayload: wire.MaxMessage, NoSigs: true, NoLog: true,
		JetStreamMaxMemory: 256 << 20, JetStreamMaxStore: 4 << 30,
	}
}

// StartServer starts a standalone server storing under dir on a free port.
func StartServer(dir string) (*Server, error) {
	ports, err := FreePorts(1)
	if err != nil {
		return nil, err
	}
	s := &Server{opts: serverOptions("ppnet-fault", dir, ports[0])}
	if err := s.Start(); err != nil {
		return nil, err
	}
	return s, nil
}

// Start (re)starts the server with its original options and waits until it
// accepts connections.
func (s *Server) Start() error {
	if s.s != nil && s.s.Running() {
		return fmt.Errorf("faulttest: server %s already running", s.opts.ServerName)
	}
	o := *s.opts // the server keeps and mutates its options
	srv, err := server.NewServer(&o)
	if err != nil {
		return fmt.Errorf("faulttest: server %s: %v", s.opts.ServerName, err)
	}
	srv.Start()
	if !srv.ReadyForConnections(15 * time.Second) {
		srv.Shutdown()
		return fmt.Errorf("faulttest: server %s on port %d not ready after 15s; was the port taken meanwhile?", s.opts.ServerName, s.opts.Port)
	}
	s.s = srv
	return nil
}

// Stop shuts the server down and waits until it has.
func (s *Server) Stop() {
	if s.s == nil {
		return
	}
	s.s.Shutdown()
	s.s.WaitForShutdown()
}

// Running reports whether the server is up.
func (s *Server) Running() bool { return s.s != nil && s.s.Running() }

// URL is the client URL; it stays the same across restarts.
func (s *Server) URL() string { return fmt.Sprintf("nats://127.0.0.1:%d", s.opts.Port) }

// NATS returns the running server, or nil.
func (s *Server) NATS() *server.Server { return s.s }

// Cluster is a NATS cluster of embedded servers on loopback.
type Cluster struct {
	Servers []*Server
}

// StartCluster starts n ≥ 3 servers named ppnet-c1…, storing under
// dir/c1…, routed to each other, and waits until JetStream has a meta
// leader, so R3 streams can be created.
func StartCluster(dir string, n int) (*Cluster, error) {
	if n < 3 {
		return nil, fmt.Errorf("faulttest: cluster of %d servers; JetStream clustering needs at least 3", n)
	}
	ports, err := FreePorts(2 * n)
	if err != nil {
		return nil, err
	}
	var routes []*url.URL
	for i := range n {
		routes = append(routes, &url.URL{Scheme: "nats-route", Host: fmt.Sprintf("127.0.0.1:%d", ports[n+i])})
	}
	c := &Cluster{}
	for i := range n {
		name := fmt.Sprintf("ppnet-c%d", i+1)
		o := serverOptions(name, filepath.Join(dir, fmt.Sprintf("c%d", i+1)), ports[i])
		o.Cluster = server.ClusterOpts{Name: "ppnet-fault", Host: "127.0.0.1", Port: ports[n+i]}
		o.Routes = routes
		c.Servers = append(c.Servers, &Server{opts: o})
	}
	// Start them concurrently: each waits for its routes.
	errs := make(chan error, n)
	for _, s := range c.Servers {
		go func() { errs <- s.Start() }()
	}
	var all []error
	for range n {
		all = append(all, <-errs)
	}
	if err := errors.Join(all...); err != nil {
		c.Stop()
		return nil, err
	}
	if err := c.WaitJetStream(30 * time.Second); err != nil {
		c.Stop()
		return nil, err
	}
	return c, nil
}

// WaitJetStream polls until a running server is JetStream meta leader
// and sees every running server as a peer, and every running server is
// current with the meta log.
func (c *Cluster) WaitJetStream(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		running, current, leaderPeers := 0, 0, -1
		for _, s := range c.Servers {
			if !s.Running() {
				continue
			}
			running++
			srv := s.NATS()
			if srv.JetStreamIsCurrent() {
				current++
			}
			if srv.JetStreamIsLeader() {
				leaderPeers = len(srv.JetStreamClusterPeers())
			}
		}
		if current == running && leaderPeers >= running {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("faulttest: %d of %d servers current, meta leader sees %d peers after %v", current, running, leaderPeers, timeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// URLs is the comma-separated client URL list of all servers, which
// nats.Connect accepts.
func (c *Cluster) URLs() string {
	us := make([]string, len(c.Servers))
	for i, s := range c.Servers {
		us[i] = s.URL()
	}
	return strings.Join(us, ",")
}

// Stop stops every running server.
func (c *Cluster) Stop() {
	for _, s := range c.Servers {
		s.Stop()
	}
}
