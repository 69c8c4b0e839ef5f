package customer

import (
	"errors"
	"fmt"
	"net/mail"
	"regexp"
	"strings"
	"unicode/utf8"
)

// Customer is one registered customer, PII in the clear. It exists only
// while a customer is created or imported, and after a quorum reveal.
type Customer struct {
	ID              string  `json:"id"`
	Name            string  `json:"name"`
	Email           string  `json:"email"`
	Phone           string  `json:"phone"`
	Address         Address `json:"address"`
	AccountNumber   string  `json:"account_number"`
	SanctionedLoadW int64   `json:"sanctioned_load_w"`
	Tariff          string  `json:"tariff"`   // tariff schedule id
	MeterID         string  `json:"meter_id"` // producer id in the aggregation network
}

// Address is a postal address; Street is PII, the rest is the generalised
// form that may be shown.
type Address struct {
	Street   string `json:"street"`
	Locality string `json:"locality"`
	City     string `json:"city"`
	PIN      string `json:"pin"`
}

// PII is the sealed part of a customer.
type PII struct {
	Name          string `json:"name"`
	Email         string `json:"email"`
	Street        string `json:"street"`
	AccountNumber string `json:"account_number"`
}

// ErrInvalid is wrapped by every customer validation error.
var ErrInvalid = errors.New("customer: invalid customer")

var (
	idPattern      = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$`)
	phonePattern   = regexp.MustCompile(`^\+91[6-9][0-9]{9}$`)
	pinPattern     = regexp.MustCompile(`^[1-9][0-9]{5}$`)
	accountPattern = regexp.MustCompile(`^[0-9]{6,20}$`)
)

// Validate checks a customer and names the first bad field with its fix.
func (c *Customer) Validate() error {
	bad := func(field, value, fix string) error {
		return fmt.Errorf("%w %q: %s %q; fix: %s", ErrInvalid, c.ID, field, value, fix)
	}
	if !idPattern.MatchString(c.ID) {
		return fmt.Errorf("%w: customer id %q; fix: use 1-64 letters, digits, - or _", ErrInvalid, c.ID)
	}
	if !utf8.ValidString(c.Name) || len(strings.Fields(c.Name)) == 0 || len(c.Name) > 200 {
		return bad("name", c.Name, "give the customer's name (UTF-8, at most 200 bytes)")
	}
	if a, err := mail.ParseAddress(c.Email); err != nil || a.Address != c.Email || a.Name != "" {
		return bad("e-mail", c.Email, "give a bare address such as name@example.in")
	}
	if !phonePattern.MatchString(c.Phone) {
		return bad("phone", c.Phone, "give an Indian mobile number as +91 and 10 digits, e.g. +919876543210")
	}
	if !utf8.ValidString(c.Address.Street+c.Address.Locality+c.Address.City) || strings.TrimSpace(c.Address.Locality) == "" || strings.TrimSpace(c.Address.City) == "" {
		return bad("address", c.Address.Locality, "give at least locality and city")
	}
	if !pinPattern.MatchString(c.Address.PIN) {
		return bad("PIN code", c.Address.PIN, "give the 6-digit postal PIN code")
	}
	if !accountPattern.MatchString(c.AccountNumber) {
		return bad("account number", c.AccountNumber, "give the utility account number, 6 to 20 digits")
	}
	if c.SanctionedLoadW <= 0 || c.SanctionedLoadW > 10_000_000 {
		return bad("sanctioned load", fmt.Sprintf("%d W", c.SanctionedLoadW), "give the sanctioned load in kW, above 0 and at most 10000")
	}
	if c.Tariff == "" {
		return bad("tariff", c.Tariff, "give the tariff schedule id, e.g. kerc-lt2a-fy2025-26")
	}
	if !idPattern.MatchString(c.MeterID) {
		return bad("meter id", c.MeterID, "give the meter's producer id (letters, digits, - or _)")
	}
	return nil
}

// pii returns the fields that are sealed at rest.
func (c *Customer) pii() PII {
	return PII{Name: c.Name, Email: c.Email, Street: c.Address.Street, AccountNumber: c.AccountNumber}
}
