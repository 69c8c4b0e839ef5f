package billingd

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/mail"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ppnet/ppnet/internal/billing/notify"
)

// TestFileSender: the e-mail is a parseable MIME message carrying the body
// and the attachment byte for byte, the SMS a JSON record, both labelled as
// not sent; sending again replaces the file; an unknown channel is a
// permanent error.
func TestFileSender(t *testing.T) {
	dir := t.TempDir()
	s := &FileSender{Dir: dir, From: "billing@ppnet-demo.invalid"}
	pdf := append([]byte("%PDF-1.7\n"), bytes.Repeat([]byte{0, 1, 2, 255}, 100)...)
	em := notify.Message{Key: "KA-000001/2026-03/r1/email", Channel: notify.ChannelEmail, To: "a.b@example.in",
		Subject: "Your electricity bill for 2026-03 (KA-000001) — ₹", Body: "Dear A****,\n\nRs 1987 due.",
		Attachments: []notify.Attachment{{Name: "bill-2026-03.pdf", ContentType: "application/pdf", Data: pdf}}}
	sms := notify.Message{Key: "KA-000001/2026-03/r1/sms", Channel: notify.ChannelSMS, To: "+919876543210", Body: "Electricity bill", Vars: []string{"KA-000001"}}
	for range 2 {
		for _, m := range []notify.Message{em, sms} {
			if err := s.Send(context.Background(), m); err != nil {
				t.Fatal(err)
			}
		}
	}
	files, _ := os.ReadDir(dir)
	if len(files) != 2 {
		t.Fatalf("%d files after sending two messages twice, want 2", len(files))
	}
	f, err := os.Open(filepath.Join(dir, "KA-000001_2026-03_r1_email.eml"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	msg, err := mail.ReadMessage(f)
	if err != nil {
		t.Fatal(err)
	}
	dec := new(mime.WordDecoder)
	if subj, _ := dec.DecodeHeader(msg.Header.Get("Subject")); subj != em.Subject || msg.Header.Get("To") != em.To || !strings.Contains(msg.Header.Get("X-Ppnet-Demo-Sink"), "NOT sent") {
		t.Errorf("headers %v", msg.Header)
	}
	_, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil {
		t.Fatal(err)
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	text, err := mr.NextPart()
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := io.ReadAll(text); !strings.Contains(string(b), em.Body) || !strings.Contains(string(b), DemoSinkNote) {
		t.Errorf("text part %q", b)
	}
	att, err := mr.NextPart()
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(att)
	got, err := base64.StdEncoding.DecodeString(strings.ReplaceAll(string(raw), "\r\n", ""))
	if err != nil || !bytes.Equal(got, pdf) || att.FileName() != "bill-2026-03.pdf" {
		t.Errorf("attachment %q: %d bytes (err %v), want the PDF's %d", att.FileName(), len(got), err, len(pdf))
	}
	b, err := os.ReadFile(filepath.Join(dir, "KA-000001_2026-03_r1_sms.sms.json"))
	if err != nil {
		t.Fatal(err)
	}
	var rec map[string]any
	if err := json.Unmarshal(b, &rec); err != nil || rec["to"] != sms.To || rec["demo_sink"] != DemoSinkNote {
		t.Errorf("sms record %s (%v)", b, err)
	}
	var perm *notify.PermanentError
	if err := s.Send(context.Background(), notify.Message{Key: "x", Channel: "fax"}); err == nil || !errors.As(err, &perm) {
		t.Errorf("unknown channel: %v, want a permanent error", err)
	}
}
