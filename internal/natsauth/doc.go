// Package natsauth is ppnet's transport security on NATS: one NKey user per
// role instance with subject permissions that allow exactly what the role
// does, client options to connect as that user, key files, and TLS with a
// "TLS unless loopback" rule.
//
// # Threat model
//
// Confidentiality of readings does not rest on this package: every share is
// sealed end to end with AES-128-GCM for the one PPN (or consumer) that may
// open it (internal/seal), so the NATS server, its operator and any
// subscriber see only headers and ciphertext. What transport security adds:
//
//   - authentication: only enrolled role instances connect (NKey
//     challenge–response; the server stores public keys only);
//   - authorisation: a role can publish and read only its own subjects, so
//     a compromised meter cannot publish as another meter, read the bundle
//     stream, seal rounds or touch streams; a PPN cannot publish for a
//     consumer it does not serve; a consumer cannot read another consumer's
//     aggregates; nobody but the admin can create, change or delete streams;
//   - TLS off loopback: eavesdroppers on the wire see neither headers
//     (which meters reported when) nor credentials in transit.
//
// An admin (the configurator, or the devnet) holds full permissions and
// declares the streams; the other roles never need stream management.
//
// # Notation
//
// p is the subject prefix (default "ppnet"), B and A the bundle and
// aggregate streams, J = "$JS.API". An [Identity] is role/id, e.g.
// "ppn/ppn1"; its inbox prefix is "_INBOX.<role>.<id>", so a role can
// subscribe only to replies addressed to itself. The permission table is in
// [Permissions] and docs/security.md.
//
// # References
//
// NATS authorization: https://docs.nats.io/running-a-nats-service/configuration/securing_nats/authorization;
// NKeys: https://docs.nats.io/running-a-nats-service/configuration/securing_nats/auth_intro/nkey_auth;
// JetStream API subjects: https://docs.nats.io/reference/reference-protocols/nats_api_reference.
package natsauth
