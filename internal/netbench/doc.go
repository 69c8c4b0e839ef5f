// Package netbench measures ppnet's data plane against plain nats.go on
// the same embedded nats-server (file storage, as the daemons run it), in
// one process and one run, so every target is a ratio to a baseline
// measured under the same load.
//
// # What is measured
//
//   - Raw baseline, n messages of 64 bytes: JetStream async publish
//     (all acknowledgements awaited), an ordered consumer reading them, a
//     durable pull consumer acknowledging each one explicitly.
//   - PPN ingest: rounds of bundles are published first, then one PPN
//     (package ppn, the real daemon) is started and timed to the last
//     bundle applied. Unbatched: one meter per producer, one bundle per
//     meter per round, timed from the end of the first (warm-up) round — in
//     which the PPN derives and caches a pairwise key per producer — the
//     rate in bundles/s against the durable-consume rate; the PPN's client
//     may hold up to 1024 prefetched bundles when the clock starts (a bias
//     of at most 1024 in 60,000 at the default size). Batched: one
//     concentrator, a chunk of meters per bundle, timed from just before
//     the PPN starts (connecting and every fetch included), the rate in
//     shares/s (one share per meter per round for this PPN).
//   - End to end: each round's bundles are published (async, with the
//     producers' message ids), then the seal marker (authenticated as PPN
//     0's, one HMAC tag per PPN: ppn.SealMarker); five PPNs ingest, emit
//     their aggregated shares on the seal, the consumers recover the two
//     one-round sum rules. The time from the first publish to the last
//     final result is set beside the raw baseline for the same bundle bytes:
//     published the same way and read by five ordered consumers. Seal to
//     result is from the seal's acknowledgement to each final result.
//
// Splitting and sealing at the meters is not timed here (package sharing
// and cmd/sim measure it); the table prints its set-up time. Every result
// is checked against the plain sum of the readings, and the ingest runs
// check that the PPN added every bundle, so a fast wrong run fails.
package netbench
