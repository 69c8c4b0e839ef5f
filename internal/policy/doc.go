// Package policy decides whether a set of aggregation rules is safe to
// run: each rule against its consumer's grant and the field bound, and the
// whole set against the differencing attack (DESIGN §2, issue 6).
//
// # Rules and releases
//
// Producers p ∈ P report one reading x_{p,τ} per round τ. A rule of
// consumer c has a producer set Π, a window of k rounds and a kind;
// windows tile time from round 0 (window j is rounds [j·k, (j+1)·k)) and
// only windows that end within the horizon H are considered. A band
// restricts a rule to the rounds whose round of the day (τ mod
// rounds_per_day) lies in given ranges; T_j denotes window j ∩ band. The
// values released are linear functionals of x:
//
//	sum:           Σ_{p∈Π} Σ_{τ∈T_j} x_{p,τ}          one per window
//	per-producer:  Σ_{τ∈T_j} x_{p,τ} for each p ∈ Π   one per producer and window
//
// A target is the total of a producer group S over a time set T,
// 1_S ⊗ 1_T: Σ_{p∈S} Σ_{τ∈T} x_{p,τ}. Its extent is max T − min T + 1,
// the stretch of time it lies in.
//
// # What a consumer is entitled to
//
// A grant holds allowed kinds, a minimum window W and a minimum cohort K.
// Consumer c is entitled to target (S, T) iff
//
//	extent(T) ≥ W_c  and  (|S| ≥ K_c or c holds the per-producer kind).
//
// So a billing consumer granted per-producer values with W = one day may
// learn one house's daily (or monthly, or monthly peak-band) total, never
// its hourly one; a grid operator with W = 4 and K = 50 may learn a
// feeder's hourly total, never a street of 10 houses, nor a feeder per
// round. Extent, not the number of rounds, measures time: a band total over
// a month (16 rounds a day for 30 days) has the month's extent, while a
// band total within one day has the band's.
//
// A group G of consumers pooling its releases derives target τ iff 1_S ⊗
// 1_T lies in the linear span of G's released functionals ("derive by
// linear combination"). τ is permitted to G iff some member is entitled to
// it. The rule set leaks iff some group G derives some τ permitted to no
// member of G.
//
// # Which groups are checked: all of them, exactly
//
// For a target τ let N(τ) be the consumers not entitled to τ. τ leaks to
// some group iff it is derivable from N(τ) itself: any leaking G lies
// within N(τ), and spans grow with the group. N(τ) depends only on |S| and
// extent(T), and changes only where |S| crosses some K_c or the extent
// crosses some W_c, so at most (#distinct K + 1)·(#distinct W + 1)
// coalitions arise. Members without rules add nothing to a span, so each
// coalition is reduced to its members with rules (deduplicated); Check
// builds each once and searches it only for targets forbidden to all of
// them. This is equivalent to checking
// every subset of consumers, at the cost of a handful of coalitions.
//
// # Horizon: one period decides every horizon
//
// Let L be the period of the rule set: the least common multiple of its
// windows, and of rounds_per_day when a rule has a band ([File.Period]).
// Every window boundary of a rule with window k lies at a multiple of k,
// so no window crosses a multiple of L, and shifting by L maps the
// releases over [m·L, (m+1)·L) onto those over [0, L). Suppose a group
// derives τ = 1_S ⊗ 1_T with releases over any number of rounds. Each
// release lies inside one block [m·L, (m+1)·L), so the combination splits
// by block, and for every block m that T meets, (S, T ∩ block m) is
// derivable from the releases of that block alone; shifted by −m·L, from
// the releases within [0, L). It has the same S and no larger extent, so
// it is forbidden to everyone τ is (N only grows as the extent shrinks).
// Hence a leak exists over an unbounded run iff one exists within horizon
// L, bands included. A shorter horizon is not enough: windows 7 and 96
// first meet one round apart at rounds 287 and 288 (7·41, 96·3), past the
// 192 rounds that twice the longest window gives. Callers that decide an
// unbounded run (the registry, `configurator check` without a horizon)
// use max(their horizon, L) and refuse a rule set whose L exceeds
// MaxHorizon ([PeriodError]). Stats.Period reports L.
//
// # Atoms and the search
//
// Within a coalition, producers that belong to exactly the same rules form
// a producer atom, and rounds that lie in exactly the same (rule, window)
// releases form a time atom (numbered by first round). Every derivable
// vector is constant on atom × atom cells, so targets need only be
// considered as unions of atoms, and the span is computed in the cell
// space (A producer atoms × B time atoms), where a per-producer release
// is represented, per atom, by the sum of its producers' values. The part
// of the span inside an atom a (vectors of zero sum over a) is exactly
// Z_a ⊗ W_a, where W_a is the span of the windows of the per-producer rules
// covering a; so a single producer of a is isolated over T iff 1_T ∈ W_a,
// and a group mixing parts of atoms is never smaller than a leak of whole
// atoms or of one producer. The span is put in reduced row echelon form
// over Z_q, q = 2^61 − 1 (package sharing's field).
//
// Targets tried, for every run of consecutive time atoms [lo, hi):
//   - every single producer atom (exact);
//   - one producer of each per-producer atom (exact, via W_a);
//   - every rule's producer set (big groups, for too-fine time);
//   - unions of 2..MaxUnion atoms, none derivable alone, of total size
//     below the cohort bound (search; default MaxUnion 3; pairs only
//     where more than 128 atoms qualify for a run, reported in
//     Stats.UnionDepth; without bands, pairs are pruned to atoms whose
//     prefix fingerprints have a cancelling partner at both ends).
//
// Each candidate is screened by two random linear fingerprints of its
// reduction (a false pass has probability q^−2 and is then caught) and
// confirmed by exact reduction. Without bands this is complete for
// MaxUnion ≥ A: with interval windows, if (S, T) is derivable so is (S, I)
// for every maximal interval I of T (in boundary coordinates the span is
// a direct sum over window boundaries), and I has a smaller extent; and a
// derivable union containing an atom derivable alone contains a smaller
// leak.
//
// With bands, time atoms need not be intervals (an evening band over a
// two-day window split by daily totals gives two evening atoms with a day
// between them) and a derivable T need not split into derivable runs. If
// the runs find nothing and a rule has a band, a band search follows: for
// each single atom, each rule's producer set and each per-producer group u
// it computes exactly V(u) = {t : u ⊗ t derivable} (the kernel of the
// reduced cell columns), and tries the 0/1 vectors among the rows of its
// reduced row echelon form in two column orders (first round; round of
// the day, then first round), and all 0/1 combinations of those rows when
// dim V(u) ≤ 8. This is a search, not a proof of completeness; the tests
// compare every decision, bands included, with a brute-force rational
// reference on random tiny instances (multi-day bands and differencing
// pairs among them) and require agreement.
//
// Totals are what is checked: a derivable difference such as x_a − x_b
// that yields no total is not counted as a leak.
//
// # Exactness of arithmetic mod q
//
// Rank over Z_q never exceeds rank over Q; they differ only if q divides
// every maximal nonzero minor of the 0/1 release matrix, which a fixed q
// cannot rule out for arbitrary matrices (minors of r×r 0/1 matrices reach
// q from r ≈ 26 on). Check therefore certifies both directions instead of
// assuming them:
//
//   - Refusals: every leak's combination is rebuilt over the rationals
//     (rational reconstruction of the mod-q coefficients, then exact
//     math/big evaluation against the target) and marked Verified.
//   - Acceptances: every release found dependent mod q during elimination
//     is shown, exactly over Q, to be the rational combination of earlier
//     releases that its mod-q dependency reconstructs to. Then rank_Q ≤
//     rank_q, hence equal, and every target derivable over Q is derivable
//     mod q, so the search misses nothing through modular arithmetic.
//     Stats.Exact reports this; it is false only if some dependency has a
//     coefficient of height above √(q/2) ≈ 2^30, which 0/1 window and
//     label systems do not produce in practice (the tests and benchmarks
//     all certify); if it happens, Check fails closed and refuses.
//
// The remaining randomness is the fingerprint screen (two random linear
// functionals, seeded by Options.Seed): a derivable candidate always
// passes it; a non-derivable one passes with probability q^−2 and is then
// rejected by exact reduction.
//
// # Threat model
//
// Consumers may collude arbitrarily and know the rules, the producer sets
// and the released values; they do not see shares (package sharing) and
// have no side information on readings. Known readings (e.g. a consumer
// that is itself a producer) are out of scope.
//
// # References
//
//   - C. Rottondi, G. Verticale, A. Capone, "A security framework for smart
//     metering with multiple data consumers", IEEE INFOCOM Workshops, 2012.
//   - D. E. Denning, J. Schlörer, "Inference controls for statistical
//     databases", IEEE Computer 16(7), 1983 (tracker / differencing attacks).
//   - P. S. Wang, "A p-adic algorithm for univariate partial fractions",
//     SYMSAC 1981 (rational reconstruction).
package policy
