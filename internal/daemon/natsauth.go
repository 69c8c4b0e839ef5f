package daemon

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nkeys"

	"github.com/ppnet/ppnet/internal/natsauth"
	"github.com/ppnet/ppnet/internal/natsx"
	"github.com/ppnet/ppnet/internal/netconfig"
)

// NATSAuth are a daemon's NATS credentials as files (its user key, the CA
// of the server's certificate) and, for a daemon running the embedded
// server, the server's users file and certificate (docs/security.md).
type NATSAuth struct {
	natsauth.ClientFiles `yaml:",inline"`
	natsauth.ServerFiles `yaml:",inline"`
}

// AddFlags defines the --nats-key, --nats-ca, --nats-users, --nats-cert,
// --nats-cert-key and --nats-client-ca flags over a's values.
func (a *NATSAuth) AddFlags(fs *flag.FlagSet) {
	fs.StringVar(&a.Key, "nats-key", a.Key, "NATS user key file of this role (devnet --write-network writes keys/nats/<role>-<id>.nkey)")
	fs.StringVar(&a.CA, "nats-ca", a.CA, "CA certificate (PEM) of the NATS server's certificate (TLS)")
	fs.StringVar(&a.Users, "nats-users", a.Users, "embedded NATS only: users file (users.yaml) — one NKey user per role with its permissions")
	fs.StringVar(&a.Cert, "nats-cert", a.Cert, "embedded NATS only: server certificate chain (PEM) for TLS")
	fs.StringVar(&a.CertKey, "nats-cert-key", a.CertKey, "embedded NATS only: the server certificate's private key (PEM)")
	fs.StringVar(&a.ClientCA, "nats-client-ca", a.ClientCA, "embedded NATS only: require client certificates from this CA")
}

// Dial says how a daemon reaches NATS.
type Dial struct {
	URL      string            // external server; empty starts the embedded one
	DataDir  string            // the embedded server stores under DataDir/nats
	Port     int               // embedded server port (−1 or 0: any free port)
	Name     string            // connection name
	Log      *slog.Logger      // connection events and asynchronous errors
	Identity natsauth.Identity // who the daemon is on NATS
	Auth     NATSAuth          // credentials; zero: anonymous
	Network  *netconfig.Network
	// Rand draws the embedded server's one-off admin key (a secured
	// embedded server declares the streams with it).
	Rand io.Reader
}

// DialNATS connects as d says. With d.URL empty it starts the embedded
// server, secured with d.Auth's server files when given; a secured embedded
// server's streams are then declared here (StreamsDeclared), by a one-off
// admin user whose key never leaves the process, since the role's own user
// may not. With a user key it checks that the server lets the connection
// subscribe to its own inbox, so a key file of another identity fails here
// with an error naming the file.
func DialNATS(d Dial) (*NATS, error) {
	var n NATS
	url := d.URL
	var admin nkeys.KeyPair
	if url == "" {
		so := natsx.ServerOptions{Dir: filepath.Join(d.DataDir, "nats"), Port: d.Port, Name: d.Name}
		configure, err := d.Auth.ServerFiles.Configure(d.Network)
		if err != nil {
			return nil, err
		}
		if configure != nil {
			if d.Auth.Key == "" {
				return nil, fmt.Errorf("daemon: --nats-users secures the embedded server, but this daemon has no --nats-key; give it %s's key file", d.Identity)
			}
			if admin, err = natsauth.NewUserKey(d.Rand); err != nil {
				return nil, err
			}
			so.Configure = func(o *server.Options) error {
				if err := configure(o); err != nil {
					return err
				}
				pub, err := admin.PublicKey()
				if err != nil {
					return fmt.Errorf("daemon: %v", err)
				}
				o.Nkeys = append(o.Nkeys, &server.NkeyUser{Nkey: pub}) // no permissions: all
				return nil
			}
		}
		s, err := natsx.StartServer(so)
		if err != nil {
			return nil, err
		}
		n.Embedded = s
		url = s.ClientURL()
		d.Log.Info("embedded nats started", "url", url, "secured", configure != nil)
	} else if d.Auth.Users != "" || d.Auth.Cert != "" {
		return nil, fmt.Errorf("daemon: --nats-users and --nats-cert configure the embedded server; with --nats %s the server's operator configures it, so drop them", d.URL)
	}
	if admin != nil {
		if err := declareStreams(url, admin, d); err != nil {
			n.Close()
			return nil, err
		}
		n.StreamsDeclared = true
	}
	opts, err := d.Auth.ClientFiles.Options(d.Identity, url)
	if err != nil {
		n.Close()
		return nil, err
	}
	if d.Auth.Key != "" {
		opts = append(opts, natsauth.LogErrors(d.Log, d.Identity))
	}
	nc, err := natsx.Connect(url, d.Name, d.Log, opts...)
	if err != nil {
		n.Close()
		return nil, err
	}
	n.Conn = nc
	if d.Auth.Key != "" {
		if err := checkInbox(nc, d); err != nil {
			n.Close()
			return nil, err
		}
	}
	return &n, nil
}

// checkInbox subscribes to a subject under the identity's inbox prefix and
// waits for the server's answer: only that identity's user may subscribe
// there.
func checkInbox(nc *nats.Conn, d Dial) error {
	sub, err := nc.SubscribeSync(d.Identity.InboxPrefix() + ".check")
	if err != nil {
		return fmt.Errorf("daemon: nats: %v", err)
	}
	defer sub.Unsubscribe()
	if err := nc.FlushTimeout(10 * time.Second); err != nil {
		return fmt.Errorf("daemon: nats: %v", err)
	}
	if err := nc.LastError(); errors.Is(err, nats.ErrPermissionViolation) {
		return fmt.Errorf("daemon: the NATS server refuses %s its own inbox (%v): %s is not %s's user key or that user is not enrolled; use %s's key file (devnet --write-network writes keys/nats/%s-%s.nkey)",
			d.Identity, err, d.Auth.Key, d.Identity, d.Identity, d.Identity.Role, d.Identity.ID)
	}
	return nil
}

// declareStreams declares the streams on the embedded server as its
// one-off admin.
func declareStreams(url string, admin nkeys.KeyPair, d Dial) error {
	opts, err := natsauth.ClientOptions(natsauth.Identity{Role: natsauth.RoleAdmin, ID: "embedded"}, admin, nil)
	if err != nil {
		return err
	}
	nc, err := natsx.Connect(url, d.Name+"-admin", d.Log, opts...)
	if err != nil {
		return err
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return fmt.Errorf("daemon: jetstream: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return natsx.EnsureStreams(ctx, js, d.Network)
}
