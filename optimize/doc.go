// Package optimize plans minPPN: how many Privacy Preserving Nodes (PPNs) a
// deployment needs, and which PPNs serve which information Consumer, so that
// every Consumer can recover its aggregates and no PPN exceeds its capacity.
//
// # Notation
//
// P is the set of producers (meters), C the set of consumers, N the set of
// candidate PPNs. A_pc = 1 when consumer c aggregates producer p; M_c = Σ_p
// A_pc is the size of c's producer set. Each consumer receives w aggregated
// shares from w distinct PPNs (w ≥ t, the Shamir threshold); computing c's
// share costs a PPN M_c sums per round, and PPN n can do at most L_n sums per
// round (one L for all, or one per PPN). Variables of the ILP:
//
//	x_pn = 1  producer p sends a share to PPN n
//	y_nc = 1  PPN n serves consumer c
//	z_n  = 1  PPN n is active
//
//	minimise Σ_n z_n
//	  Σ_n y_nc = w            ∀c        (each consumer gets w distinct shares)
//	  y_nc ≤ z_n              ∀n,c      (only active PPNs serve)
//	  x_pn ≥ A_pc·y_nc        ∀p,n,c    (a PPN sees every producer it sums)
//	  Σ_c M_c·y_nc ≤ L_n·z_n  ∀n        (capacity, rows divided by L_n)
//
// This is the model of Rottondi, Verticale and Capone (2012), eqs. 3–9,
// reconstructed from the problem statement (the paper's text was not
// available to us; docs/minppn.md says what was searched). Its capacity row
// (7) counts the sums a PPN computes, Σ_c M_c·y_nc ≤ L_n: on y, not on x
// (a row on the shares Σ_p x_pn could never bind with the paper's
// L = α·|P|, α = 8), and without z. The reduced model puts z on the
// right-hand side, as above, which is equivalent for integer points and
// tightens the LP relaxation from w to the volume bound; [ModelFull] writes
// the row without z, as the paper does. Since x_pn follows from y and A
// (x_pn = max_c A_pc·y_nc), the reduced model drops x; [ModelFull] keeps
// it for comparison with the paper.
//
// Load depends only on the sizes M_c, so once M_c is known minPPN is bin
// packing with conflicts: w copies of an item of size M_c per consumer, the
// copies of one consumer in distinct bins. The solvers work on sizes alone
// and never build A; the per-producer PPN sets (the x) are derived by
// streaming over the producer sets ([Result.ProducerPPNs]), so instances of
// 10^7 producers fit in memory.
//
// # Solvers
//
//   - [Greedy]: the paper's Fig. 3 heuristic as we reconstruct it from its
//     description (the figure's text was not available): spread consumers
//     over every candidate PPN, then empty the least-loaded PPN while its
//     consumers fit elsewhere.
//   - [Pack]: our heuristic: decreasing best-fit and worst-fit packings into
//     a target number of PPNs, repaired by a local search, target lowered
//     from the greedy's answer towards the lower bound.
//   - [SolveILP]: exact, by writing an LP file and running COIN-OR CBC on it.
//
// Every [Result] carries a lower bound ([LowerBound]: the volume bound, w,
// Martello–Toth L2 and Fekete–Schepers dual feasible functions, and a
// conflict bound) and is validated by [Check]; solver answers are checked,
// never trusted.
//
// # References
//
//   - C. Rottondi, G. Verticale, A. Capone, "A security framework for smart
//     metering with multiple data consumers", IEEE INFOCOM Workshops, 2012.
//   - S. Martello, P. Toth, "Lower bounds and reduction procedures for the
//     bin packing problem", Discrete Applied Mathematics 28, 1990.
//   - S. Fekete, J. Schepers, "New classes of fast lower bounds for bin
//     packing problems", Mathematical Programming 91, 2001.
//   - M. Gendreau, G. Laporte, F. Semet, "Heuristics and lower bounds for
//     the bin packing problem with conflicts", Computers & OR 31, 2004.
package optimize
