package optimize

import "testing"

// BenchmarkOptimize measures each step at 10^6 producers × 100 consumers
// (paper family, α = 8). configurator plan-bench -table scale runs the
// 10^7 case with peak memory.
func BenchmarkOptimize(b *testing.B) {
	opt := GenOptions{Producers: 1_000_000, Consumers: 100, Seed: 1}
	in, err := Generate(opt)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("generate", func(b *testing.B) {
		for b.Loop() {
			if _, err := Generate(opt); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("bound", func(b *testing.B) {
		for b.Loop() {
			LowerBound(in)
		}
	})
	r, err := Pack(in, nil) // the plan producer-sets expands, whatever -bench selects
	if err != nil {
		b.Fatal(err)
	}
	b.Run("greedy", func(b *testing.B) {
		for b.Loop() {
			if r, err = Greedy(in); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("pack", func(b *testing.B) {
		for b.Loop() {
			if r, err = Pack(in, nil); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("producer-sets", func(b *testing.B) {
		for b.Loop() {
			r.ProducerPPNs(in)
		}
	})
}
