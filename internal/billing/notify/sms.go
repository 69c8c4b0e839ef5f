package notify

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
)

// SMSConfig configures the HTTP SMS gateway adapter. Indian commercial SMS
// must follow TRAI's DLT rules: a registered sender header, the principal
// entity id and a registered content template id, and text that matches
// the template.
type SMSConfig struct {
	URL        string // gateway endpoint, POSTed form-encoded
	APIKey     string // sent as the Authorization: Bearer header when set
	Sender     string // DLT sender header, 6 letters, e.g. "BESCOM"
	EntityID   string // DLT principal entity id
	TemplateID string // DLT content template id of the bill notice
	Client     *http.Client
}

var (
	senderPattern = regexp.MustCompile(`^[A-Z]{6}$`)
	dltIDPattern  = regexp.MustCompile(`^[0-9]{10,25}$`)
)

// SMS is the gateway adapter.
type SMS struct{ c SMSConfig }

// NewSMS validates the configuration.
func NewSMS(c SMSConfig) (*SMS, error) {
	u, err := url.Parse(c.URL)
	switch {
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		return nil, fmt.Errorf("notify: sms gateway url %q; fix: give an http(s) URL", c.URL)
	case !senderPattern.MatchString(c.Sender):
		return nil, fmt.Errorf("notify: sms sender header %q; fix: use the 6-letter DLT header registered for the utility", c.Sender)
	case !dltIDPattern.MatchString(c.EntityID):
		return nil, fmt.Errorf("notify: DLT entity id %q; fix: use the numeric principal entity id from the DLT portal", c.EntityID)
	case !dltIDPattern.MatchString(c.TemplateID):
		return nil, fmt.Errorf("notify: DLT template id %q; fix: use the numeric content template id from the DLT portal", c.TemplateID)
	}
	if c.Client == nil {
		c.Client = http.DefaultClient
	}
	return &SMS{c: c}, nil
}

// Send posts one message. 4xx answers are permanent failures; 5xx and
// transport errors are retried by the outbox.
func (s *SMS) Send(ctx context.Context, m Message) error {
	form := url.Values{
		"sender":      {s.c.Sender},
		"entity_id":   {s.c.EntityID},
		"template_id": {s.c.TemplateID},
		"to":          {m.To},
		"message":     {m.Body},
		"reference":   {m.Key},
	}
	for i, v := range m.Vars { // DLT template variables, in template order
		form.Set(fmt.Sprintf("var%d", i+1), v)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.c.URL, strings.NewReader(form.Encode()))
	if err != nil {
		return &PermanentError{fmt.Errorf("notify: sms: %w", err)}
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Idempotency-Key", m.Key)
	if s.c.APIKey != "" {
		req.Header.Set("Authorization", "Bearer "+s.c.APIKey)
	}
	resp, err := s.c.Client.Do(req)
	if err != nil {
		return fmt.Errorf("notify: sms gateway: %w", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		return nil
	case resp.StatusCode >= 400 && resp.StatusCode < 500 && resp.StatusCode != http.StatusTooManyRequests:
		return &PermanentError{fmt.Errorf("notify: sms gateway rejected the message: %s: %s", resp.Status, strings.TrimSpace(string(body)))}
	default:
		return errors.New("notify: sms gateway: " + resp.Status)
	}
}
