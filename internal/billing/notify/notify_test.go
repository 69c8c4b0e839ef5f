package notify

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/ppnet/ppnet/internal/billing/notify/notifytest"
)

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func openDB(t *testing.T, path string) *bolt.DB {
	t.Helper()
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	return db
}

func newSMS(t *testing.T, url string) *SMS {
	t.Helper()
	s, err := NewSMS(SMSConfig{URL: url, APIKey: "k", Sender: "BESCOM", EntityID: "1101234567890123456", TemplateID: "1107123456789012345"})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestSMSRetryBackoffAndRestart(t *testing.T) {
	g := notifytest.NewGateway(2)
	srv := httptest.NewServer(g)
	defer srv.Close()
	path := filepath.Join(t.TempDir(), "outbox.db")
	clk := &clock{t: time.Date(2026, 4, 2, 9, 0, 0, 0, time.UTC)}
	opts := &Options{Now: clk.now, Backoff: time.Minute, MaxBackoff: 10 * time.Minute}
	db := openDB(t, path)
	ob, err := Open(db, map[string]Sender{ChannelSMS: newSMS(t, srv.URL)}, opts)
	if err != nil {
		t.Fatal(err)
	}
	msg := Message{Key: "KA-1/2026-03/r1/sms", Channel: ChannelSMS, To: "+919845012345", Body: "Your bill of Rs 1987 is due on 17-04-2026.",
		Vars: []string{"1987", "17-04-2026"}}
	for i, want := range []bool{true, false} {
		added, err := ob.Enqueue(msg)
		if err != nil || added != want {
			t.Fatalf("enqueue %d: added %v, %v", i, added, err)
		}
	}
	ctx := context.Background()
	// Attempt 1 fails (503); it is not due again until one backoff later.
	if n, err := ob.RunOnce(ctx); n != 0 || err != nil {
		t.Fatalf("run 1: %d %v", n, err)
	}
	e, _ := ob.Get(msg.Key)
	if e.Attempts != 1 || e.State != StatePending || !e.NextAttempt.Equal(clk.t.Add(time.Minute)) || !strings.Contains(e.LastError, "503") {
		t.Fatalf("after attempt 1: %+v", e)
	}
	if n, _ := ob.RunOnce(ctx); n != 0 || g.Requests != 1 {
		t.Fatalf("retried before backoff: %d requests", g.Requests)
	}
	clk.t = clk.t.Add(time.Minute)
	_, _ = ob.RunOnce(ctx) // attempt 2 fails; next after 2 minutes
	e, _ = ob.Get(msg.Key)
	if e.Attempts != 2 || !e.NextAttempt.Equal(clk.t.Add(2*time.Minute)) {
		t.Fatalf("after attempt 2: %+v", e)
	}
	// Restart: close and reopen the database, then deliver.
	db.Close()
	db = openDB(t, path)
	defer db.Close()
	ob, err = Open(db, map[string]Sender{ChannelSMS: newSMS(t, srv.URL)}, opts)
	if err != nil {
		t.Fatal(err)
	}
	clk.t = clk.t.Add(2 * time.Minute)
	if n, err := ob.RunOnce(ctx); n != 1 || err != nil {
		t.Fatalf("run 3: %d %v", n, err)
	}
	// Restart again and run much later: never sent twice.
	db.Close()
	db = openDB(t, path)
	ob, _ = Open(db, map[string]Sender{ChannelSMS: newSMS(t, srv.URL)}, opts)
	clk.t = clk.t.Add(24 * time.Hour)
	if n, _ := ob.RunOnce(ctx); n != 0 {
		t.Fatalf("sent again after restart")
	}
	if g.Accepted[msg.Key] != 1 || g.Requests != 3 {
		t.Fatalf("gateway accepted %d times over %d requests", g.Accepted[msg.Key], g.Requests)
	}
	if g.Form["sender"] != "BESCOM" || g.Form["template_id"] != "1107123456789012345" || g.Form["entity_id"] != "1101234567890123456" || g.Form["var1"] != "1987" || g.Form["var2"] != "17-04-2026" ||
		g.Last.Get("Idempotency-Key") != msg.Key || g.Last.Get("Authorization") != "Bearer k" {
		t.Fatalf("gateway request lacks DLT fields: %v %v", g.Form, g.Last)
	}
	e, _ = ob.Get(msg.Key)
	if e.State != StateSent || e.Attempts != 3 {
		t.Fatalf("final: %+v", e)
	}
}

func TestSMSPermanentFailure(t *testing.T) {
	g := notifytest.NewGateway(0)
	srv := httptest.NewServer(g)
	defer srv.Close()
	db := openDB(t, filepath.Join(t.TempDir(), "o.db"))
	defer db.Close()
	clk := &clock{t: time.Date(2026, 4, 2, 9, 0, 0, 0, time.UTC)}
	ob, _ := Open(db, map[string]Sender{ChannelSMS: newSMS(t, srv.URL)}, &Options{Now: clk.now})
	_, _ = ob.Enqueue(Message{Key: "k", Channel: ChannelSMS, To: "12345", Body: "x"})
	_, _ = ob.RunOnce(context.Background())
	clk.t = clk.t.Add(48 * time.Hour)
	_, _ = ob.RunOnce(context.Background())
	e, _ := ob.Get("k")
	if e.State != StateFailed || e.Attempts != 1 || !strings.Contains(e.LastError, "rejected") || g.Requests != 1 {
		t.Fatalf("permanent failure retried or not recorded: %+v, %d requests", e, g.Requests)
	}
}

func TestSMSConfigErrors(t *testing.T) {
	good := SMSConfig{URL: "http://127.0.0.1:1/send", Sender: "BESCOM", EntityID: "1101234567890", TemplateID: "1107123456789"}
	tests := []struct {
		name string
		edit func(*SMSConfig)
		want string
	}{
		{"url", func(c *SMSConfig) { c.URL = "ftp://x" }, "gateway url"},
		{"sender", func(c *SMSConfig) { c.Sender = "BES" }, "sender header"},
		{"entity", func(c *SMSConfig) { c.EntityID = "abc" }, "entity id"},
		{"template", func(c *SMSConfig) { c.TemplateID = "" }, "template id"},
	}
	for _, tc := range tests {
		c := good
		tc.edit(&c)
		if _, err := NewSMS(c); err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "fix:") {
			t.Errorf("%s: err = %v", tc.name, err)
		}
	}
	if _, err := NewSMS(good); err != nil {
		t.Fatal(err)
	}
}

func TestEmailWithAttachment(t *testing.T) {
	smtp := notifytest.StartSMTP(t)
	smtp.RejectRcpt = "nobody@example.in"
	mailer, err := NewEmail(EmailConfig{Host: "127.0.0.1", Port: smtp.Port(), From: "bills@example.in", TLS: "none", Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "o.db")
	db := openDB(t, path)
	clk := &clock{t: time.Date(2026, 4, 2, 9, 0, 0, 0, time.UTC)}
	ob, _ := Open(db, map[string]Sender{ChannelEmail: mailer}, &Options{Now: clk.now})
	pdf := []byte("%PDF-1.3 fake bill body for the attachment test")
	m := Message{Key: "KA-1/2026-03/r1/email", Channel: ChannelEmail, To: "ramesh.k@example.in", Subject: "Your electricity bill for 2026-03",
		Body: "Amount Rs 1987.00, due 2026-04-17.", Attachments: []Attachment{{Name: "bill-2026-03.pdf", ContentType: "application/pdf", Data: pdf}}}
	_, _ = ob.Enqueue(m)
	_, _ = ob.Enqueue(Message{Key: "bad", Channel: ChannelEmail, To: "nobody@example.in", Subject: "x", Body: "x"})
	if n, err := ob.RunOnce(context.Background()); n != 1 || err != nil {
		t.Fatalf("run: %d %v", n, err)
	}
	db.Close()
	db = openDB(t, path)
	defer db.Close()
	ob, _ = Open(db, map[string]Sender{ChannelEmail: mailer}, &Options{Now: clk.now})
	clk.t = clk.t.Add(72 * time.Hour)
	if n, _ := ob.RunOnce(context.Background()); n != 0 {
		t.Fatal("e-mail sent again after restart")
	}
	got := smtp.Messages()
	if len(got) != 1 {
		t.Fatalf("server received %d messages, want 1", len(got))
	}
	d := got[0].Data
	unfolded := strings.ReplaceAll(strings.ReplaceAll(d, "\r\n", ""), "=\n", "")
	for _, want := range []string{"Subject: Your electricity bill for 2026-03", "Message-ID: <KA-1=2F2026-03=2Fr1=2Femail@example.in>",
		`filename="bill-2026-03.pdf"`, "application/pdf", base64.StdEncoding.EncodeToString(pdf)[:40]} {
		if !strings.Contains(unfolded, want) {
			t.Errorf("message lacks %q:\n%s", want, d)
		}
	}
	if got[0].To[0] != "ramesh.k@example.in" {
		t.Errorf("rcpt %v", got[0].To)
	}
	e, _ := ob.Get("bad")
	if e.State != StateFailed || !strings.Contains(e.LastError, "refused recipient") {
		t.Errorf("rejected recipient: %+v", e)
	}
	var perm *PermanentError
	if err := mailer.Send(context.Background(), Message{Key: "z", To: "not an address"}); !errors.As(err, &perm) {
		t.Errorf("bad address: %v", err)
	}
}

func TestRunLoop(t *testing.T) {
	g := notifytest.NewGateway(0)
	srv := httptest.NewServer(g)
	defer srv.Close()
	db := openDB(t, filepath.Join(t.TempDir(), "o.db"))
	defer db.Close()
	ob, _ := Open(db, map[string]Sender{ChannelSMS: newSMS(t, srv.URL)}, nil)
	_, _ = ob.Enqueue(Message{Key: "loop", Channel: ChannelSMS, To: "+919845012345", Body: "x"})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- ob.Run(ctx, 5*time.Millisecond) }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		e, _ := ob.Get("loop")
		if e.State == StateSent {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not sent by the loop: %+v", e)
		}
		time.Sleep(2 * time.Millisecond) // polling for the outcome, not waiting for correctness
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Run returned %v", err)
	}
}
