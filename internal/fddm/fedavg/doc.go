// Package fedavg is federated averaging of the FDDM sensitivity model with
// secret-shared sums: no one, the coordinator included, sees one meter's
// update, only the sum over all meters.
//
// # Notation
//
// N producers; producer k holds n_k samples and, after local training from
// the global model w, weights w_k ∈ R^d. FedAvg (McMahan et al. 2017) sets
//
//	w' = Σ_k n_k·w_k / Σ_k n_k.
//
// Each producer encodes the vector (n_k·⌊w_k·2^f⌉, n_k) in fixed point with f
// fractional bits, after clipping every |w_kj| to C, as signed integers in
// Z_q (two's complement around q = 2^61 − 1, package sharing), and hands it to
// an Aggregator. The Aggregator returns only Σ_k of the vectors; the
// coordinator divides. Decoding is exact when every component of the sum stays
// within (q−1)/2:
//
//	N · max n_k · C·2^f < (q−1)/2,
//
// which NewCodec checks (sharing.SumFits) and refuses otherwise, naming the
// knob to turn. The rounding error of the average is at most 2^−(f+1) per
// component.
//
// # Who sees what
//
// A Client (a producer) trains, encodes and adds its own update (Local.Encode,
// Client.Contribute); the Coordinator calls only Sum and decodes, so it holds
// sums, never an update. Codec.Decode refuses a sum of more contributions
// than the N the codec's bound was checked for, and a total of samples above
// N·max n_k.
//
// # Aggregators
//
// InProcess is the reference Aggregator: every vector is split into Shamir
// shares for w PPNs with threshold t (sharing.Splitter.SplitBatch), each PPN
// adds the share vectors it receives (sharing.AddVec), and the sum is
// recovered from the PPNs' accumulators (checked and corrected with
// sharing.Combiner.RobustRecoverVec when w > t). Package
// internal/fddm/fednet runs the same rounds through the real network: one
// `sum` rule per component over real PPNs, a coordinator consumer, and the
// global model in a JetStream key-value bucket.
package fedavg
