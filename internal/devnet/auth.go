package devnet

import (
	"context"
	"crypto/rand"
	"fmt"
	"path/filepath"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/ppnet/ppnet/internal/natsauth"
	"github.com/ppnet/ppnet/internal/natsx"
)

// adminID is the devnet's own NATS user: it declares the streams.
var adminID = natsauth.Identity{Role: natsauth.RoleAdmin, ID: "devnet"}

// serverOptions are the embedded server's options, secured with one NKey
// user per role (internal/natsauth) when Options.Secure is set.
func (d *Net) serverOptions(port int) natsx.ServerOptions {
	o := natsx.ServerOptions{Dir: filepath.Join(d.dir, "nats"), Port: port}
	if d.auth != nil {
		o.Configure = func(so *server.Options) error {
			return natsauth.ConfigureServer(so, d.Net, &d.auth.Users, nil)
		}
	}
	return o
}

// declareStreams connects as the admin and declares the streams, so that
// the roles, whose users may not, find them.
func (d *Net) declareStreams(ctx context.Context) error {
	nc, err := d.dial(adminID)
	if err != nil {
		return err
	}
	js, err := jetstream.New(nc)
	if err != nil {
		return fmt.Errorf("devnet: jetstream: %v", err)
	}
	sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	return natsx.EnsureStreams(sctx, js, d.Net)
}

// dial connects as identity i when the server is secured; otherwise it
// returns nil and the daemon dials d.URL itself. The connection is closed
// by closeConn or Close.
func (d *Net) dial(i natsauth.Identity) (*nats.Conn, error) {
	if d.auth == nil {
		return nil, nil
	}
	opts, err := d.auth.Client(i, nil)
	if err != nil {
		return nil, err
	}
	nc, err := natsx.Connect(d.URL, "devnet-"+string(i.Role)+"-"+i.ID, d.Opts.Logger, append(opts, natsauth.LogErrors(d.Opts.Logger, i))...)
	if err != nil {
		return nil, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if old := d.conns[i]; old != nil {
		old.Close()
	}
	d.conns[i] = nc
	return nc, nil
}

func (d *Net) closeConn(i natsauth.Identity) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if nc := d.conns[i]; nc != nil {
		nc.Close()
		delete(d.conns, i)
	}
}

func (d *Net) closeConns() {
	d.mu.Lock()
	defer d.mu.Unlock()
	for i, nc := range d.conns {
		nc.Close()
		delete(d.conns, i)
	}
}

func newAuth(d *Net) error {
	if !d.Opts.Secure || d.Opts.NATSURL != "" {
		return nil
	}
	k, err := natsauth.Generate(d.Net, adminID.ID, rand.Reader)
	if err != nil {
		return err
	}
	d.auth = k
	return nil
}
