package billingd

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"mime"
	"mime/multipart"
	"net/textproto"
	"os"
	"path/filepath"
	"strings"

	"github.com/ppnet/ppnet/internal/billing/notify"
)

// DemoSinkNote labels every file FileSender writes.
const DemoSinkNote = "ppnet demo sink: written to a file, NOT sent to anyone"

// FileSender is the demo notification sink: instead of calling an SMS
// gateway or an SMTP server it writes each message into Dir — SMS as
// <key>.sms.json, e-mail as <key>.eml (MIME, PDF attached) — labelled
// with DemoSinkNote. Writing the same key again replaces the file, so an
// outbox retry leaves one file per message.
type FileSender struct {
	Dir  string
	From string // e-mail From address
}

// Send implements notify.Sender.
func (s *FileSender) Send(_ context.Context, m notify.Message) error {
	if err := os.MkdirAll(s.Dir, 0o755); err != nil {
		return fmt.Errorf("billingd: demo sink: %v", err)
	}
	name := strings.NewReplacer("/", "_", "\\", "_", ":", "_").Replace(m.Key)
	var b []byte
	var err error
	switch m.Channel {
	case notify.ChannelSMS:
		name += ".sms.json"
		b, err = json.MarshalIndent(map[string]any{"demo_sink": DemoSinkNote, "channel": m.Channel, "to": m.To,
			"body": m.Body, "template_vars": m.Vars, "key": m.Key}, "", "  ")
	case notify.ChannelEmail:
		name += ".eml"
		b, err = s.eml(m)
	default:
		return &notify.PermanentError{Err: fmt.Errorf("billingd: demo sink: channel %q unknown", m.Channel)}
	}
	if err != nil {
		return &notify.PermanentError{Err: fmt.Errorf("billingd: demo sink: %v", err)}
	}
	tmp := filepath.Join(s.Dir, "."+name+".tmp")
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return fmt.Errorf("billingd: demo sink: %v", err)
	}
	if err := os.Rename(tmp, filepath.Join(s.Dir, name)); err != nil {
		return fmt.Errorf("billingd: demo sink: %v", err)
	}
	return nil
}

// eml renders an RFC 5322 message with a text part and the attachments.
func (s *FileSender) eml(m notify.Message) ([]byte, error) {
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	tp, err := mw.CreatePart(textproto.MIMEHeader{"Content-Type": {"text/plain; charset=utf-8"}})
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(tp, "[%s]\n\n%s", DemoSinkNote, m.Body)
	for _, a := range m.Attachments {
		ap, err := mw.CreatePart(textproto.MIMEHeader{
			"Content-Type":              {a.ContentType},
			"Content-Transfer-Encoding": {"base64"},
			"Content-Disposition":       {mime.FormatMediaType("attachment", map[string]string{"filename": a.Name})},
		})
		if err != nil {
			return nil, err
		}
		if err := writeBase64(ap, a.Data); err != nil {
			return nil, err
		}
	}
	if err := mw.Close(); err != nil {
		return nil, err
	}
	var out bytes.Buffer
	fmt.Fprintf(&out, "From: %s\r\nTo: %s\r\nSubject: %s\r\nMessage-ID: <%s@ppnet-demo.invalid>\r\nX-Ppnet-Demo-Sink: %s\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=%s\r\n\r\n",
		s.From, m.To, mime.QEncoding.Encode("utf-8", m.Subject), strings.ReplaceAll(m.Key, "/", "."), DemoSinkNote, mw.Boundary())
	out.Write(body.Bytes())
	return out.Bytes(), nil
}

// writeBase64 writes data base64-encoded in 76-character lines (RFC 2045).
func writeBase64(w interface{ Write([]byte) (int, error) }, data []byte) error {
	enc := base64.StdEncoding.EncodeToString(data)
	for len(enc) > 0 {
		n := min(76, len(enc))
		if _, err := w.Write([]byte(enc[:n] + "\r\n")); err != nil {
			return err
		}
		enc = enc[n:]
	}
	return nil
}
