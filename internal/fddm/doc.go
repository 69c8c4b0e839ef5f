// Package fddm is federated dynamic data masking for smart-meter histories:
// after a billing period is final, each meter masks the readings of its own
// stored history that a sensitivity model scores as revealing, and the model is
// trained by federated averaging whose sums run through Shamir secret sharing.
//
// The work is split into subpackages, one concept each:
//
//   - model: features of a reading, the meter's own activity labels, and the
//     logistic regression that scores how revealing a reading is;
//   - fedavg: fixed-point encoding of model updates, the Aggregator that sums
//     secret-shared vectors (in process here, through the PPN network later),
//     and the FedAvg rounds;
//   - mask: the masking step a history store calls on a closed period;
//   - scrub: compaction of a bbolt history store after masking, so the
//     originals do not survive in its free pages;
//   - attack: occupancy, re-identification and billing-linkage attacks and the
//     utility measures that evaluate masking against ground truth;
//   - cli: the fddm command (cmd/fddm) that runs the evaluation.
//
// Method, figures and how to reproduce them: docs/fddm.md.
//
// # References
//
//   - H. B. McMahan, E. Moore, D. Ramage, S. Hampson, B. Agüera y Arcas,
//     "Communication-efficient learning of deep networks from decentralized
//     data", AISTATS 2017 (FedAvg).
//   - "Federated Dynamic Data Masking for IoT-Enabled Smart Energy Meters",
//     IJIRSET, 2025.
//   - W. Kleiminger, C. Beckel, S. Santini, "Household occupancy monitoring
//     using electricity meters", UbiComp 2015.
package fddm
