package billingd

import (
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ppnet/ppnet/internal/billing/notify"
)

// SMSSettings configures the DLT SMS HTTP gateway (notify.SMSConfig). The
// channel is on when URL is set; the API token is read from TokenFile so it
// stays out of the YAML and the process list.
type SMSSettings struct {
	URL        string        `yaml:"url"`         // gateway endpoint (http or https), POSTed form-encoded
	Sender     string        `yaml:"sender"`      // DLT sender header, 6 capital letters
	EntityID   string        `yaml:"entity_id"`   // DLT principal entity id (numeric)
	TemplateID string        `yaml:"template_id"` // DLT content template id of the bill notice (numeric)
	TokenFile  string        `yaml:"token_file"`  // file holding the gateway's bearer token (optional)
	Timeout    time.Duration `yaml:"timeout"`     // per request (default 30s)
}

// EmailSettings configures SMTP e-mail (notify.EmailConfig). The channel is
// on when Host is set; the password is read from PasswordFile.
type EmailSettings struct {
	Host         string        `yaml:"host"`
	Port         int           `yaml:"port"`          // default 587
	From         string        `yaml:"from"`          // bare address, e.g. bills@example.in
	Username     string        `yaml:"username"`      // SMTP AUTH PLAIN when set
	PasswordFile string        `yaml:"password_file"` // file holding the SMTP password; needed with username
	TLS          string        `yaml:"tls"`           // required (default), opportunistic, or none (loopback test servers only)
	Timeout      time.Duration `yaml:"timeout"`       // default 30s
}

func (s SMSSettings) set() bool {
	return s != SMSSettings{}
}

func (e EmailSettings) set() bool {
	return e != EmailSettings{}
}

// addSenderFlags adds the notification flags, defaulting to the YAML's values.
func addSenderFlags(fs *flag.FlagSet, s *SMSSettings, e *EmailSettings) {
	fs.StringVar(&s.URL, "sms-url", s.URL, "SMS gateway URL (DLT HTTP gateway); turns SMS on")
	fs.StringVar(&s.Sender, "sms-sender", s.Sender, "SMS DLT sender header (6 capital letters)")
	fs.StringVar(&s.EntityID, "sms-entity-id", s.EntityID, "SMS DLT principal entity id")
	fs.StringVar(&s.TemplateID, "sms-template-id", s.TemplateID, "SMS DLT content template id of the bill notice")
	fs.StringVar(&s.TokenFile, "sms-token-file", s.TokenFile, "file holding the SMS gateway's bearer token")
	fs.StringVar(&e.Host, "smtp-host", e.Host, "SMTP server host; turns e-mail on")
	fs.IntVar(&e.Port, "smtp-port", e.Port, "SMTP server port (default 587)")
	fs.StringVar(&e.From, "smtp-from", e.From, "e-mail From address, e.g. bills@example.in")
	fs.StringVar(&e.Username, "smtp-user", e.Username, "SMTP user (AUTH PLAIN); needs --smtp-password-file")
	fs.StringVar(&e.PasswordFile, "smtp-password-file", e.PasswordFile, "file holding the SMTP password")
	fs.StringVar(&e.TLS, "smtp-tls", e.TLS, "SMTP TLS: required (default), opportunistic, none (loopback test servers only)")
}

// readSecret reads a one-line secret file, without its trailing newline.
func readSecret(what, path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("billingd: %s: %v; fix: point it at a readable file holding the secret", what, err)
	}
	v := strings.TrimRight(string(b), "\r\n")
	if strings.TrimSpace(v) == "" || strings.ContainsAny(v, "\r\n") {
		return "", fmt.Errorf("billingd: %s %s is empty or holds more than one line; fix: write the secret alone on one line", what, path)
	}
	return v, nil
}

// sender validates the SMS settings and builds the gateway adapter.
func (s SMSSettings) sender() (notify.Sender, error) {
	if s.URL == "" {
		return nil, fmt.Errorf("billingd: sms: sender %q, entity_id %q, template_id %q given but no url; fix: set sms.url (--sms-url) to the gateway endpoint, or remove the sms settings", s.Sender, s.EntityID, s.TemplateID)
	}
	c := notify.SMSConfig{URL: s.URL, Sender: s.Sender, EntityID: s.EntityID, TemplateID: s.TemplateID}
	if s.TokenFile != "" {
		var err error
		if c.APIKey, err = readSecret("sms token_file", s.TokenFile); err != nil {
			return nil, err
		}
	}
	if s.Timeout < 0 {
		return nil, fmt.Errorf("billingd: sms: timeout %v; fix: give a positive duration, e.g. 30s", s.Timeout)
	}
	if s.Timeout == 0 {
		s.Timeout = 30 * time.Second
	}
	c.Client = &http.Client{Timeout: s.Timeout}
	sms, err := notify.NewSMS(c)
	if err != nil {
		return nil, fmt.Errorf("billingd: sms settings: %w", err)
	}
	return sms, nil
}

// sender validates the e-mail settings and builds the SMTP adapter.
func (e EmailSettings) sender() (notify.Sender, error) {
	if e.Host == "" {
		return nil, fmt.Errorf("billingd: email: from %q, username %q given but no host; fix: set email.host (--smtp-host) to the SMTP server, or remove the email settings", e.From, e.Username)
	}
	if e.Port == 0 {
		e.Port = 587
	}
	c := notify.EmailConfig{Host: e.Host, Port: e.Port, From: e.From, Username: e.Username, TLS: e.TLS, Timeout: e.Timeout}
	switch {
	case e.Username != "" && e.PasswordFile == "":
		return nil, fmt.Errorf("billingd: email: username %q without password_file; fix: put the SMTP password in a file (mode 0600) and set email.password_file (--smtp-password-file)", e.Username)
	case e.Username == "" && e.PasswordFile != "":
		return nil, fmt.Errorf("billingd: email: password_file %s without username; fix: set email.username (--smtp-user)", e.PasswordFile)
	case e.Username != "":
		var err error
		if c.Password, err = readSecret("email password_file", e.PasswordFile); err != nil {
			return nil, err
		}
	}
	if e.Timeout < 0 {
		return nil, fmt.Errorf("billingd: email: timeout %v; fix: give a positive duration, e.g. 30s", e.Timeout)
	}
	m, err := notify.NewEmail(c)
	if err != nil {
		return nil, fmt.Errorf("billingd: email settings: %w", err)
	}
	return m, nil
}

// Channel describes one notification channel as the daemon runs it.
type Channel struct {
	Channel string `json:"channel"` // sms or email
	Via     string `json:"via"`     // what delivers it: "SMS gateway <url>", "SMTP <host:port>", "demo sink <dir> (NOT sent)", an embedder's sender, or "" when off
}

// senders builds the notification senders: Config.Senders first (an
// embedder's), then the SMS and e-mail settings, then — for channels still
// without one — the demo sink. It also returns what each channel runs on.
func (c *Config) senders() (map[string]notify.Sender, []Channel, error) {
	out := map[string]notify.Sender{}
	via := map[string]string{}
	for k, v := range c.Senders {
		out[k], via[k] = v, "sender given by the embedding program"
	}
	var errs []error
	if c.SMS.set() && out[notify.ChannelSMS] == nil {
		s, err := c.SMS.sender()
		errs = append(errs, err)
		if err == nil {
			out[notify.ChannelSMS], via[notify.ChannelSMS] = s, "SMS gateway "+c.SMS.URL
		}
	}
	if c.Email.set() && out[notify.ChannelEmail] == nil {
		s, err := c.Email.sender()
		errs = append(errs, err)
		if err == nil {
			port := c.Email.Port
			if port == 0 {
				port = 587
			}
			out[notify.ChannelEmail], via[notify.ChannelEmail] = s, fmt.Sprintf("SMTP %s:%d", c.Email.Host, port)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, nil, err
	}
	if c.SinkDir != "" {
		for _, ch := range []string{notify.ChannelSMS, notify.ChannelEmail} {
			if out[ch] == nil {
				out[ch], via[ch] = &FileSender{Dir: c.SinkDir, From: "billing@ppnet-demo.invalid"}, "demo sink "+c.SinkDir+" (written to files, NOT sent)"
			}
		}
	}
	chans := []Channel{{Channel: notify.ChannelSMS, Via: via[notify.ChannelSMS]}, {Channel: notify.ChannelEmail, Via: via[notify.ChannelEmail]}}
	for k := range via {
		if k != notify.ChannelSMS && k != notify.ChannelEmail {
			chans = append(chans, Channel{Channel: k, Via: via[k]})
		}
	}
	sort.SliceStable(chans[2:], func(i, j int) bool { return chans[2+i].Channel < chans[2+j].Channel })
	return out, chans, nil
}

// checkChannels warns, and records in ppnet_billing_notification_channel,
// when a channel has no sender: bills are then issued but nobody is told.
func (d *Daemon) checkChannels() {
	g := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "ppnet_billing_notification_channel",
		Help: "1 when bills are notified on the channel (sms, email), 0 when the channel has no sender."}, []string{"channel"})
	d.cfg.Registry.MustRegister(g)
	var off []string
	for _, c := range d.channels {
		v := 0.0
		if c.Via != "" {
			v = 1
		} else {
			off = append(off, c.Channel)
		}
		g.WithLabelValues(c.Channel).Set(v)
	}
	switch {
	case len(off) == len(d.channels):
		d.log.Warn("no notification channel configured: bills are issued but no customer is notified; fix: set sms (--sms-url …) and/or email (--smtp-host …), or --sink DIR for a demo")
	case len(off) > 0:
		d.log.Warn("notification channel not configured: bills are not notified on it", "channels", off)
	}
}

// Channels reports how each notification channel is delivered ("" Via:
// not configured, so bills are not notified on it).
func (d *Daemon) Channels() []Channel { return append([]Channel(nil), d.channels...) }
