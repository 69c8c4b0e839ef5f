package fedavg

import (
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/ppnet/ppnet/internal/fddm/model"
	"github.com/ppnet/ppnet/sharing"
)

// testSeed returns FDDM_TEST_SEED if set, else 1, and logs it.
func testSeed(t *testing.T) uint64 {
	t.Helper()
	seed := uint64(1)
	if v := os.Getenv("FDDM_TEST_SEED"); v != "" {
		s, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			t.Fatalf("FDDM_TEST_SEED=%q: want an unsigned integer", v)
		}
		seed = s
	}
	t.Logf("seed %d (set FDDM_TEST_SEED to change)", seed)
	return seed
}

func TestNewCodecBound(t *testing.T) {
	tests := []struct {
		name string
		o    CodecOptions
		ok   bool
	}{
		{"defaults", CodecOptions{MaxSamples: 3000, Producers: 1000}, true},
		{"large population", CodecOptions{MaxSamples: 3000, Producers: 1_000_000}, true},
		{"too many producers", CodecOptions{MaxSamples: 3000, Producers: 100_000_000}, false},
		{"too fine", CodecOptions{Frac: 40, MaxSamples: 3000, Producers: 1000}, false},
		{"edge below", CodecOptions{Frac: 20, Clip: 1, MaxSamples: 1 << 19, Producers: 1 << 19}, true},
		{"edge at", CodecOptions{Frac: 20, Clip: 1, MaxSamples: 1 << 20, Producers: 1 << 20}, false},
		{"no producers", CodecOptions{MaxSamples: 1}, false},
		{"negative clip", CodecOptions{Clip: -1, MaxSamples: 1, Producers: 1}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewCodec(tc.o)
			if tc.ok && err != nil {
				t.Fatalf("refused: %v", err)
			}
			if !tc.ok && !errors.Is(err, ErrBound) {
				t.Fatalf("err %v, want ErrBound", err)
			}
		})
	}
	_, err := NewCodec(CodecOptions{MaxSamples: 3000, Producers: 100_000_000})
	if msg := err.Error(); !strings.HasPrefix(msg, "fedavg: ") || !strings.Contains(msg, "lower the") {
		t.Errorf("error %q should be prefixed and say what to lower", msg)
	}
}

// TestCodecWeightedAverage sums encodings in the field and checks the
// decoded weighted average against float arithmetic, within 2^−(f+1).
func TestCodecWeightedAverage(t *testing.T) {
	r := rand.New(rand.NewPCG(testSeed(t), 2))
	c, err := NewCodec(CodecOptions{Frac: 16, Clip: 4, MaxSamples: 5000, Producers: 50})
	if err != nil {
		t.Fatal(err)
	}
	const d = 6
	sum := make([]sharing.Element, d+1)
	var want [d]float64
	var total uint64
	for range 50 {
		w := make([]float64, d)
		for j := range w {
			w[j] = r.NormFloat64() * 3 // some beyond the clip
		}
		n := 1 + r.Uint64N(5000)
		enc, err := c.Encode(nil, w, n)
		if err != nil {
			t.Fatal(err)
		}
		for j := range sum {
			sum[j] = sum[j].Add(enc[j])
		}
		for j := range want {
			want[j] += float64(n) * min(max(w[j], -4), 4)
		}
		total += n
	}
	avg, got, err := c.Decode(sum, 50)
	if err != nil {
		t.Fatal(err)
	}
	if got != total {
		t.Fatalf("total %d, want %d", got, total)
	}
	for j := range want {
		if e := math.Abs(avg[j] - want[j]/float64(total)); e > math.Exp2(-17) {
			t.Errorf("component %d: %g, want %g (error %g)", j, avg[j], want[j]/float64(total), e)
		}
	}
}

func TestCodecRefuses(t *testing.T) {
	c, err := NewCodec(CodecOptions{MaxSamples: 10, Producers: 2})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		w    []float64
		n    uint64
	}{
		{"NaN", []float64{math.NaN()}, 1},
		{"no samples", []float64{1}, 0},
		{"too many samples", []float64{1}, 11},
	} {
		if _, err := c.Encode(nil, tc.w, tc.n); !errors.Is(err, ErrUpdate) {
			t.Errorf("%s: err %v, want ErrUpdate", tc.name, err)
		}
	}
	if _, _, err := c.Decode([]sharing.Element{{}, {}}, 1); !errors.Is(err, ErrSum) {
		t.Errorf("zero total: err %v, want ErrSum", err)
	}
}

func TestInProcessSum(t *testing.T) {
	seed := testSeed(t)
	r := rand.New(rand.NewPCG(seed, 3))
	for _, tc := range []struct{ w, t int }{{1, 1}, {3, 2}, {5, 3}, {7, 4}} {
		agg, err := NewInProcess(tc.w, tc.t, rand.NewChaCha8([32]byte{byte(seed)}))
		if err != nil {
			t.Fatal(err)
		}
		want := make([]int64, 4)
		for p := range uint64(20) {
			v := make([]sharing.Element, len(want))
			for i := range v {
				x := r.Int64N(1<<40) - 1<<39
				want[i] += x
				v[i], _ = sharing.FromInt64(x)
			}
			if err := agg.Add(9, p, v); err != nil {
				t.Fatal(err)
			}
		}
		sum, n, err := agg.Sum(9)
		if err != nil {
			t.Fatal(err)
		}
		if n != 20 {
			t.Errorf("w=%d t=%d: %d contributions, want 20", tc.w, tc.t, n)
		}
		for i := range want {
			if sum[i].Int64() != want[i] {
				t.Errorf("w=%d t=%d: component %d = %d, want %d", tc.w, tc.t, i, sum[i].Int64(), want[i])
			}
		}
	}
}

func TestInProcessErrors(t *testing.T) {
	agg, err := NewInProcess(3, 2, rand.NewChaCha8([32]byte{1}))
	if err != nil {
		t.Fatal(err)
	}
	v := make([]sharing.Element, 3)
	if err := agg.Add(1, 7, v); err != nil {
		t.Fatal(err)
	}
	if err := agg.Add(1, 7, v); !errors.Is(err, ErrRound) {
		t.Errorf("duplicate producer: err %v, want ErrRound", err)
	}
	if err := agg.Add(1, 8, v[:2]); !errors.Is(err, ErrRound) {
		t.Errorf("short vector: err %v, want ErrRound", err)
	}
	if _, _, err := agg.Sum(2); !errors.Is(err, ErrRound) {
		t.Errorf("empty round: err %v, want ErrRound", err)
	}
	if _, err := NewInProcess(2, 3, rand.NewChaCha8([32]byte{})); err == nil {
		t.Error("threshold above the PPN count accepted")
	}
}

// TestInProcessLyingPPN: with w = 5, t = 3 one PPN's wrong accumulator is
// detected, named and corrected.
func TestInProcessLyingPPN(t *testing.T) {
	agg, err := NewInProcess(5, 3, rand.NewChaCha8([32]byte{2}))
	if err != nil {
		t.Fatal(err)
	}
	for p := range uint64(4) {
		v := []sharing.Element{sharing.NewElement(p + 1), sharing.NewElement(10 * (p + 1))}
		if err := agg.Add(0, p, v); err != nil {
			t.Fatal(err)
		}
	}
	agg.tamper(0, 3, 1, sharing.NewElement(12345))
	sum, _, err := agg.Sum(0)
	if err != nil {
		t.Fatal(err)
	}
	if sum[0].Int64() != 10 || sum[1].Int64() != 100 {
		t.Errorf("sum %v, want [10 100]", sum)
	}
	if len(agg.Faulty) != 1 || agg.Faulty[0].Uint64() != 4 {
		t.Errorf("faulty %v, want the PPN at x = 4", agg.Faulty)
	}
}

// TestOneEpochFedAvgIsCentralStep: with one full-batch step per round,
// Σ n_k·(w − η·g_k)/Σ n_k = w − η·g, so federated rounds through shares
// track central gradient descent up to the fixed-point rounding.
func TestOneEpochFedAvgIsCentralStep(t *testing.T) {
	r := rand.New(rand.NewPCG(testSeed(t), 4))
	train := model.Train{Epochs: 1, Rate: 0.5}
	codec, err := NewCodec(CodecOptions{Frac: 30, Clip: 16, MaxSamples: 250, Producers: 8})
	if err != nil {
		t.Fatal(err)
	}
	var clients []Client
	var allX, allY []float64
	for k := range 8 {
		n := 50 + r.IntN(200)
		l := &Local{Producer: uint64(k), Train: train, Codec: codec}
		for range n {
			row := []float64{1, r.NormFloat64(), r.NormFloat64(), float64(r.IntN(2)), r.NormFloat64() + float64(k)/4, r.Float64(), r.Float64(), r.Float64()}
			y := 0.0
			if row[1]+row[4] > 1 {
				y = 1
			}
			l.X = append(l.X, row...)
			l.Y = append(l.Y, y)
		}
		allX = append(allX, l.X...)
		allY = append(allY, l.Y...)
		clients = append(clients, l)
	}
	agg, err := NewInProcess(4, 3, rand.NewChaCha8([32]byte{3}))
	if err != nil {
		t.Fatal(err)
	}
	coord := &Coordinator{Codec: codec, Agg: agg}
	var fed, central model.Logistic
	for round := range uint64(10) {
		if fed, err = coord.Round(round, fed, clients, agg); err != nil {
			t.Fatal(err)
		}
		if err := central.Fit(allX, allY, train); err != nil {
			t.Fatal(err)
		}
	}
	for j := range fed.W {
		if e := math.Abs(fed.W[j] - central.W[j]); e > 1e-7 {
			t.Errorf("weight %d: federated %g, central %g", j, fed.W[j], central.W[j])
		}
	}
	if central.W[1] < 0.5 {
		t.Errorf("central model did not learn (w1 = %g); the comparison is vacuous", central.W[1])
	}
}

// TestCodecFieldBound: a sum of more contributions than the codec's N, or
// claiming more samples than N·max n_k, is refused with ErrBound or ErrSum.
func TestCodecFieldBound(t *testing.T) {
	c, err := NewCodec(CodecOptions{MaxSamples: 100, Producers: 3})
	if err != nil {
		t.Fatal(err)
	}
	sum := make([]sharing.Element, 3)
	for range 4 {
		enc, err := c.Encode(nil, []float64{1, -2}, 100)
		if err != nil {
			t.Fatal(err)
		}
		if err := sharing.AddVec(sum, enc); err != nil {
			t.Fatal(err)
		}
	}
	_, _, err = c.Decode(sum, 4)
	if !errors.Is(err, ErrBound) || !strings.Contains(err.Error(), "N = 3") {
		t.Errorf("4 contributions to a codec for 3: err %v, want ErrBound naming N = 3", err)
	}
	// Three contributions whose total claims 400 samples: above 3·100.
	_, _, err = c.Decode(sum, 3)
	if !errors.Is(err, ErrSum) || !strings.Contains(err.Error(), "exceeds") {
		t.Errorf("total 400 from 3 contributions of at most 100: err %v, want ErrSum", err)
	}
	if _, _, err := c.Decode(sum, 0); !errors.Is(err, ErrSum) {
		t.Errorf("no contributions: err %v, want ErrSum", err)
	}
	if got := c.MaxComponent(); got != 100*16<<20 {
		t.Errorf("MaxComponent %d, want %d", got, 100*16<<20)
	}
}
