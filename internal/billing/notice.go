package billing

import (
	"fmt"
	"strings"

	"github.com/ppnet/ppnet/internal/billing/bill"
	"github.com/ppnet/ppnet/internal/billing/notify"
	"github.com/ppnet/ppnet/internal/billing/tariff"
)

// notify queues the SMS and e-mail for an issued bill, each under an
// idempotency key of the bill ID and channel, for the channels configured.
func (s *Service) notify(b bill.Bill) error {
	link, err := s.PayLink(b)
	if err != nil {
		return err
	}
	est := ""
	if b.Estimated {
		est = " (includes estimated usage)"
	}
	text := fmt.Sprintf("Electricity bill %s for %s: Rs %s%s, due %s. Pay: %s",
		b.CustomerID, b.Period, tariff.Rupees(b.TotalPaise), est, b.DueDate, link)
	if s.wants(notify.ChannelSMS, b) {
		m := notify.Message{Key: b.ID() + "/sms", Channel: notify.ChannelSMS, To: b.Customer.Phone, Body: text,
			Vars: []string{b.CustomerID, b.Period, tariff.Rupees(b.TotalPaise), b.DueDate, link}}
		if _, err := s.outbox.Enqueue(m); err != nil {
			return err
		}
	}
	if s.wants(notify.ChannelEmail, b) {
		doc, err := s.render(b)
		if err != nil {
			return err
		}
		// The outbox stores a reference; resolveContact looks the address
		// up (sealed under the contact key) only when sending.
		m := notify.Message{Key: b.ID() + "/email", Channel: notify.ChannelEmail, To: contactRef + b.CustomerID,
			Subject:     fmt.Sprintf("Your electricity bill for %s (%s)", b.Period, b.CustomerID),
			Body:        fmt.Sprintf("Dear %s,\n\n%s\n\nThe bill is attached as a PDF.\n", b.Customer.Name, text),
			Attachments: []notify.Attachment{{Name: "bill-" + b.Period + ".pdf", ContentType: "application/pdf", Data: doc}}}
		if _, err := s.outbox.Enqueue(m); err != nil {
			return err
		}
	}
	return nil
}

// wants reports whether a channel is configured and the bill's message on
// it is not queued yet (so a retry after a crash queues what is missing).
func (s *Service) wants(channel string, b bill.Bill) bool {
	if _, ok := s.cfg.Senders[channel]; !ok {
		return false
	}
	_, err := s.outbox.Get(b.ID() + "/" + channel)
	return err != nil
}

// contactRef prefixes a customer ID in a stored recipient.
const contactRef = "customer:"

// resolveContact replaces a customer reference with the customer's e-mail
// address at send time.
func (s *Service) resolveContact(m notify.Message) (notify.Message, error) {
	id, ok := strings.CutPrefix(m.To, contactRef)
	if !ok || m.Channel != notify.ChannelEmail {
		return m, nil
	}
	to, err := s.customers.Contact(id)
	if err != nil {
		return m, &notify.PermanentError{Err: err}
	}
	m.To = to
	return m, nil
}
