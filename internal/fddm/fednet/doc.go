// Package fednet runs FedAvg rounds of the FDDM sensitivity model over the
// real ppnet data plane: producers secret-share their own fixed-point
// updates as readings, PPNs add shares, and a coordinator consumer
// recovers only the sums, divides and publishes the global model to a
// JetStream key-value bucket that the producers watch for the next round.
//
// # Mapping onto the data plane
//
// A PPN adds one field element per (meter, round), so an update vector of
// d+1 components (fedavg.Codec: n_k·⌊w_kj·2^f⌉ for j < d, then n_k) travels
// as d+1 component meters of the producer, "<producer>-c<j>", and the
// network has one `sum` rule per component, "<prefix>-c<j>", with a window
// of one round, over component j of every FedAvg producer. All components
// of one producer go in one bundle, so the d+1 sums of a round cover the
// same producers; the coordinator checks that before decoding. FedAvg
// round r is carried by data-plane round First + r·Stride.
//
// # Field bound
//
// Each component is a reading: the network's max_reading is set to the
// codec's max n_k·⌈C·2^f⌉ and netconfig refuses a rule whose N readings
// could exceed (q−1)/2 — the codec's own bound N·max n_k·C·2^f < (q−1)/2.
// The coordinator decodes a sum of at most N contributions (Codec.Decode
// refuses more).
//
// # What each party sees
//
// A producer sees its own update and the published global models. PPNs see
// shares (each sealed for them) and their sums. The coordinator sees the
// recovered sums and the number of contributions. The NATS server and its
// subscribers see sealed parts, sealed aggregates and the global models.
//
// # Timing
//
// A producer's reading of round τ is taken when the round ends; the source
// blocks until the model it needs is published, at most until half the grace
// after the round's end. The model of round r−1 is published once round
// First+(r−1)·Stride is sealed and recovered (its deadline plus recovery), so
// with Stride 1 the coordinator, recovery and local training must fit in
// one round duration D; a larger Stride gives Stride·D. A producer that
// misses a round sits it out; a round without contributions carries the
// previous model over.
package fednet
