// Package registry is the configurator's state: the producers, PPNs and
// consumers enrolled with their public keys, the rules consumers asked for
// and the policy admitted, and the epochs planned from them (DESIGN §3, §5;
// issue 6). It is stored in one bbolt file that only the configurator
// opens.
//
// # Model
//
// A producer is one meter: id, labels (matched by rule selectors, e.g.
// feeder=F12), declared largest reading and X25519 public key. A PPN has a
// public x-coordinate x (1 ≤ x < q, never reused, not even after the PPN is
// retired), a capacity L in sums per round, an operator and a key. A
// consumer has a grant (policy.FileGrant) and a key. A rule has an id, a
// consumer, a producer selection (ids and/or a label selector), a window k,
// a kind and optionally a time-of-use band.
//
// A rule request is admitted only if the whole resulting rule set passes
// [policy.Check]: the consumer's grant, the field bound and the
// differencing attack over every coalition of consumers. A refusal leaves
// the registry unchanged and returns the check's report.
//
// # Epochs
//
// An epoch e = (number, first round F_e, clock, threshold t, w, rules with
// their resolved producer sets, the PPN set, the assignment) is planned by
// solving minPPN (package optimize) with one minPPN consumer per rule and
// the enrolled, unretired PPNs as candidates with their own capacities; a
// producer serves the union of the PPN sets of its rules. The epoch stores
// snapshots of every key and label it uses, so it renders the same
// configuration whatever is enrolled or retired later. F_e must lie after
// the current round and after the previous epoch's first round, and must be
// a multiple of every window of this and the previous epoch, so that no
// window straddles the switch (windows tile from round 0).
//
// [Epoch.Render] turns an epoch into the static configuration the data
// plane reads (package netconfig): round 0 of the rendered file is global
// round F_e, and when the next epoch is known the file's round count ends
// the epoch at F_{e+1}. [Registry.Publish] writes the rendered file into a
// JetStream key-value bucket under key "epoch.<number>", which roles can
// watch; [DecodeEntry] decodes an entry as a role would.
//
// [Registry.AddProducers] enrols many meters in one transaction, from a
// file read by [DecodeProducers].
//
// # Threat model
//
// The registry holds public keys only; no private key ever reaches the
// configurator. Whoever can write the file (or the KV bucket) decides who
// receives which aggregate, so both must be writable by the operator alone:
// the file by file permissions (0600), the bucket by NATS permissions (the
// admin role of internal/natsauth). Roles decode published entries with
// [DecodeEntry], which re-checks them with netconfig; they do not verify a
// signature, so the bucket's permissions are the protection.
//
// # References
//
// C. Rottondi, G. Verticale, A. Capone, "A security framework for smart
// metering with multiple data consumers" (2012): rules, PPNs and minPPN.
// docs/deploy.md (operation), docs/policy.md (the check), docs/minppn.md
// (the solvers), docs/network.md (the network file).
package registry
