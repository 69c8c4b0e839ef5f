package billing

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/ppnet/ppnet/internal/billing/bill"
	"github.com/ppnet/ppnet/internal/billing/customer"
	"github.com/ppnet/ppnet/internal/billing/pdf"
	"github.com/ppnet/ppnet/internal/billing/tariff"
)

// BenchmarkBilling measures each stage of issuing bills. The baseline is
// "tariff" (pricing one month); docs/performance.md reports the other
// stages as multiples of it.
func BenchmarkBilling(b *testing.B) {
	sc, err := tariff.Load(tariff.DefaultID)
	if err != nil {
		b.Fatal(err)
	}
	cs := customer.Synthesize(1, 1000, tariff.DefaultID, "m-")
	tot := bill.Totals{RuleID: "monthly", LastRound: 2975, Digest: "d"}
	for i, c := range cs {
		tot.Meters = append(tot.Meters, bill.MeterTotal{MeterID: c.MeterID, Wh: int64(100_000 + 37*i), RoundsCovered: 2976 - i%300, RoundsMissing: i % 300})
	}
	now := time.Date(2026, 4, 2, 9, 0, 0, 0, time.UTC)
	m := customer.Mask(&cs[0])

	b.Run("tariff", func(b *testing.B) {
		for b.Loop() {
			if _, err := sc.Compute(tariff.Usage{Wh: 243_517, SanctionedLoadW: 2000}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("compose", func(b *testing.B) {
		for b.Loop() {
			if _, err := bill.Compose(m, sc, "2026-03", []bill.Totals{tot}, bill.Policy{}, now); err != nil {
				b.Fatal(err)
			}
		}
	})
	bl, _ := bill.Compose(m, sc, "2026-03", []bill.Totals{tot}, bill.Policy{}, now)
	b.Run("pdf", func(b *testing.B) {
		for b.Loop() {
			if _, err := pdf.Render(bl, pdf.Options{PayURL: "https://pay.example.in/pay?t=abc"}); err != nil {
				b.Fatal(err)
			}
		}
	})

	db, err := bolt.Open(filepath.Join(b.TempDir(), "bench.db"), 0o600, &bolt.Options{NoSync: true})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	shares, err := customer.Init(db, rand.Reader, 5, 3)
	if err != nil {
		b.Fatal(err)
	}
	store, err := customer.Open(db, &customer.Options{Rand: rand.Reader})
	if err != nil {
		b.Fatal(err)
	}
	b.Run("customer-put", func(b *testing.B) {
		for b.Loop() {
			if err := store.Put(cs[0]); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("reveal", func(b *testing.B) {
		req := customer.RevealRequest{CustomerID: cs[0].ID, Reason: "bench", Shares: []customer.Share{{Officer: "a", Share: shares[0]}, {Officer: "b", Share: shares[1]}, {Officer: "c", Share: shares[2]}}}
		for b.Loop() {
			if _, err := store.Reveal(req); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("issue-1000", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			db, err := bolt.Open(filepath.Join(b.TempDir(), fmt.Sprintf("issue%d.db", i)), 0o600, &bolt.Options{NoSync: true})
			if err != nil {
				b.Fatal(err)
			}
			if _, err := customer.Init(db, rand.Reader, 3, 2); err != nil {
				b.Fatal(err)
			}
			svc, err := New(Config{DB: db, Rand: rand.Reader, PayKey: bytes.Repeat([]byte{1}, 32), Now: func() time.Time { return now }})
			if err != nil {
				b.Fatal(err)
			}
			for _, c := range cs {
				if err := svc.Customers().Put(c); err != nil {
					b.Fatal(err)
				}
			}
			if _, err := svc.IssuePeriod("2026-03", []bill.Totals{tot}); err != nil {
				b.Fatal(err)
			}
			db.Close()
		}
	})
}
