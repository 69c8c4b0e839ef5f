package customer

import (
	"crypto/ecdh"
	"crypto/subtle"
	"errors"
	"fmt"
	"strings"

	"github.com/hashicorp/vault/shamir"
)

// Share is one officer's share of the reveal key.
type Share struct {
	Officer string // who presents it; recorded in the audit log
	Share   []byte // as returned by Init
}

// RevealRequest asks for one customer's raw PII.
type RevealRequest struct {
	CustomerID string
	Reason     string // recorded in the audit log; required
	Shares     []Share
}

func splitKey(key []byte, n, k int) ([][]byte, error) {
	shares, err := shamir.Split(key, n, k)
	if err != nil {
		return nil, fmt.Errorf("customer: split reveal key: %w", err)
	}
	return shares, nil
}

// combine reconstructs the reveal private key from shares and checks it
// against the stored public key. Fewer than the threshold of shares
// interpolate to an unrelated value, which this check refuses.
func (s *Store) combine(shares []Share) (*ecdh.PrivateKey, error) {
	if len(shares) < 2 {
		return nil, fmt.Errorf("%w: %d share(s) given, the quorum is %d of %d officers; fix: collect more officers' shares", ErrQuorum, len(shares), s.meta.Threshold, s.meta.Officers)
	}
	parts := make([][]byte, len(shares))
	for i, sh := range shares {
		parts[i] = sh.Share
	}
	key, err := shamir.Combine(parts)
	if err != nil {
		return nil, fmt.Errorf("%w: %v; fix: present each officer's share exactly as issued", ErrQuorum, err)
	}
	priv, err := ecdh.X25519().NewPrivateKey(key)
	if err != nil || subtle.ConstantTimeCompare(priv.PublicKey().Bytes(), s.meta.PublicKey) != 1 {
		return nil, fmt.Errorf("%w: %d share(s) given, the quorum is %d of %d officers; fix: present at least %d distinct, unaltered shares",
			ErrQuorum, len(shares), s.meta.Threshold, s.meta.Officers, s.meta.Threshold)
	}
	return priv, nil
}

// Reveal returns one customer's raw PII if the shares reconstruct the
// reveal key. Every attempt, granted or refused, is appended to the audit
// log first; if the log cannot be written nothing is revealed.
func (s *Store) Reveal(req RevealRequest) (Customer, error) {
	officers := make([]string, len(req.Shares))
	for i, sh := range req.Shares {
		officers[i] = sh.Officer
	}
	fail := func(err error) (Customer, error) {
		if aerr := s.appendAudit(AuditEntry{Action: "reveal", CustomerID: req.CustomerID, Officers: officers, Reason: req.Reason, Outcome: "refused: " + err.Error()}); aerr != nil {
			return Customer{}, errors.Join(err, aerr)
		}
		return Customer{}, err
	}
	if strings.TrimSpace(req.Reason) == "" {
		return fail(errors.New("customer: reveal needs a reason; fix: state why (ticket, complaint, court order)"))
	}
	seen := map[string]bool{}
	for _, o := range officers {
		if o == "" || seen[o] {
			return fail(fmt.Errorf("customer: officer %q named twice or empty; fix: each share must come from a distinct, named officer", o))
		}
		seen[o] = true
	}
	r, err := s.get(req.CustomerID)
	if err != nil {
		return fail(err)
	}
	priv, err := s.combine(req.Shares)
	if err != nil {
		return fail(err)
	}
	p, err := open(priv, req.CustomerID, r.Sealed)
	if err != nil {
		return fail(err)
	}
	if err := s.appendAudit(AuditEntry{Action: "reveal", CustomerID: req.CustomerID, Officers: officers, Reason: req.Reason, Outcome: "granted"}); err != nil {
		return Customer{}, fmt.Errorf("customer: audit log not written, nothing revealed: %w", err)
	}
	m := r.Masked
	return Customer{ID: m.ID, Name: p.Name, Email: p.Email, Phone: m.Phone,
		Address:       Address{Street: p.Street, Locality: m.Locality, City: m.City, PIN: m.PIN},
		AccountNumber: p.AccountNumber, SanctionedLoadW: m.SanctionedLoadW, Tariff: m.Tariff, MeterID: m.MeterID}, nil
}
