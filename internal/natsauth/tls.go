package natsauth

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"
)

// ErrPlaintextRemote is returned by [RequireTLS] for a non-loopback URL
// without TLS.
var ErrPlaintextRemote = errors.New("natsauth: plaintext NATS beyond loopback")

// ServerTLS loads the server certificate chain and key (PEM files). With
// clientCAFile set, clients must also present a certificate signed by it.
func ServerTLS(certFile, keyFile, clientCAFile string) (*tls.Config, error) {
	if certFile == "" || keyFile == "" {
		return nil, errors.New("natsauth: server TLS needs both a certificate and a key file; set --nats-cert and --nats-cert-key")
	}
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("natsauth: server certificate %s with key %s: %v; give the PEM certificate chain and its private key", certFile, keyFile, err)
	}
	c := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	if clientCAFile != "" {
		pool, err := loadCA(clientCAFile)
		if err != nil {
			return nil, err
		}
		c.ClientCAs, c.ClientAuth = pool, tls.RequireAndVerifyClientCert
	}
	return c, nil
}

// ClientTLS returns a client TLS configuration trusting the CA certificates
// in caFile (PEM), or the system roots when caFile is empty.
func ClientTLS(caFile string) (*tls.Config, error) {
	c := &tls.Config{MinVersion: tls.VersionTLS12}
	if caFile != "" {
		pool, err := loadCA(caFile)
		if err != nil {
			return nil, err
		}
		c.RootCAs = pool
	}
	return c, nil
}

func loadCA(path string) (*x509.CertPool, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("natsauth: CA file: %v", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(b) {
		return nil, fmt.Errorf("natsauth: CA file %s holds no PEM certificate; give the CA certificate (-----BEGIN CERTIFICATE-----)", path)
	}
	return pool, nil
}

// RequireTLS enforces "TLS unless loopback" for a --nats value: every server
// in the comma-separated list must be on a loopback address (127.0.0.0/8,
// ::1, localhost), or the client must connect with TLS — tlsConf set, or a
// tls:// URL. Host names are not resolved: a name that happens to resolve
// to loopback today still needs TLS.
func RequireTLS(natsURL string, tlsConf *tls.Config) error {
	if strings.TrimSpace(natsURL) == "" {
		return errors.New("natsauth: empty --nats URL; give nats://host:port or leave --nats unset for the embedded server")
	}
	for _, s := range strings.Split(natsURL, ",") {
		s = strings.TrimSpace(s)
		if !strings.Contains(s, "://") {
			s = "nats://" + s
		}
		u, err := url.Parse(s)
		if err != nil || u.Hostname() == "" {
			return fmt.Errorf("natsauth: --nats %q is not a URL; write nats://host:port or tls://host:port", s)
		}
		switch u.Scheme {
		case "nats", "tls":
		default:
			return fmt.Errorf("natsauth: --nats %q scheme %q; use nats:// or tls://", s, u.Scheme)
		}
		if tlsConf != nil || u.Scheme == "tls" || isLoopbackHost(u.Hostname()) {
			continue
		}
		return fmt.Errorf("%w: %s is not a loopback address; use tls://%s and give --nats-ca with the server's CA certificate", ErrPlaintextRemote, s, u.Host)
	}
	return nil
}

func isLoopbackHost(h string) bool {
	if strings.EqualFold(h, "localhost") {
		return true
	}
	ip := net.ParseIP(strings.Trim(h, "[]"))
	return ip != nil && ip.IsLoopback()
}
