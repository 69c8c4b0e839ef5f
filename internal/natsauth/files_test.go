package natsauth

import (
	"crypto/rand"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
)

// TestFiles secures a server and connects a client from files only, as a
// daemon started with flags would.
func TestFiles(t *testing.T) {
	n := testNetwork(t)
	caFile, certFile, keyFile := testPKI(t)
	k, err := Generate(n, "admin", rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := k.WriteFiles(dir); err != nil {
		t.Fatal(err)
	}
	configure, err := ServerFiles{Users: filepath.Join(dir, "users.yaml"), Cert: certFile, CertKey: keyFile}.Configure(n)
	if err != nil || configure == nil {
		t.Fatalf("server files: %v", err)
	}
	o := &server.Options{Host: "127.0.0.1", Port: -1, NoSigs: true, NoLog: true}
	if err := configure(o); err != nil {
		t.Fatal(err)
	}
	s, err := server.NewServer(o)
	if err != nil {
		t.Fatal(err)
	}
	s.Start()
	t.Cleanup(func() { s.Shutdown(); s.WaitForShutdown() })
	if !s.ReadyForConnections(10 * time.Second) {
		t.Fatal("server not ready")
	}

	id := Identity{RolePPN, "ppn2"}
	opts, err := ClientFiles{Key: KeyFileName(dir, id), CA: caFile}.Options(id, s.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	nc, err := nats.Connect(s.ClientURL(), opts...)
	if err != nil {
		t.Fatalf("connect from files: %v", err)
	}
	defer nc.Close()
	if st, err := nc.TLSConnectionState(); err != nil || !st.HandshakeComplete {
		t.Fatalf("not TLS: %v", err)
	}
	if _, err := (ClientFiles{Key: KeyFileName(dir, id)}).Options(id, "nats://10.1.2.3:4222"); !errors.Is(err, ErrPlaintextRemote) {
		t.Fatalf("remote URL without a CA: %v, want ErrPlaintextRemote", err)
	}
	if opts, err := (ClientFiles{}).Options(id, "nats://127.0.0.1:4222"); err != nil || opts != nil {
		t.Fatalf("no files on loopback: %v, %v; want no options", opts, err)
	}
	if _, err := (ClientFiles{Key: filepath.Join(dir, "missing.nkey")}).Options(id, s.ClientURL()); err == nil || !strings.Contains(err.Error(), "missing.nkey") {
		t.Fatalf("missing key file: %v", err)
	}
	if _, err := (ServerFiles{Cert: certFile, CertKey: keyFile}).Configure(n); err == nil || !strings.Contains(err.Error(), "--nats-users") {
		t.Fatalf("certificate without users: %v", err)
	}
	if f, err := (ServerFiles{}).Configure(n); f != nil || err != nil {
		t.Fatalf("no server files: %v", err)
	}
}
