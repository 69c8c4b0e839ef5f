// Package sim holds the simulations a researcher runs against ppnet's
// design: the loss analysis of Rottondi et al. (2012) next to this design's
// own loss model, both analytically and by Monte Carlo, and a scale
// simulation of the whole data path in one process.
//
// # The paper's loss model
//
// Consumer c's rule covers M_c producers over a window of k_c rounds and
// is served by w PPNs with threshold t. Every producer→PPN share is lost
// independently with probability p_e. A PPN's aggregated share is usable
// only if all k_c·M_c shares it needs arrived, which happens with
// probability a = (1−p_e)^(k_c·M_c); the consumer recovers the aggregate
// if at least t of its w aggregated shares are usable (their eq. 13):
//
//	P_T|M_c = Σ_{i=t..w} C(w,i)·a^i·(1−a)^(w−i).
//
// [PaperModel] evaluates it in log space — log a = k·M·log1p(−p_e) and
// log(1−a) = log(−expm1(log a)) — so it stays exact to a few ulps for
// M up to 10^7 and beyond and p_e down to 10^−9 and below, and it returns
// the failure probability 1 − P_T|M_c directly, so a probability of
// failure of 10^−30 is not lost to rounding against 1.
//
// # This design's loss model
//
// Here (DESIGN §3) a producer sends all its parts in one bundle per round
// to a log every PPN reads. A bundle attempt is lost with probability p_b
// and retried r times, so it is lost for good with probability p_b^(r+1);
// a PPN is down with probability p_f. All PPNs read the same bundles before
// the same seal, so their aggregates always agree: the consumer recovers
// whenever at least t of its w PPNs are up,
//
//	P = Σ_{i=t..w} C(w,i)·(1−p_f)^i·p_f^(w−i),
//
// whatever M and k are, and the aggregate covers every producer whose
// bundles arrived. [DesignModel] evaluates it.
//
// # Monte Carlo
//
// [PaperModel.MonteCarlo] and [DesignModel.MonteCarlo] simulate the same
// models event by event instead of evaluating the formula. A stream of n
// shares (or bundles), each lost with probability p, is walked loss by
// loss: the number delivered before the next loss is drawn as a geometric
// skip ⌊ln U / ln(1−p)⌋, U uniform on (0,1], which has exactly the
// distribution of testing the items one by one but costs one draw per loss
// instead of one per item. In the paper's model only a PPN's first lost
// share matters (one loss spoils its aggregate), so one skip per PPN and
// rule decides; in this design's model every lost bundle is visited to
// count the producers missing from the aggregate. Estimates carry a Wilson
// score interval. Trials run in blocks, each block with its own random
// stream derived from the seed, so results do not depend on the number of
// workers.
//
// # Scale
//
// [Scale] runs synthetic readings (package household) through splitting
// (package sharing), per-PPN accumulation per rule and recovery, on every
// core, times each stage, and checks every recovered aggregate against the
// plain sum of the readings.
//
// # References
//
//   - C. Rottondi, G. Verticale, A. Capone, "A security framework for smart
//     metering with multiple data consumers", IEEE INFOCOM Workshops, 2012
//     (§V, eq. 13).
//   - E. B. Wilson, "Probable inference, the law of succession, and
//     statistical inference", JASA 22(158), 1927.
//   - L. Devroye, "Non-Uniform Random Variate Generation", Springer, 1986,
//     §X.2 (geometric variates by inversion).
package sim
