package sharing

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"math/bits"
	"testing"
)

func TestNewSplitterErrors(t *testing.T) {
	tests := []struct {
		name string
		xs   []Element
		t    int
		rnd  io.Reader
		want error
	}{
		{"t = 0", seqXs(3), 0, rand.Reader, ErrThreshold},
		{"t > w", seqXs(3), 4, rand.Reader, ErrThreshold},
		{"no xs", nil, 1, rand.Reader, ErrTooFewShares},
		{"zero x", xsOf(1, 0, 2), 2, rand.Reader, ErrZeroX},
		{"x = q reduces to zero", xsOf(1, Q), 2, rand.Reader, ErrZeroX},
		{"duplicate x", xsOf(1, 2, 1), 2, rand.Reader, ErrDuplicateX},
		{"nil source", seqXs(3), 2, nil, ErrRandomness},
	}
	for _, tc := range tests {
		if _, err := NewSplitter(tc.xs, tc.t, tc.rnd); !errors.Is(err, tc.want) {
			t.Errorf("%s: err = %v, want %v", tc.name, err, tc.want)
		}
	}
}

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, errors.New("entropy pool on fire") }

func TestSplitErrors(t *testing.T) {
	sp, err := NewSplitter(seqXs(4), 3, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if err := sp.Split(Element{1}, make([]Element, 3)); !errors.Is(err, ErrLength) {
		t.Errorf("short dst: err = %v, want ErrLength", err)
	}
	if err := sp.SplitBatch(make([]Element, 2), make([]Element, 7)); !errors.Is(err, ErrLength) {
		t.Errorf("batch dst: err = %v, want ErrLength", err)
	}
	bad, err := NewSplitter(seqXs(4), 3, failingReader{})
	if err != nil {
		t.Fatal(err)
	}
	if err := bad.Split(Element{1}, make([]Element, 4)); !errors.Is(err, ErrRandomness) {
		t.Errorf("failing source: err = %v, want ErrRandomness", err)
	}
}

// TestAnySubsetRecovers checks recover(split(s)) = s for every t-subset of
// w = 6 shares and every t.
func TestAnySubsetRecovers(t *testing.T) {
	r := newRand(t)
	const w = 6
	xs := make([]Element, w)
	for i := range xs {
		xs[i] = Element{1 + r.Uint64()%(Q-1)}
	}
	if err := checkXs(xs); err != nil {
		xs = seqXs(w)
	}
	var c Combiner
	for th := 1; th <= w; th++ {
		secret := randElement(r)
		shares := splitShares(t, xs, th, secret, r)
		for mask := uint(0); mask < 1<<w; mask++ {
			if bits.OnesCount(mask) != th {
				continue
			}
			var sub []Share
			for i := range shares {
				if mask&(1<<i) != 0 {
					sub = append(sub, shares[i])
				}
			}
			got, err := c.Recover(sub, th)
			if err != nil {
				t.Fatal(err)
			}
			if got != secret {
				t.Fatalf("t=%d subset %06b: recovered %d, want %d", th, mask, got.v, secret.v)
			}
		}
	}
}

// TestHomomorphicSum checks recover(Σ split(s_i)) = Σ s_i, with signed
// readings, for AddVec, AddShares and Sum.
func TestHomomorphicSum(t *testing.T) {
	r := newRand(t)
	xs := seqXs(5)
	const th, meters = 3, 1000
	sp, err := NewSplitter(xs, th, r)
	if err != nil {
		t.Fatal(err)
	}
	acc := make([]Element, len(xs))    // node-side running sums, via AddVec
	cols := make([][]Element, len(xs)) // every share a node receives, for Sum
	pair := make([]Share, len(xs))     // running sums via AddShares
	one := make([]Element, len(xs))
	var want int64
	for i := range pair {
		pair[i].X = xs[i]
	}
	for range meters {
		v := int64(r.Uint64()%2_000_001) - 1_000_000 // Wh, import or export
		want += v
		e, err := FromInt64(v)
		if err != nil {
			t.Fatal(err)
		}
		if err := sp.Split(e, one); err != nil {
			t.Fatal(err)
		}
		if err := AddVec(acc, one); err != nil {
			t.Fatal(err)
		}
		for i := range xs {
			cols[i] = append(cols[i], one[i])
			if pair[i], err = AddShares(pair[i], Share{xs[i], one[i]}); err != nil {
				t.Fatal(err)
			}
		}
	}
	rec, err := NewRecoverer(xs[1:4])
	if err != nil {
		t.Fatal(err)
	}
	sums := map[string][]Element{"AddVec": acc, "AddShares": nil, "Sum": nil}
	for i := range xs {
		sums["AddShares"] = append(sums["AddShares"], pair[i].Y)
		sums["Sum"] = append(sums["Sum"], Sum(cols[i]))
	}
	for name, ys := range sums {
		got, err := rec.Recover(ys[1:4])
		if err != nil {
			t.Fatal(err)
		}
		if got.Int64() != want {
			t.Errorf("%s: recovered %d, want %d", name, got.Int64(), want)
		}
	}
	if _, err := AddShares(Share{X: Element{1}}, Share{X: Element{2}}); err == nil {
		t.Error("AddShares accepted shares at different x-coordinates")
	}
	if err := AddVec(make([]Element, 2), make([]Element, 3)); !errors.Is(err, ErrLength) {
		t.Errorf("AddVec mismatched: err = %v, want ErrLength", err)
	}
}

func TestSumMatchesBig(t *testing.T) {
	r := newRand(t)
	for _, n := range []int{0, 1, 3, 4, 5, 7, 8, 9, 1000} {
		es := make([]Element, n)
		want := Element{}
		for i := range es {
			es[i] = Element{Q - 1 - r.Uint64()%4} // near q, to stress lazy reduction
			want = want.Add(es[i])
		}
		if got := Sum(es); got != want {
			t.Fatalf("Sum of %d elements = %d, want %d", n, got.v, want.v)
		}
	}
}

func TestSplitBatchMatchesSplit(t *testing.T) {
	xs := seqXs(5)
	secrets := []Element{{0}, {1}, {Q - 1}, {12345}}
	a, err := NewSplitter(xs, 3, seededRand(7))
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewSplitter(xs, 3, seededRand(7))
	if err != nil {
		t.Fatal(err)
	}
	batch := make([]Element, len(secrets)*len(xs))
	if err := a.SplitBatch(secrets, batch); err != nil {
		t.Fatal(err)
	}
	one := make([]Element, len(xs))
	for i, s := range secrets {
		if err := b.Split(s, one); err != nil {
			t.Fatal(err)
		}
		for j := range one {
			if batch[i*len(xs)+j] != one[j] {
				t.Fatalf("secret %d share %d: batch %d, single %d", i, j, batch[i*len(xs)+j].v, one[j].v)
			}
		}
	}
}

func TestNoAllocations(t *testing.T) {
	xs := seqXs(4)
	sp, err := NewSplitter(xs, 4, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	rec, err := NewRecoverer(xs)
	if err != nil {
		t.Fatal(err)
	}
	dst := make([]Element, 4)
	secrets := make([]Element, 1000)
	batch := make([]Element, 4*len(secrets))
	shares := []Share{{xs[0], Element{1}}, {xs[1], Element{2}}, {xs[2], Element{3}}, {xs[3], Element{4}}}
	var c Combiner
	var sink Element
	ops := map[string]func(){
		"Split":      func() { _ = sp.Split(Element{42}, dst) },
		"SplitBatch": func() { _ = sp.SplitBatch(secrets, batch) },
		"Recover":    func() { sink, _ = rec.Recover(dst) },
		"Combiner":   func() { sink, _ = c.Recover(shares, 4) },
		"AddVec":     func() { _ = AddVec(batch[:2000], batch[2000:]) },
		"Sum":        func() { sink = Sum(batch) },
	}
	for name, op := range ops {
		op() // warm caches
		if n := testing.AllocsPerRun(100, op); n != 0 {
			t.Errorf("%s: %v allocations per run, want 0", name, n)
		}
	}
	_ = sink
}

// TestCombinerConcurrent recovers from two node sets at once, so the
// last-used fast path and the caches are exercised under -race.
func TestCombinerConcurrent(t *testing.T) {
	r := newRand(t)
	xs := seqXs(6)
	secret := randElement(r)
	shares := splitShares(t, xs, 3, secret, r)
	sets := [][]Share{shares[:3], shares[3:], {shares[0], shares[2], shares[4]}}
	var c Combiner
	errs := make(chan error, 4)
	for g := range 4 {
		go func() {
			for i := range 2000 {
				set := sets[(g+i)%len(sets)]
				got, err := c.Recover(set, 3)
				if err == nil && got != secret {
					err = fmt.Errorf("recovered %d, want %d", got.v, secret.v)
				}
				if err == nil && i%100 == 0 {
					var res RobustResult
					res, err = c.RobustRecover(shares, 3)
					if err == nil && res.Secret != secret {
						err = fmt.Errorf("robust recovered %d, want %d", res.Secret.v, secret.v)
					}
				}
				if err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	for range 4 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}
