package fedavg

import (
	"math/rand/v2"
	"testing"

	"github.com/ppnet/ppnet/internal/fddm/model"
	"github.com/ppnet/ppnet/sharing"
)

// BenchmarkFedAvg measures the per-producer cost of one secure FedAvg
// contribution (encode, split for 5 PPNs with t = 3, accumulate) and the
// coordinator's recovery, beside the baseline of adding the plain float
// update into a running sum, and one round of local training on a month of
// 15-minute readings for scale.
func BenchmarkFedAvg(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 1))
	w := make([]float64, model.Dim)
	for j := range w {
		w[j] = r.NormFloat64()
	}
	const n = 2688 // 28 days of 15-minute readings
	codec, err := NewCodec(CodecOptions{MaxSamples: n, Producers: 1 << 20})
	if err != nil {
		b.Fatal(err)
	}
	b.Run("baseline-plain-sum", func(b *testing.B) {
		sum := make([]float64, model.Dim+1)
		for b.Loop() {
			for j, v := range w {
				sum[j] += v * n
			}
			sum[model.Dim] += n
		}
	})
	b.Run("encode", func(b *testing.B) {
		var enc []sharing.Element
		for b.Loop() {
			enc, _ = codec.Encode(enc[:0], w, n)
		}
	})
	enc, _ := codec.Encode(nil, w, n)
	b.Run("share-and-accumulate", func(b *testing.B) {
		agg, err := NewInProcess(5, 3, rand.NewChaCha8([32]byte{1}))
		if err != nil {
			b.Fatal(err)
		}
		p := uint64(0)
		for b.Loop() {
			if err := agg.Add(0, p, enc); err != nil {
				b.Fatal(err)
			}
			p++
		}
	})
	b.Run("recover-sum", func(b *testing.B) {
		agg, err := NewInProcess(5, 3, rand.NewChaCha8([32]byte{2}))
		if err != nil {
			b.Fatal(err)
		}
		for b.Loop() {
			b.StopTimer()
			for p := range uint64(2) {
				if err := agg.Add(0, p, enc); err != nil {
					b.Fatal(err)
				}
			}
			b.StartTimer()
			if _, _, err := agg.Sum(0); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("local-training-5-steps", func(b *testing.B) {
		X := make([]float64, 0, n*model.Dim)
		Y := make([]float64, n)
		for i := range n {
			X = append(X, 1)
			for range model.Dim - 1 {
				X = append(X, r.NormFloat64())
			}
			Y[i] = float64(i % 2)
		}
		for b.Loop() {
			var m model.Logistic
			if err := m.Fit(X, Y, model.DefaultTrain()); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// FuzzDecode: any vector of canonical field elements decodes or is refused
// with an error, never a panic; a decoded total is at least 1.
func FuzzDecode(f *testing.F) {
	codec, err := NewCodec(CodecOptions{MaxSamples: 3000, Producers: 100})
	if err != nil {
		f.Fatal(err)
	}
	enc, _ := codec.Encode(nil, []float64{0.5, -1, 2}, 2688)
	seed := make([]byte, 0, 8*len(enc))
	for _, e := range enc {
		v := e.Uint64()
		for k := range 8 {
			seed = append(seed, byte(v>>(8*k)))
		}
	}
	f.Add(seed)
	f.Add([]byte{})
	f.Add(make([]byte, 16))
	f.Fuzz(func(t *testing.T, data []byte) {
		var vec []sharing.Element
		for len(data) >= 8 {
			var v uint64
			for k := range 8 {
				v |= uint64(data[k]) << (8 * k)
			}
			data = data[8:]
			e, err := sharing.ElementFromCanonical(v)
			if err != nil {
				return
			}
			vec = append(vec, e)
		}
		avg, total, err := codec.Decode(vec, 1)
		if err == nil && (total < 1 || len(avg) != len(vec)-1) {
			t.Fatalf("decoded %v, total %d from %d components", avg, total, len(vec))
		}
	})
}
