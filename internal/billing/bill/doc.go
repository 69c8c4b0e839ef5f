// Package bill turns per-producer period totals, as the aggregation network
// recovers them, into immutable customer bills, and stores them.
//
// # Inputs and traceability
//
// A [Totals] is one released result of a `per-producer` rule: the rule id,
// the time-of-use band it is restricted to ("" for all rounds), its window
// of rounds, the digest of the (producer, round) set the aggregate covers,
// and per meter the energy in Wh with the rounds covered and missing. Every
// bill records, per source, exactly these fields ([Trace]), so a bill
// traces to the rule, window, digest and coverage it came from.
//
// # Missing-data policy
//
// Let c = covered/(covered+missing) be a source's coverage for the meter.
//
//   - c = 1: billed as measured.
//   - MinCoverage ≤ c < 1 (default 0.75): the missing rounds are estimated
//     at the covered rounds' average, billed = round(measured·(covered+
//     missing)/covered); the bill is marked estimated and shows measured and
//     estimated energy separately. The next revision may replace the estimate
//     when the data arrives.
//   - c < MinCoverage, or no data at all for a customer: the bill is held —
//     stored with status held and the reason, no amount, no payment link —
//     until data or a manual reading lets a new revision be issued.
//
// A missing reading is never billed as zero.
//
// # Immutability
//
// A bill is written once under (customer, period, revision) and never
// rewritten; a correction is a new revision that names the one it
// supersedes and the reason. Payment is recorded beside the bill, not in it.
package bill
