package natsauth

import (
	"crypto/tls"
	"fmt"
	"strings"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/ppnet/ppnet/internal/netconfig"
)

// ClientFiles are a daemon's NATS credentials as files, as flags or a YAML
// config give them.
type ClientFiles struct {
	Key string `yaml:"nats_key"` // user key file (<role>-<id>.nkey); empty: no NKey (an unsecured server)
	CA  string `yaml:"nats_ca"`  // CA certificate (PEM) the server's certificate chains to; empty: no TLS unless a URL is tls:// (system roots then)
}

// Options loads the files and returns the connect options of identity i
// for natsURL, enforcing [RequireTLS].
func (f ClientFiles) Options(i Identity, natsURL string) ([]nats.Option, error) {
	var tlsConf *tls.Config
	var err error
	if f.CA != "" || strings.Contains(natsURL, "tls://") {
		if tlsConf, err = ClientTLS(f.CA); err != nil {
			return nil, err
		}
	}
	if err := RequireTLS(natsURL, tlsConf); err != nil {
		return nil, err
	}
	if f.Key == "" {
		if tlsConf != nil {
			return []nats.Option{nats.Secure(tlsConf)}, nil
		}
		return nil, nil
	}
	kp, err := ReadKeyFile(f.Key)
	if err != nil {
		return nil, err
	}
	return ClientOptions(i, kp, tlsConf)
}

// ServerFiles secure an embedded server from files.
type ServerFiles struct {
	Users    string `yaml:"nats_users"`     // users file (users.yaml); empty: no authentication
	Cert     string `yaml:"nats_cert"`      // server certificate chain (PEM); empty: no TLS (loopback only)
	CertKey  string `yaml:"nats_cert_key"`  // its private key (PEM)
	ClientCA string `yaml:"nats_client_ca"` // optional: require client certificates from this CA
}

// Configure loads the files and returns the function that secures the
// server options for network n (see [ConfigureServer]), or nil when no file
// is set.
func (f ServerFiles) Configure(n *netconfig.Network) (func(*server.Options) error, error) {
	if f.Users == "" && f.Cert == "" {
		return nil, nil
	}
	if f.Users == "" {
		return nil, fmt.Errorf("natsauth: a server certificate without a users file; give --nats-users too (devnet --write-network writes users.yaml)")
	}
	u, err := ReadUsersFile(f.Users)
	if err != nil {
		return nil, err
	}
	if _, err := NkeyUsers(n, u); err != nil {
		return nil, err
	}
	var tlsConf *tls.Config
	if f.Cert != "" || f.CertKey != "" {
		if tlsConf, err = ServerTLS(f.Cert, f.CertKey, f.ClientCA); err != nil {
			return nil, err
		}
	}
	return func(o *server.Options) error { return ConfigureServer(o, n, u, tlsConf) }, nil
}
