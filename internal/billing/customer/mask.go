package customer

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Masked is the displayable view of a customer: what screens, PDFs, APIs
// and logs show.
type Masked struct {
	ID              string `json:"id"`
	Name            string `json:"name"`    // "R**** K****"
	Email           string `json:"email"`   // "r****@example.in"
	Phone           string `json:"phone"`   // visible
	Address         string `json:"address"` // "Jayanagar, Bengaluru 560041"
	Locality        string `json:"locality"`
	City            string `json:"city"`
	PIN             string `json:"pin"`
	AccountNumber   string `json:"account_number"` // "XXXXXX1234"
	SanctionedLoadW int64  `json:"sanctioned_load_w"`
	Tariff          string `json:"tariff"`
	MeterID         string `json:"meter_id"`
}

// stars hides the length of masked text: every masked word shows its
// initial and the same number of stars.
const stars = "****"

// Mask returns the masked view of a customer.
func Mask(c *Customer) Masked {
	return Masked{
		ID:              c.ID,
		Name:            MaskName(c.Name),
		Email:           MaskEmail(c.Email),
		Phone:           c.Phone,
		Address:         GeneraliseAddress(c.Address),
		Locality:        c.Address.Locality,
		City:            c.Address.City,
		PIN:             c.Address.PIN,
		AccountNumber:   MaskAccount(c.AccountNumber),
		SanctionedLoadW: c.SanctionedLoadW,
		Tariff:          c.Tariff,
		MeterID:         c.MeterID,
	}
}

// MaskName keeps each word's initial: "Ramesh Kumar" → "R**** K****".
func MaskName(name string) string {
	words := strings.Fields(name)
	for i, w := range words {
		r, _ := utf8.DecodeRuneInString(w)
		words[i] = string(unicode.ToUpper(r)) + stars
	}
	return strings.Join(words, " ")
}

// MaskEmail keeps the first character and the domain:
// "ramesh.k@example.in" → "r****@example.in".
func MaskEmail(email string) string {
	at := strings.LastIndexByte(email, '@')
	if at <= 0 {
		return stars
	}
	r, _ := utf8.DecodeRuneInString(email)
	return string(r) + stars + email[at:]
}

// MaskAccount keeps the last four digits: "0012345678" → "XXXXXX5678".
func MaskAccount(acct string) string {
	if len(acct) <= 4 {
		return strings.Repeat("X", len(acct))
	}
	return strings.Repeat("X", len(acct)-4) + acct[len(acct)-4:]
}

// GeneraliseAddress drops the street: "Jayanagar, Bengaluru 560041".
func GeneraliseAddress(a Address) string {
	return strings.TrimSpace(a.Locality) + ", " + strings.TrimSpace(a.City) + " " + a.PIN
}
