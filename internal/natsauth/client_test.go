package natsauth

import (
	"bytes"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
)

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func TestLogErrorsReportsViolations(t *testing.T) {
	s := startSecured(t, testNetwork(t), nil, nil)
	id := Identity{RoleProducer, "c1"}
	var buf lockedBuffer
	opts, err := s.keys.Client(id, nil)
	if err != nil {
		t.Fatal(err)
	}
	nc, err := nats.Connect(s.srv.ClientURL(), append(opts, LogErrors(slog.New(slog.NewTextHandler(&buf, nil)), id))...)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	if err := nc.Publish("ppnet.seal", nil); err != nil {
		t.Fatal(err)
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(buf.String(), `Permissions Violation for Publish to \"ppnet.seal\"`) {
		if time.Now().After(deadline) {
			t.Fatalf("log: %q", buf.String())
		}
		time.Sleep(5 * time.Millisecond) // polling the log
	}
	if !strings.Contains(buf.String(), "identity=producer/c1") {
		t.Fatalf("log line does not name the identity: %q", buf.String())
	}
}

func TestIdentity(t *testing.T) {
	for _, s := range []string{"ppn/ppn1", "producer/c1", "consumer/dso", "admin/admin"} {
		i, err := ParseIdentity(s)
		if err != nil || i.String() != s {
			t.Errorf("ParseIdentity(%q) = %v, %v", s, i, err)
		}
	}
	for _, s := range []string{"ppn1", "meter/m1", "ppn/", "ppn/a.b", "ppn/a/b"} {
		if _, err := ParseIdentity(s); err == nil {
			t.Errorf("ParseIdentity(%q) accepted", s)
		}
	}
	if got := (Identity{RolePPN, "ppn1"}).InboxPrefix(); got != "_INBOX.ppn.ppn1" {
		t.Errorf("inbox prefix %q", got)
	}
}
