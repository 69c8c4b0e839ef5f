package ppn

import (
	"crypto/rand"
	"fmt"
	"testing"
	"time"

	"github.com/ppnet/ppnet/internal/netconfig"
	"github.com/ppnet/ppnet/internal/seal"
	"github.com/ppnet/ppnet/internal/wire"
	"github.com/ppnet/ppnet/sharing"
)

// BenchmarkIngest measures a PPN's apply path (decode, open, add) without
// NATS or bbolt: one operation is one bundle. Sub-benchmarks: a
// concentrator batching 4096 meters per bundle, and single-meter bundles.
// Both serve a sum rule and a per-producer rule over all meters, so each
// meter's share is added twice. batched-4096-tou adds three per-producer
// rules with time-of-use bands partitioning the day (a time-of-use billing
// consumer): each share is added to one of them, and the other two skip it.
func BenchmarkIngest(b *testing.B) {
	for _, c := range []struct {
		name              string
		meters, producers int
		rounds            uint64
		bands             bool
	}{
		{"batched-4096", 4096, 1, 96, false},
		{"batched-4096-tou", 4096, 1, 96, true},
		{"single-meter", 1024, 1024, 8, false},
	} {
		b.Run(c.name, func(b *testing.B) {
			spec := netconfig.Spec{PPNs: 5, Threshold: 3, W: 5, Meters: c.meters, Producers: c.producers, Chunk: 4096,
				Start: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), Round: time.Minute, Rounds: 0, PerDay: 96,
				Rules: []netconfig.RuleSpec{
					{ID: "sum", Consumer: "c", Kind: netconfig.KindSum, Window: 96, Fraction: 1},
					{ID: "bill", Consumer: "c", Kind: netconfig.KindPerProducer, Window: 96, Fraction: 1},
				}}
			if c.bands {
				for i, rs := range [][][2]uint64{{{88, 96}, {0, 24}}, {{24, 72}}, {{72, 88}}} {
					spec.Rules = append(spec.Rules, netconfig.RuleSpec{ID: fmt.Sprintf("tou%d", i), Consumer: "c", Kind: netconfig.KindPerProducer,
						Window: 96, Fraction: 1, Band: &netconfig.Band{Rounds: rs}})
				}
			}
			cfg, keys, err := netconfig.Generate(spec, rand.Reader)
			if err != nil {
				b.Fatal(err)
			}
			n, err := cfg.Resolve()
			if err != nil {
				b.Fatal(err)
			}
			p, err := New(Config{ID: "ppn1", DataDir: b.TempDir(), Net: n, Key: keys.PPNs[0]})
			if err != nil {
				b.Fatal(err)
			}
			var msgs [][]byte
			rings := make([]*seal.Keyring, c.producers)
			for s := range rings {
				rings[s] = seal.NewKeyring(keys.Producers[s], 1)
				for j, k := range n.PPNKeys {
					rings[s].AddPeer(seal.PurposePart, j, k)
				}
			}
			for r := uint64(0); r < c.rounds; r++ {
				for s := 0; s < c.producers; s++ {
					msgs = append(msgs, buildBundle(b, n, rings[s], s, r))
				}
			}
			sharesPer := c.meters / c.producers // shares opened per bundle (each is added to 2 rules)
			p.st = &state{windows: map[winKey]*window{}, outbox: map[winKey][]byte{}}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if i%len(msgs) == 0 && i > 0 {
					b.StopTimer()
					p.st = &state{windows: map[winKey]*window{}, outbox: map[winKey][]byte{}}
					b.StartTimer()
				}
				if err := p.apply(msgs[i%len(msgs)], uint64(i+1), n.BundleSubject(0)); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*sharesPer)/b.Elapsed().Seconds(), "shares/s")
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "bundles/s")
		})
		// Baseline: AES-GCM open of the same part alone, the cost no PPN
		// can avoid.
		b.Run(c.name+"/baseline-open", func(b *testing.B) {
			spec := netconfig.Spec{PPNs: 5, Threshold: 3, W: 5, Meters: c.meters, Producers: c.producers, Chunk: 4096,
				Start: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), Round: time.Minute,
				Rules: []netconfig.RuleSpec{{ID: "sum", Consumer: "c", Kind: netconfig.KindSum, Window: 96, Fraction: 1}}}
			cfg, keys, err := netconfig.Generate(spec, rand.Reader)
			if err != nil {
				b.Fatal(err)
			}
			n, err := cfg.Resolve()
			if err != nil {
				b.Fatal(err)
			}
			ring := seal.NewKeyring(keys.Producers[0], 1)
			for j, k := range n.PPNKeys {
				ring.AddPeer(seal.PurposePart, j, k)
			}
			bd, err := wire.DecodeBundle(buildBundle(b, n, ring, 0, 0))
			if err != nil {
				b.Fatal(err)
			}
			open := seal.NewKeyring(keys.PPNs[0], 1)
			open.AddPeer(seal.PurposePart, 0, n.ProducerKeys[0])
			aead, _ := open.AEAD(seal.PurposePart, 0)
			aad := wire.PartAAD(nil, bd.Header, 0)
			var buf []byte
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if buf, err = seal.Open(aead, buf[:0], seal.PartNonce(1, 0, 0), bd.Parts[0].Sealed, aad); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*(c.meters/c.producers))/b.Elapsed().Seconds(), "shares/s")
		})
	}
}

// buildBundle seals producer s's bundle for a round with reading 1 per meter.
func buildBundle(tb testing.TB, n *netconfig.Network, ring *seal.Keyring, s int, round uint64) []byte {
	tb.Helper()
	sp, err := sharing.NewSplitter(n.X, n.Config.Threshold, rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	meters := n.ProducerMeters[s]
	secrets := make([]sharing.Element, len(meters))
	for i := range secrets {
		secrets[i] = sharing.NewElement(1)
	}
	w := len(n.X)
	ys := make([]sharing.Element, len(meters)*w)
	if err := sp.SplitBatch(secrets, ys); err != nil {
		tb.Fatal(err)
	}
	bd := wire.Bundle{Epoch: 1, Round: round, Sender: uint32(s), Meters: meters}
	header := bd.AppendHeader(nil)
	nonce := seal.PartNonce(1, round, 0)
	for j := 0; j < w; j++ {
		aead, err := ring.AEAD(seal.PurposePart, j)
		if err != nil {
			tb.Fatal(err)
		}
		var plain []byte
		for i := range meters {
			plain = wire.AppendElements(plain, ys[i*w+j:i*w+j+1])
		}
		bd.Parts = append(bd.Parts, wire.Part{PPN: uint16(j), Sealed: aead.Seal(nil, nonce[:], plain, wire.PartAAD(nil, header, uint16(j)))})
	}
	return wire.AppendParts(header, bd.Parts)
}
