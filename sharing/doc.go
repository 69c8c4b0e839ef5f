// Package sharing implements Shamir secret sharing over the prime field
// Z_q, q = 2^61 − 1, built for aggregating smart-meter readings: shares of
// different secrets taken at the same x-coordinate add to a share of the sum.
//
// # Notation
//
// A secret µ ∈ Z_q is hidden in a random polynomial of degree t−1,
//
//	f(x) = µ + r_1·x + … + r_{t−1}·x^{t−1}  (mod q),
//
// with r_i drawn uniformly from Z_q by a cryptographically strong source. The
// share for the party with public x-coordinate n (1 ≤ n < q, distinct per
// party) is f(n). Any t shares determine µ = f(0) by Lagrange interpolation;
// any t−1 shares are uniformly distributed whatever µ is.
//
// q is a Mersenne prime, so reduction is a shift and an add and products go
// through math/bits.Mul64; the field element is the value type [Element].
// Readings (integers, signed integers as two's complement around q, and
// fixed-point reals) map to elements with [FromUint64], [FromInt64] and
// [FromFixed]; sums of encoded values must stay below (q−1)/2 in magnitude,
// which [SumFits] decides before anyone relies on it.
//
// # Threat model
//
// Shares are secret: whoever holds t of them learns the reading. The package
// protects the reading against any coalition of fewer than t share holders,
// information-theoretically, provided the randomness source is unpredictable.
// It does not authenticate shares; [Combiner.RobustRecover] detects shares
// that do not lie on one polynomial of degree < t (given w ≥ t+1 shares) and
// corrects up to ⌊(w−t)/2⌋ of them, naming the wrong x-coordinates
// ([Combiner.RobustRecoverVec] does the same for vector readings, where a
// node's whole share vector counts as one share). A coalition of more than
// ⌊(w−t)/2⌋ lying nodes can make the shares decode to a wrong value; that is
// the limit of any decoder, not of this one.
//
// # Recovery
//
// With shares y_i = f(x_i) at distinct x_1 … x_t,
//
//	µ = f(0) = Σ_i λ_i·y_i,  λ_i = Π_{j≠i} x_j / (x_j − x_i),
//
// and the λ_i depend only on the x-coordinates, so [Recoverer] and
// [Combiner] compute them once per set and a recovery is t multiply-adds.
// Robust recovery first checks the other w−t shares against the
// interpolation of the first t (cached as well) and, only if one disagrees,
// decodes with Berlekamp–Welch: find E monic of degree e = ⌊(w−t)/2⌋ and Q of
// degree < t+e with Q(x_i) = y_i·E(x_i) for all i, by exact Gaussian
// elimination mod q; then f = Q/E and the wrong shares are where f(x_i) ≠ y_i.
//
// # Randomness and speed
//
// A [Splitter] takes its coefficients from the io.Reader it is given, 4 KiB
// at a time (no system call or allocation per reading). crypto/rand.Reader
// is the safe default; a *math/rand/v2.ChaCha8 seeded from crypto/rand — a
// cryptographically strong generator — halves the cost of a split and is
// read through its Uint64 method. Products use lazy reduction (folded but
// not reduced between Horner steps and dot-product terms). Measured figures
// and the comparison with other implementations: docs/performance.md.
//
// # References
//
//   - A. Shamir, "How to share a secret", CACM 22(11), 1979.
//   - C. Rottondi, G. Verticale, A. Capone, "A security framework for smart
//     metering with multiple data consumers", IEEE INFOCOM Workshops, 2012.
//   - E. Berlekamp, L. Welch, "Error correction for algebraic block codes",
//     US Patent 4,633,470, 1986.
package sharing
