package notify

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"
)

// EmailConfig configures the SMTP adapter.
type EmailConfig struct {
	Host     string
	Port     int
	From     string // bare address, e.g. bills@example.in
	Username string // SMTP AUTH PLAIN when set
	Password string
	// TLS is "required" (default; STARTTLS or fail), "opportunistic", or
	// "none" (loopback test servers only).
	TLS     string
	Timeout time.Duration // default 30s
}

// Email is the SMTP adapter.
type Email struct{ c EmailConfig }

// NewEmail validates the configuration.
func NewEmail(c EmailConfig) (*Email, error) {
	if c.Host == "" || c.Port <= 0 || c.Port > 65535 {
		return nil, fmt.Errorf("notify: smtp server %q port %d; fix: give host and port", c.Host, c.Port)
	}
	if a, err := mail.ParseAddress(c.From); err != nil || a.Address != c.From {
		return nil, fmt.Errorf("notify: smtp from %q; fix: give a bare address such as bills@example.in", c.From)
	}
	switch c.TLS {
	case "":
		c.TLS = "required"
	case "required", "opportunistic", "none":
	default:
		return nil, fmt.Errorf("notify: smtp tls %q; fix: use required, opportunistic or none", c.TLS)
	}
	if c.Timeout <= 0 {
		c.Timeout = 30 * time.Second
	}
	return &Email{c: c}, nil
}

// Send delivers one e-mail with its attachments. The Message-ID is derived
// from the message key, so every attempt of one notification carries the
// same id. Recipient rejections are permanent failures.
func (e *Email) Send(ctx context.Context, m Message) error {
	msg := gomail.NewMsg()
	if err := msg.From(e.c.From); err != nil {
		return &PermanentError{fmt.Errorf("notify: email from: %w", err)}
	}
	if err := msg.To(m.To); err != nil {
		return &PermanentError{fmt.Errorf("notify: email to %q: %w", m.To, err)}
	}
	msg.Subject(m.Subject)
	msg.SetMessageIDWithValue(messageID(m.Key, e.c.From))
	msg.SetBodyString(gomail.TypeTextPlain, m.Body)
	for _, a := range m.Attachments {
		if err := msg.AttachReader(a.Name, bytes.NewReader(a.Data), gomail.WithFileContentType(gomail.ContentType(a.ContentType))); err != nil {
			return &PermanentError{fmt.Errorf("notify: attach %s: %w", a.Name, err)}
		}
	}
	opts := []gomail.Option{gomail.WithPort(e.c.Port), gomail.WithTimeout(e.c.Timeout)}
	switch e.c.TLS {
	case "none":
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	case "opportunistic":
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSOpportunistic))
	default:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	}
	if e.c.Username != "" {
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthPlain), gomail.WithUsername(e.c.Username), gomail.WithPassword(e.c.Password))
	}
	client, err := gomail.NewClient(e.c.Host, opts...)
	if err != nil {
		return &PermanentError{fmt.Errorf("notify: smtp client: %w", err)}
	}
	if err := client.DialAndSendWithContext(ctx, msg); err != nil {
		var se *gomail.SendError
		if errors.As(err, &se) && se.Reason == gomail.ErrSMTPRcptTo && !se.IsTemp() {
			return &PermanentError{fmt.Errorf("notify: smtp refused recipient %s: %w", m.To, err)}
		}
		return fmt.Errorf("notify: smtp: %w", err)
	}
	return nil
}

// messageID makes a stable Message-ID local part from the key.
func messageID(key, from string) string {
	domain := from[strings.LastIndexByte(from, '@')+1:]
	var b strings.Builder
	for _, r := range key {
		if r < 128 && (r == '.' || r == '-' || r == '_' || ('0' <= r && r <= '9') || ('a' <= r && r <= 'z') || ('A' <= r && r <= 'Z')) {
			b.WriteRune(r)
		} else {
			fmt.Fprintf(&b, "=%02X", r)
		}
	}
	return b.String() + "@" + domain
}
