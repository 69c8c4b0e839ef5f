// Package billing is the billing consumer's domain: it turns the
// per-producer period totals that the ppnet aggregation network releases
// (with their coverage, rule, window and digest) into customer bills, and
// runs everything around them — the encrypted, masked customer registry,
// the tariff engine, immutable bill revisions, PDF bills, signed payment
// links with a payment page, and notifications through a persistent outbox.
//
// [Service] is the API the consumer daemon embeds: [Service.IssuePeriod]
// takes one month's released totals and issues, estimates or holds each
// customer's bill (see package bill for the missing-data policy);
// [Service.Correct] issues a new revision; [Service.PDF], [Service.PayLink]
// and [Service.PaymentHandler] serve the customer side. All state lives in
// one bbolt database passed in, in buckets named per subpackage.
//
// Subpackages: tariff (schedules and charges), customer (registry, masking,
// quorum reveal, audit), bill (composition, policy, storage), pdf, paylink,
// notify. docs/billing.md describes the whole and how to operate it.
package billing
