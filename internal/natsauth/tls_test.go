package natsauth

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"io"
	"math/big"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
)

// testPKI writes a fresh self-signed ECDSA P-256 CA and a server
// certificate for 127.0.0.1 signed by it; it returns the file names.
func testPKI(t *testing.T) (caFile, certFile, keyFile string) {
	t.Helper()
	dir := t.TempDir()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	ca := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "ppnet test CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, ca, ca, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	srvKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	leaf := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "nats"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour), IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	caCert, err := x509.ParseCertificate(caDER)
	if err != nil {
		t.Fatal(err)
	}
	leafDER, err := x509.CreateCertificate(rand.Reader, leaf, caCert, &srvKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(srvKey)
	if err != nil {
		t.Fatal(err)
	}
	write := func(name, typ string, der []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	return write("ca.pem", "CERTIFICATE", caDER), write("server.pem", "CERTIFICATE", leafDER), write("server-key.pem", "EC PRIVATE KEY", keyDER)
}

func TestTLS(t *testing.T) {
	caFile, certFile, keyFile := testPKI(t)
	srvTLS, err := ServerTLS(certFile, keyFile, "")
	if err != nil {
		t.Fatal(err)
	}
	withCA, err := ClientTLS(caFile)
	if err != nil {
		t.Fatal(err)
	}
	s := startSecured(t, testNetwork(t), srvTLS, withCA)
	url := s.srv.ClientURL()
	id := Identity{RoleProducer, "c1"}

	// With the CA and its key: connected over TLS, and still only its
	// own permissions.
	c := s.connect(t, id)
	if st, err := c.nc.TLSConnectionState(); err != nil || !st.HandshakeComplete {
		t.Fatalf("connection with the CA is not TLS: %v", err)
	}
	c.refused(t, "Publish", "ppnet.bundle.c2", publish(c.nc, "ppnet.bundle.c2"))

	noCA, err := ClientTLS("") // system roots: do not know the test CA
	if err != nil {
		t.Fatal(err)
	}
	t.Run("TLS without the CA", func(t *testing.T) {
		opts, err := s.keys.Client(id, noCA)
		if err != nil {
			t.Fatal(err)
		}
		nc, err := nats.Connect(url, opts...)
		if err == nil {
			nc.Close()
			t.Fatal("connected")
		}
		var ua x509.UnknownAuthorityError
		if !errors.As(err, &ua) {
			t.Fatalf("refused with %v, want an unknown-authority error", err)
		}
	})
	// nats.go upgrades to TLS by itself when the server asks, so speak the
	// protocol by hand: a plaintext CONNECT must not get a PONG.
	t.Run("plaintext", func(t *testing.T) {
		conn, err := net.Dial("tcp", s.srv.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		if err := conn.SetDeadline(time.Now().Add(10 * time.Second)); err != nil {
			t.Fatal(err)
		}
		r := bufio.NewReader(conn)
		info, err := r.ReadString('\n')
		if err != nil || !strings.Contains(info, `"tls_required":true`) {
			t.Fatalf("server INFO %q (%v) does not require TLS", info, err)
		}
		if _, err := conn.Write([]byte("CONNECT {\"verbose\":false}\r\nPING\r\n")); err != nil {
			t.Fatal(err)
		}
		rest, err := io.ReadAll(r)
		if strings.Contains(string(rest), "PONG") {
			t.Fatalf("plaintext client got %q", rest)
		}
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			t.Fatal("server neither answered nor closed the plaintext connection")
		}
	})
	t.Run("CA but no key", func(t *testing.T) {
		nc, err := nats.Connect(url, nats.Secure(withCA))
		if err == nil {
			nc.Close()
			t.Fatal("connected")
		}
		if !errors.Is(err, nats.ErrAuthorization) {
			t.Fatalf("refused with %v, want an authorization violation", err)
		}
	})
}

func TestRequireTLS(t *testing.T) {
	conf, err := ClientTLS("")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		url     string
		withTLS bool
		ok      bool
	}{
		{"nats://127.0.0.1:4222", false, true},
		{"127.0.0.1:4222", false, true},
		{"nats://127.8.9.10:4222", false, true},
		{"nats://localhost:4222", false, true},
		{"nats://[::1]:4222", false, true},
		{"nats://10.0.0.5:4222", false, false},
		{"nats://nats.example.net:4222", false, false},
		{"nats://10.0.0.5:4222", true, true},
		{"tls://10.0.0.5:4222", false, true},
		{"nats://127.0.0.1:4222,nats://10.0.0.6:4222", false, false},
		{"nats://127.0.0.1:4222, tls://10.0.0.6:4222", false, true},
	}
	for _, tc := range tests {
		c := conf
		if !tc.withTLS {
			c = nil
		}
		err := RequireTLS(tc.url, c)
		if (err == nil) != tc.ok {
			t.Errorf("RequireTLS(%q, tls=%v) = %v, want ok=%v", tc.url, tc.withTLS, err, tc.ok)
		}
		if err != nil && !errors.Is(err, ErrPlaintextRemote) {
			t.Errorf("RequireTLS(%q): %v does not wrap ErrPlaintextRemote", tc.url, err)
		}
		if err != nil && !strings.Contains(err.Error(), "--nats-ca") {
			t.Errorf("RequireTLS(%q): %v does not say what to do", tc.url, err)
		}
	}
	for _, bad := range []string{"", "http://127.0.0.1:4222", "nats://:4222", "nats://%zz"} {
		err := RequireTLS(bad, nil)
		if err == nil || errors.Is(err, ErrPlaintextRemote) {
			t.Errorf("RequireTLS(%q) = %v, want a malformed-URL error", bad, err)
		}
	}
}

func TestConfigureServerRefusesPlaintextBeyondLoopback(t *testing.T) {
	n := testNetwork(t)
	k, err := Generate(n, "admin", rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	for _, host := range []string{"0.0.0.0", "", "10.0.0.5"} {
		o := &server.Options{Host: host}
		if err := ConfigureServer(o, n, &k.Users, nil); err == nil || !strings.Contains(err.Error(), "without TLS") {
			t.Errorf("host %q: %v, want a refusal", host, err)
		}
	}
}

func TestTLSFileErrors(t *testing.T) {
	caFile, certFile, keyFile := testPKI(t)
	dir := t.TempDir()
	notPEM := filepath.Join(dir, "not.pem")
	if err := os.WriteFile(notPEM, []byte("hello"), 0o600); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing.pem")
	tests := []struct {
		name string
		err  func() error
		want string
	}{
		{"missing key file name", func() error { _, err := ServerTLS(certFile, "", ""); return err }, "--nats-cert-key"},
		{"key does not match", func() error { _, err := ServerTLS(caFile, keyFile, ""); return err }, "private key"},
		{"missing CA", func() error { _, err := ClientTLS(missing); return err }, "missing.pem"},
		{"CA not PEM", func() error { _, err := ClientTLS(notPEM); return err }, "holds no PEM certificate"},
		{"client CA not PEM", func() error { _, err := ServerTLS(certFile, keyFile, notPEM); return err }, "holds no PEM certificate"},
	}
	for _, tc := range tests {
		err := tc.err()
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "natsauth: ") {
			t.Errorf("%s: %v, want a natsauth error mentioning %q", tc.name, err, tc.want)
		}
	}
}

// FuzzRequireTLS: never a panic; an accepted plaintext URL list names only
// loopback hosts or tls:// servers.
func FuzzRequireTLS(f *testing.F) {
	for _, s := range []string{"nats://127.0.0.1:4222", "nats://10.0.0.5:4222", "tls://nats.example.net:4222",
		"nats://127.0.0.1:4222,nats://[::1]:4223", "localhost:4222", "nats://user:pass@127.0.0.1:4222"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		err := RequireTLS(s, nil)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "natsauth: ") {
				t.Fatalf("error without package prefix: %v", err)
			}
			return
		}
		for _, part := range strings.Split(s, ",") {
			part = strings.TrimSpace(part)
			if !strings.Contains(part, "://") {
				part = "nats://" + part
			}
			u, err := url.Parse(part)
			if err != nil {
				t.Fatalf("accepted %q, which does not parse: %v", part, err)
			}
			if u.Scheme != "tls" && !isLoopbackHost(u.Hostname()) {
				t.Fatalf("accepted plaintext %q to %q", part, u.Hostname())
			}
		}
	})
}
