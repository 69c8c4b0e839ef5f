// Package customer is the billing consumer's customer registry with static
// masking of personal data.
//
// A customer has a name, customer ID, e-mail, phone, postal address, utility
// account number, sanctioned load, tariff category and the meter (producer)
// id whose aggregates bill them. The PII fields — name, e-mail, street
// address and account number — are sealed at rest; everything a screen, PDF,
// API or log shows is the [Masked] view: "R**** K****", "r****@example.in",
// "XXXXXX1234", the address generalised to locality, city and PIN code. The
// phone number and customer ID stay visible (the utility needs them to reach
// and identify the customer).
//
// # Threat model and construction
//
// The registry is created with [Init], which draws an X25519 reveal key,
// splits its private half into n shares with threshold k (HashiCorp Vault's
// shamir package, GF(2^8) per byte) for n officers, and keeps only the
// public half. Each record's PII is sealed with a data key of its own:
// an ephemeral X25519 key agreement with the reveal public key, HKDF-SHA256
// bound to the customer ID, then AES-256-GCM with a random per-record nonce
// and the customer ID as associated data. So the running billing service can
// add and update customers but cannot read their PII back; neither can
// anyone who copies the bbolt file. [Store.Reveal] combines officers' shares,
// accepts the result only if it is the private half of the stored public key
// (k−1 shares give an unrelated value, which is refused), opens one record,
// and appends the outcome — success or refusal — to a hash-chained,
// append-only audit log ([Store.Audit], [Store.VerifyAudit]) before
// returning anything.
//
// With a contact key configured, the e-mail address is also sealed under that
// service-held key, so bills can be e-mailed ([Store.Contact]); that one field
// is then readable by the running service, never shown.
//
// Masking is static and for display; it is not anonymisation. Masked forms
// keep initials, the e-mail domain, the account's last four digits and the
// locality and PIN code.
//
// # References
//
//   - A. Shamir, "How to share a secret", CACM 22(11), 1979.
//   - RFC 7748 (X25519), RFC 5869 (HKDF), NIST SP 800-38D (GCM).
//   - "Federated Dynamic Data Masking for IoT-Enabled Smart Energy Meters",
//     IJIRSET, 2025 (static masking of customer PII).
package customer
