// Package wire defines ppnet's binary messages on the NATS streams and their
// strict decoders. Nothing on the hot path is JSON: every message is a short
// fixed header, big-endian integers, and length-prefixed byte strings.
//
// # Messages
//
// Every message starts with the magic byte 'P', the format version 1 and a
// type byte:
//
//   - [Bundle] (type 1): one producer's share bundle for one round. A
//     producer is a single meter or a concentrator batching many meters; a
//     large concentrator splits a round into chunks, one Bundle each. The
//     clear header names epoch, round, sender, chunk and the meters covered
//     (indexes into the network configuration, strictly increasing). It
//     carries one sealed part per PPN: the AEAD ciphertext of the shares f_m(x_n)
//     of the bundle's meters m that serve PPN n, in meter order, 8 bytes each.
//   - [Seal] (type 2): the marker that closes every round ≤ Round of an epoch,
//     appended to the bundle stream by whichever PPN's clock passes the
//     deadline first, with one 16-byte tag per PPN of the epoch (under the
//     PPN–PPN keys, package seal) so that only a PPN can close a round.
//   - [Aggregate] (type 3): one PPN's aggregated share of one (rule,
//     window), sealed for the rule's consumer, with the number of
//     (producer, round) pairs it covers, the runs of the pairs it misses, and
//     a SHA-256 digest of that coverage.
//
// The associated data of each sealed payload is the clear header that
// precedes it (plus the PPN index for a part), so no header field can be
// changed without the open failing. Nonces bind (epoch, round, chunk) for
// parts and (epoch, rule, window) for aggregates; see package seal.
//
// # Threat model
//
// Decoders take bytes from the network: they never panic, reject
// non-canonical encodings (unsorted meters, trailing bytes, field elements
// ≥ q) and bound every length by [MaxMessage] before allocating.
package wire
