// Package paylink makes and checks payment links for bills, and serves the
// payment page that settles them (no real payment provider: the page
// records the payment in the bill store).
//
// A link carries a token t = base64url(claims) "." base64url(HMAC-SHA256(K,
// "ppnet-paylink-v1" ‖ claims)), where claims is the JSON of the bill ID, the
// amount in paise and the expiry time. The key K (at least 32 bytes) stays
// with the billing consumer. So a link is bound to one bill revision and
// one amount, cannot be altered or forged without K, and stops working at
// its expiry; the store refuses to record a second payment, so replaying a
// link is harmless.
//
// References: RFC 2104 (HMAC), RFC 4648 §5 (base64url).
package paylink

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"
)

// Errors callers match with errors.Is.
var (
	ErrMalformed = errors.New("paylink: malformed link")
	ErrSignature = errors.New("paylink: bad signature; the link was altered or not issued by this utility")
	ErrExpired   = errors.New("paylink: link expired")
)

const domain = "ppnet-paylink-v1"

// maxToken bounds the token a verifier will look at.
const maxToken = 2048

// Claims is what a link is bound to.
type Claims struct {
	BillID      string    `json:"bill"`
	AmountPaise int64     `json:"amount"`
	Expires     time.Time `json:"exp"`
}

// Signer issues and verifies links under one key.
type Signer struct {
	key []byte
	now func() time.Time
}

// NewSigner returns a Signer; key must be at least 32 bytes of secret
// randomness, now may be nil (time.Now).
func NewSigner(key []byte, now func() time.Time) (*Signer, error) {
	if len(key) < 32 {
		return nil, fmt.Errorf("paylink: key of %d bytes; fix: use at least 32 random bytes", len(key))
	}
	if now == nil {
		now = time.Now
	}
	return &Signer{key: append([]byte{}, key...), now: now}, nil
}

func (s *Signer) mac(claims []byte) []byte {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte(domain))
	m.Write(claims)
	return m.Sum(nil)
}

// Sign returns the token for a bill revision and amount, valid until expires.
func (s *Signer) Sign(c Claims) (string, error) {
	if c.BillID == "" || c.AmountPaise <= 0 {
		return "", fmt.Errorf("paylink: cannot sign bill %q for %d paise; fix: only issued bills with a positive amount get links", c.BillID, c.AmountPaise)
	}
	c.Expires = c.Expires.UTC().Truncate(time.Second)
	claims, err := json.Marshal(c)
	if err != nil {
		return "", err
	}
	enc := base64.RawURLEncoding
	return enc.EncodeToString(claims) + "." + enc.EncodeToString(s.mac(claims)), nil
}

// Verify checks a token's signature and expiry and returns its claims.
func (s *Signer) Verify(token string) (Claims, error) {
	if len(token) > maxToken {
		return Claims{}, fmt.Errorf("%w: %d bytes", ErrMalformed, len(token))
	}
	body, sig, ok := strings.Cut(token, ".")
	enc := base64.RawURLEncoding
	claims, err1 := enc.DecodeString(body)
	mac, err2 := enc.DecodeString(sig)
	if !ok || err1 != nil || err2 != nil {
		return Claims{}, fmt.Errorf("%w: not claims.signature in base64url; fix: open the link exactly as sent", ErrMalformed)
	}
	if !hmac.Equal(mac, s.mac(claims)) {
		return Claims{}, ErrSignature
	}
	var c Claims
	if err := json.Unmarshal(claims, &c); err != nil {
		return Claims{}, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if !s.now().Before(c.Expires) {
		return Claims{}, fmt.Errorf("%w at %s; fix: ask for a fresh link", ErrExpired, c.Expires.Format(time.RFC3339))
	}
	return c, nil
}

// URL is the payment page address for a token under base (e.g.
// "https://pay.example.in").
func URL(base, token string) string {
	return strings.TrimRight(base, "/") + "/pay?t=" + url.QueryEscape(token)
}
