package sharing

import (
	"bufio"
	"crypto/rand"
	"fmt"
	"testing"
)

// BenchmarkSharing measures every operation on the hot paths: split at a
// producer, add at a node, recover at a consumer. Run with
//
//	go test -run '^$' -bench . -benchmem ./sharing
//
// Baseline/ rows give the cost of the same data movement without the field
// arithmetic, in the same run. The peer comparison table is printed by
// `cd bench && go run .`.
func BenchmarkSharing(b *testing.B) {
	for _, cfg := range []struct{ w, t int }{{4, 4}, {5, 3}} {
		xs := seqXs(cfg.w)
		b.Run(fmt.Sprintf("Split/w=%d,t=%d/crypto-rand", cfg.w, cfg.t), func(b *testing.B) {
			benchSplit(b, xs, cfg.t, rand.Reader)
		})
		b.Run(fmt.Sprintf("Split/w=%d,t=%d/crypto-rand-bufio", cfg.w, cfg.t), func(b *testing.B) {
			benchSplit(b, xs, cfg.t, bufio.NewReaderSize(rand.Reader, 1<<16))
		})
		b.Run(fmt.Sprintf("Split/w=%d,t=%d/chacha8", cfg.w, cfg.t), func(b *testing.B) {
			benchSplit(b, xs, cfg.t, seededRand(1))
		})
		b.Run(fmt.Sprintf("SplitBatch/w=%d,t=%d/per-reading", cfg.w, cfg.t), func(b *testing.B) {
			sp, err := NewSplitter(xs, cfg.t, seededRand(1))
			if err != nil {
				b.Fatal(err)
			}
			secrets := make([]Element, 1024)
			dst := make([]Element, len(secrets)*cfg.w)
			b.ReportAllocs()
			for b.Loop() {
				if err := sp.SplitBatch(secrets, dst); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(secrets)), "ns/reading")
		})
		b.Run(fmt.Sprintf("Recover/t=%d/Recoverer", cfg.t), func(b *testing.B) {
			rec, err := NewRecoverer(xs[:cfg.t])
			if err != nil {
				b.Fatal(err)
			}
			ys := make([]Element, cfg.t)
			b.ReportAllocs()
			var sink Element
			for b.Loop() {
				sink, _ = rec.Recover(ys)
			}
			_ = sink
		})
		b.Run(fmt.Sprintf("Recover/t=%d/Combiner", cfg.t), func(b *testing.B) {
			shares := make([]Share, cfg.t)
			for i := range shares {
				shares[i].X = xs[i]
			}
			var c Combiner
			b.ReportAllocs()
			var sink Element
			for b.Loop() {
				sink, _ = c.Recover(shares, cfg.t)
			}
			_ = sink
		})
		b.Run(fmt.Sprintf("Recover/t=%d/uncached", cfg.t), func(b *testing.B) {
			ys := make([]Element, cfg.t)
			b.ReportAllocs()
			var sink Element
			for b.Loop() {
				rec, _ := NewRecoverer(xs[:cfg.t])
				sink, _ = rec.Recover(ys)
			}
			_ = sink
		})
	}
	const n = 1 << 16
	big := make([]Element, n)
	acc := make([]Element, n)
	r := seededRand(3)
	for i := range big {
		big[i] = randElement(r)
	}
	b.Run("AddVec/per-share", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = AddVec(acc, big)
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/share")
	})
	b.Run("Sum/per-share", func(b *testing.B) {
		b.ReportAllocs()
		var sink Element
		for b.Loop() {
			sink = Sum(big)
		}
		_ = sink
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/share")
	})
	// Baselines for the rows above, in the same run: summing the same
	// values as plain uint64 (no field, no privacy), and drawing the three
	// random words a t = 4 split needs from ChaCha8.
	b.Run("Baseline/plain-uint64-sum/per-share", func(b *testing.B) {
		var sink uint64
		for b.Loop() {
			var s uint64
			for _, e := range big {
				s += e.v
			}
			sink += s
		}
		_ = sink
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/share")
	})
	b.Run("Baseline/chacha8-3-words", func(b *testing.B) {
		c := seededRand(5)
		var sink uint64
		for b.Loop() {
			sink += c.Uint64() ^ c.Uint64() ^ c.Uint64()
		}
		_ = sink
	})
	b.Run("RobustRecover/w=6,t=4/consistent", func(b *testing.B) {
		benchRobust(b, 6, 4, 0)
	})
	b.Run("RobustRecover/w=6,t=4/one-wrong", func(b *testing.B) {
		benchRobust(b, 6, 4, 1)
	})
	b.Run("Field/Mul", func(b *testing.B) {
		x, y := randElement(r), randElement(r)
		for b.Loop() {
			x = x.Mul(y)
		}
		_ = x
	})
	b.Run("Field/Inverse", func(b *testing.B) {
		x := randElement(r)
		for b.Loop() {
			x, _ = x.Inverse()
		}
		_ = x
	})
	b.Run("Field/BatchInverse/per-element", func(b *testing.B) {
		es := make([]Element, 256)
		for i := range es {
			es[i] = Element{uint64(i + 1)}
		}
		for b.Loop() {
			_ = BatchInverse(es, es)
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(es)), "ns/element")
	})
}

func benchSplit(b *testing.B, xs []Element, t int, rnd interface{ Read([]byte) (int, error) }) {
	sp, err := NewSplitter(xs, t, rnd)
	if err != nil {
		b.Fatal(err)
	}
	dst := make([]Element, len(xs))
	b.ReportAllocs()
	for b.Loop() {
		if err := sp.Split(Element{42}, dst); err != nil {
			b.Fatal(err)
		}
	}
}

func benchRobust(b *testing.B, w, t, wrong int) {
	shares := splitShares(b, seqXs(w), t, Element{42}, seededRand(4))
	for i := 0; i < wrong; i++ {
		shares[i].Y = shares[i].Y.Add(Element{1})
	}
	var c Combiner
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.RobustRecover(shares, t); err != nil {
			b.Fatal(err)
		}
	}
}
