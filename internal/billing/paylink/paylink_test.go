package paylink

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2026, 4, 2, 9, 0, 0, 0, time.UTC)

func signer(t testing.TB, key byte, now *time.Time) *Signer {
	t.Helper()
	s, err := NewSigner(bytes.Repeat([]byte{key}, 32), func() time.Time { return *now })
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestSignVerify(t *testing.T) {
	now := t0
	s := signer(t, 1, &now)
	c := Claims{BillID: "KA-000001/2026-03/r1", AmountPaise: 198700, Expires: t0.Add(30 * 24 * time.Hour)}
	tok, err := s.Sign(c)
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.Verify(tok)
	if err != nil || got.BillID != c.BillID || got.AmountPaise != c.AmountPaise || !got.Expires.Equal(c.Expires) {
		t.Fatalf("Verify = %+v, %v", got, err)
	}
	body, sig, _ := strings.Cut(tok, ".")
	forge := func(edit func(string) string) string {
		raw, _ := base64.RawURLEncoding.DecodeString(body)
		return base64.RawURLEncoding.EncodeToString([]byte(edit(string(raw)))) + "." + sig
	}
	tests := []struct {
		name  string
		token string
		s     *Signer
		want  error
	}{
		{"amount altered", forge(func(s string) string { return strings.Replace(s, "198700", "100", 1) }), s, ErrSignature},
		{"bill altered", forge(func(s string) string { return strings.Replace(s, "r1", "r2", 1) }), s, ErrSignature},
		{"other key", tok, signer(t, 2, &now), ErrSignature},
		{"no dot", body + sig, s, ErrMalformed},
		{"not base64", "!!.!!", s, ErrMalformed},
		{"huge", strings.Repeat("a", 5000), s, ErrMalformed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := tc.s.Verify(tc.token); !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
		})
	}
	now = c.Expires
	if _, err := s.Verify(tok); !errors.Is(err, ErrExpired) {
		t.Fatalf("at expiry: %v", err)
	}
	if _, err := NewSigner([]byte("short"), nil); err == nil {
		t.Fatal("short key accepted")
	}
	if _, err := s.Sign(Claims{BillID: "x", AmountPaise: 0}); err == nil {
		t.Fatal("zero-amount link signed")
	}
}

type ledger struct {
	sum  Summary
	pays int
}

func (l *ledger) Summary(id string) (Summary, error) {
	if id != l.sum.BillID {
		return Summary{}, fmt.Errorf("no bill %s", id)
	}
	return l.sum, nil
}

func (l *ledger) Pay(id string, amount int64, _ string) error {
	if l.sum.Paid {
		return errors.New("already paid")
	}
	if amount != l.sum.AmountPaise {
		return errors.New("wrong amount")
	}
	l.pays++
	l.sum.Paid = true
	return nil
}

func TestPaymentPage(t *testing.T) {
	now := t0
	s := signer(t, 1, &now)
	l := &ledger{sum: Summary{BillID: "KA-000001/2026-03/r1", CustomerName: "R**** K****", Period: "2026-03", AmountPaise: 198700}}
	srv := httptest.NewServer(Handler(s, l, nil))
	defer srv.Close()
	tok, err := s.Sign(Claims{BillID: l.sum.BillID, AmountPaise: 198700, Expires: t0.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	get := func(u string) (int, string) {
		resp, err := http.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	post := func(tok string) (int, string) {
		resp, err := http.PostForm(srv.URL+"/pay", url.Values{"t": {tok}})
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := get(URL(srv.URL, tok)); code != 200 || !strings.Contains(body, "Rs 1987.00") || !strings.Contains(body, `id="pay"`) {
		t.Fatalf("GET: %d %s", code, body)
	}
	if code, body := post(tok); code != 200 || !strings.Contains(body, "Payment received") || l.pays != 1 {
		t.Fatalf("POST: %d %s (pays %d)", code, body, l.pays)
	}
	if code, body := post(tok); code != 200 || !strings.Contains(body, "already paid") || l.pays != 1 {
		t.Fatalf("second POST: %d %s (pays %d)", code, body, l.pays)
	}
	other, _ := s.Sign(Claims{BillID: l.sum.BillID, AmountPaise: 100, Expires: t0.Add(time.Hour)})
	if code, _ := get(URL(srv.URL, other)); code != http.StatusConflict {
		t.Fatalf("amount mismatch: %d", code)
	}
	if code, _ := get(srv.URL + "/pay?t=" + strings.Replace(tok, "e", "f", 1)); code != http.StatusBadRequest {
		t.Fatalf("forged: %d", code)
	}
	now = t0.Add(2 * time.Hour)
	if code, body := get(URL(srv.URL, tok)); code != http.StatusGone || !strings.Contains(body, "expired") {
		t.Fatalf("expired: %d %s", code, body)
	}
}

func FuzzVerify(f *testing.F) {
	now := t0
	s := signer(f, 1, &now)
	tok, _ := s.Sign(Claims{BillID: "KA-1/2026-03/r1", AmountPaise: 5, Expires: t0.Add(time.Hour)})
	f.Add(tok)
	f.Add("e30.AAAA")
	f.Fuzz(func(t *testing.T, token string) {
		c, err := s.Verify(token)
		if err == nil && token != tok {
			// Only tokens carrying a valid MAC verify; any other accepted
			// token must re-sign to itself (the same claims bytes).
			again, _ := s.Sign(c)
			if again != token {
				t.Fatalf("accepted a token not issued by the signer: %q", token)
			}
		}
	})
}
