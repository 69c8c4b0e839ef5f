package optimize

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

var seedFlag = flag.Uint64("seed", 0, "seed of the randomized tests (0: draw one and print it)")

// testRand returns the randomized tests' source, printing its seed so a
// failure can be replayed with -seed.
func testRand(t *testing.T) *rand.Rand {
	t.Helper()
	s := *seedFlag
	if s == 0 {
		s = uint64(time.Now().UnixNano())
	}
	t.Logf("seed %d (replay with -seed %d)", s, s)
	return rand.New(rand.NewPCG(s, 0))
}

func readTestInstance(t *testing.T, name string) *Instance {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	in, err := ReadInstance(f)
	if err != nil {
		t.Fatal(err)
	}
	return in
}

func TestParseInstanceErrors(t *testing.T) {
	tests := []struct {
		name, json, want string
	}{
		{"not json", `{"w": 4,`, "not a JSON instance"},
		{"unknown field", `{"w": 4, "L": 10, "producers": 3, "capacity": 5, "consumers": [{"id": "a", "producers": [0]}]}`, `unknown field "capacity"`},
		{"trailing", `{"w": 1, "L": 10, "producers": 3, "consumers": [{"id": "a", "producers": [0]}]} {}`, "trailing data"},
		{"w zero", `{"L": 10, "producers": 3, "consumers": [{"id": "a", "producers": [0]}]}`, `set "w"`},
		{"no L", `{"w": 1, "producers": 3, "consumers": [{"id": "a", "producers": [0]}]}`, `set "L"`},
		{"no producers", `{"w": 1, "L": 10, "consumers": [{"id": "a", "producers": [0]}]}`, `set "producers"`},
		{"no consumers", `{"w": 1, "L": 10, "producers": 3}`, "no consumers"},
		{"empty id", `{"w": 1, "L": 10, "producers": 3, "consumers": [{"producers": [0]}]}`, "has no id"},
		{"duplicate id", `{"w": 1, "L": 10, "producers": 3, "consumers": [{"id": "a", "producers": [0]}, {"id": "a", "producers": [1]}]}`, "share the id"},
		{"empty set", `{"w": 1, "L": 10, "producers": 3, "consumers": [{"id": "a", "producers": []}]}`, "has no producers"},
		{"producer range", `{"w": 1, "L": 10, "producers": 3, "consumers": [{"id": "a", "producers": [0, 3]}]}`, "outside 0..2"},
		{"unsorted", `{"w": 1, "L": 10, "producers": 3, "consumers": [{"id": "a", "producers": [1, 0]}]}`, "increasing order"},
		{"duplicate producer", `{"w": 1, "L": 10, "producers": 3, "consumers": [{"id": "a", "producers": [1, 1]}]}`, "increasing order"},
		{"too few ppns", `{"w": 4, "L": 10, "producers": 3, "ppns": 3, "consumers": [{"id": "a", "producers": [0]}]}`, "at least w candidates"},
		{"too big", `{"w": 2, "L": 1, "producers": 3, "consumers": [{"id": "a", "producers": [0, 1]}]}`, "raise L"},
		{"capacities mismatch", `{"w": 1, "capacities": [5, 5], "ppns": 3, "producers": 3, "consumers": [{"id": "a", "producers": [0]}]}`, "one capacity per candidate"},
		{"huge ppns", `{"w": 1, "L": 10, "producers": 3, "ppns": 100000000, "consumers": [{"id": "a", "producers": [0]}]}`, "at most that many"},
		{"huge producers", `{"w": 1, "L": 10, "producers": 100000000000, "consumers": [{"id": "a", "producers": [0]}]}`, "split the instance"},
		{"zero capacity", `{"w": 1, "capacities": [5, 0], "producers": 3, "consumers": [{"id": "a", "producers": [0]}]}`, "capacities must be"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseInstance([]byte(tt.json))
			if !errors.Is(err, ErrInstance) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want ErrInstance mentioning %q", err, tt.want)
			}
			if !strings.HasPrefix(err.Error(), "optimize: ") {
				t.Errorf("error %q lacks the package prefix", err)
			}
		})
	}
}

func TestInstanceRoundTrip(t *testing.T) {
	for _, name := range []string{"tiny.json", "capacities.json", "paper-100x10-seed7.json"} {
		in := readTestInstance(t, name)
		var buf bytes.Buffer
		if err := in.WriteJSON(&buf); err != nil {
			t.Fatal(err)
		}
		back, err := ParseInstance(buf.Bytes())
		if err != nil {
			t.Fatalf("%s: re-reading: %v", name, err)
		}
		if !slices.Equal(back.Sizes(), in.Sizes()) || back.Candidates() != in.Candidates() || back.W != in.W {
			t.Errorf("%s: round trip changed the instance", name)
		}
	}
}

func FuzzParseInstance(f *testing.F) {
	for _, name := range []string{"tiny.json", "capacities.json", "paper-100x10-seed7.json"} {
		data, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(`{"w": 2, "L": 3, "producers": 2, "consumers": [{"id": "a", "producers": [0, 1]}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		in, err := ParseInstance(data)
		if err != nil {
			if !errors.Is(err, ErrInstance) {
				t.Fatalf("error %v does not wrap ErrInstance", err)
			}
			return
		}
		var buf bytes.Buffer
		if err := in.WriteJSON(&buf); err != nil {
			t.Fatal(err)
		}
		back, err := ParseInstance(buf.Bytes())
		if err != nil {
			t.Fatalf("valid instance does not round-trip: %v", err)
		}
		if !slices.Equal(back.Sizes(), in.Sizes()) {
			t.Fatal("round trip changed the sizes")
		}
		if in.Producers*len(in.Consumers) > 1<<16 || in.Candidates() > 64 {
			return // keep each fuzz input cheap
		}
		r, err := Greedy(in)
		if err != nil {
			if !errors.Is(err, ErrInfeasible) {
				t.Fatal(err)
			}
			return
		}
		if err := Check(in, r); err != nil {
			t.Fatal(err)
		}
	})
}

func TestGenerateDeterministic(t *testing.T) {
	for _, fam := range []Family{FamilyPaper, FamilyHard} {
		a, err := Generate(GenOptions{Family: fam, Producers: 2000, Consumers: 20, Seed: 3})
		if err != nil {
			t.Fatal(err)
		}
		b, _ := Generate(GenOptions{Family: fam, Producers: 2000, Consumers: 20, Seed: 3})
		c, _ := Generate(GenOptions{Family: fam, Producers: 2000, Consumers: 20, Seed: 4})
		if !slices.Equal(a.Sizes(), b.Sizes()) {
			t.Errorf("%s: same seed, different sizes", fam)
		}
		if slices.Equal(a.Sizes(), c.Sizes()) {
			t.Errorf("%s: seeds 3 and 4 gave the same sizes", fam)
		}
		for _, cons := range a.Consumers {
			n, prev := 0, -1
			for p := range cons.Producers.All() {
				if p <= prev || p >= a.Producers {
					t.Fatalf("%s: producer %d after %d", fam, p, prev)
				}
				prev = p
				n++
			}
			if n != cons.Producers.Len() {
				t.Fatalf("%s: Len %d but %d members", fam, cons.Producers.Len(), n)
			}
			var got []int
			for p := range rangeOf(cons.Producers, 500, 900) {
				got = append(got, p)
			}
			var want []int
			for p := range cons.Producers.All() {
				if p >= 500 && p < 900 {
					want = append(want, p)
				}
			}
			if !slices.Equal(got, want) {
				t.Fatalf("%s: Range(500, 900) differs from filtering All", fam)
			}
		}
		if a.L != int64(map[Family]int{FamilyPaper: 8, FamilyHard: 2}[fam]*2000) {
			t.Errorf("%s: L = %d", fam, a.L)
		}
	}
	// Paper family: p = 0.5, so M_c stays near |P|/2.
	in, _ := Generate(GenOptions{Producers: 10000, Consumers: 5, Seed: 1})
	for _, m := range in.Sizes() {
		if m < 4700 || m > 5300 {
			t.Errorf("paper family M_c = %d, want about 5000", m)
		}
	}
}

func TestGenerateErrors(t *testing.T) {
	for _, o := range []GenOptions{
		{Family: "easy"}, {Producers: -1}, {Alpha: -2}, {P: 1.5}, {W: -1},
		{Producers: 10, Consumers: 2, Alpha: 0.1}, // M_c ≈ 5 > L = 1
	} {
		if _, err := Generate(o); !errors.Is(err, ErrInstance) {
			t.Errorf("Generate(%+v) = %v, want ErrInstance", o, err)
		}
	}
}

func TestLowerBoundKnown(t *testing.T) {
	tests := []struct {
		name  string
		w     int
		L     int64
		sizes []int
		want  int
	}{
		{"w dominates", 4, 100, []int{1, 1}, 4},
		{"volume", 1, 10, []int{5, 5, 5, 5, 5}, 3},
		{"only two fit", 1, 10, []int{4, 4, 4, 4, 4}, 3},           // volume says 2
		{"all above half", 1, 10, []int{6, 6, 6}, 3},               // L2: 3, volume 2
		{"thirds", 1, 30, []int{11, 11, 11, 11, 11, 11, 11}, 4},    // at most 2 per bin
		{"copies above half", 3, 10, []int{6}, 3},                  // w and L2 agree
		{"half and third", 1, 12, []int{7, 7, 5, 5, 5, 5}, 3},      // volume 3
		{"dff beats volume", 1, 100, []int{34, 34, 34, 34, 34}, 3}, // ≤2 per bin: 3
		{"blocker", 2, 10, []int{4, 4, 4, 3}, 4},                   // 3 cannot join two 4s
		{"mixed copies", 2, 100, []int{60, 45, 45}, 4},             // 60+45 > L: the 60s stand alone
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := sizedInstance(tt.w, tt.L, tt.sizes, 0)
			if got := LowerBound(in); got != tt.want {
				t.Errorf("LowerBound = %d, want %d", got, tt.want)
			}
		})
	}
}

// sizedInstance builds an instance whose consumer c aggregates producers
// 0..sizes[c]−1.
func sizedInstance(w int, L int64, sizes []int, ppns int) *Instance {
	maxSize := slices.Max(sizes)
	in := &Instance{W: w, L: L, Producers: maxSize, PPNs: ppns}
	for c, m := range sizes {
		l := make(List, m)
		for p := range l {
			l[p] = p
		}
		in.Consumers = append(in.Consumers, Consumer{ID: string(rune('a' + c)), Producers: l})
	}
	return in
}

// bruteForce returns the optimum by enumerating every assignment, or −1.
func bruteForce(in *Instance) int {
	N := in.Candidates()
	var subsets [][]int
	var gen func(start int, cur []int)
	gen = func(start int, cur []int) {
		if len(cur) == in.W {
			subsets = append(subsets, slices.Clone(cur))
			return
		}
		for n := start; n < N; n++ {
			gen(n+1, append(cur, n))
		}
	}
	gen(0, nil)
	sizes := in.Sizes()
	load := make([]int64, N)
	best := -1
	var rec func(c int)
	rec = func(c int) {
		if c == len(sizes) {
			k := 0
			for _, l := range load {
				if l > 0 {
					k++
				}
			}
			if best < 0 || k < best {
				best = k
			}
			return
		}
		for _, s := range subsets {
			ok := true
			for _, n := range s {
				load[n] += sizes[c]
				ok = ok && load[n] <= in.Capacity(n)
			}
			if ok {
				rec(c + 1)
			}
			for _, n := range s {
				load[n] -= sizes[c]
			}
		}
	}
	rec(0)
	return best
}

func TestSolversAgainstBruteForce(t *testing.T) {
	rnd := testRand(t)
	ctx := context.Background()
	for trial := range 300 {
		w := 1 + rnd.IntN(3)
		N := w + rnd.IntN(4)
		L := int64(5 + rnd.IntN(20))
		sizes := make([]int, 1+rnd.IntN(4))
		for c := range sizes {
			sizes[c] = 1 + rnd.IntN(int(L))
		}
		in := sizedInstance(w, L, sizes, N)
		if trial%3 == 0 {
			in.Capacities = make([]int64, N)
			for n := range N {
				in.Capacities[n] = L/2 + int64(rnd.IntN(int(L)))
			}
		}
		if in.Validate() != nil {
			continue
		}
		opt := bruteForce(in)
		lb := LowerBound(in)
		if opt >= 0 && lb > opt {
			t.Fatalf("trial %d: bound %d above optimum %d (w=%d L=%d caps=%v sizes=%v)", trial, lb, opt, w, L, in.Capacities, sizes)
		}
		g, gerr := Greedy(in)
		p, perr := Pack(in, &PackOptions{Seed: uint64(trial + 1), MaxIter: 500})
		if opt < 0 {
			if gerr == nil || perr == nil {
				t.Fatalf("trial %d: infeasible instance but greedy %v, pack %v", trial, gerr, perr)
			}
			continue
		}
		for _, r := range []*Result{g, p} {
			if r == nil {
				continue // the heuristics may miss a feasible plan
			}
			if err := Check(in, r); err != nil {
				t.Fatalf("trial %d: %v", trial, err)
			}
			if len(r.Active) < opt {
				t.Fatalf("trial %d: %s uses %d PPNs, below the optimum %d", trial, r.Solver, len(r.Active), opt)
			}
		}
		if g != nil && (p == nil || len(p.Active) > len(g.Active)) {
			t.Fatalf("trial %d: pack worse than greedy", trial)
		}
		if in.Uniform() && p != nil {
			e, err := Exact(ctx, in, &ExactOptions{TimeLimit: 10 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			if err := Check(in, e); err != nil {
				t.Fatalf("trial %d: %v", trial, err)
			}
			if !e.Optimal || len(e.Active) != opt {
				t.Fatalf("trial %d: exact %d (optimal %v), brute force %d", trial, len(e.Active), e.Optimal, opt)
			}
		}
	}
}

func TestCheckRejects(t *testing.T) {
	in := readTestInstance(t, "tiny.json")
	good, err := Pack(in, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := Check(in, good); err != nil {
		t.Fatal(err)
	}
	clone := func() *Result {
		r := *good
		r.Consumers = make([][]int, len(good.Consumers))
		for c := range r.Consumers {
			r.Consumers[c] = slices.Clone(good.Consumers[c])
		}
		r.Load, r.Active = slices.Clone(good.Load), slices.Clone(good.Active)
		return &r
	}
	tests := []struct {
		name   string
		mutate func(r *Result)
		want   string
	}{
		{"too few PPNs", func(r *Result) { r.Consumers[0] = r.Consumers[0][:1] }, "want w = 2"},
		{"twice the same", func(r *Result) { r.Consumers[0][1] = r.Consumers[0][0] }, "assigned twice"},
		{"not a candidate", func(r *Result) { r.Consumers[0][0] = 99 }, "not a candidate"},
		{"wrong load", func(r *Result) { r.Load[r.Active[0]]-- }, "reported loads"},
		{"wrong active", func(r *Result) { r.Active = r.Active[1:] }, "reported active"},
		{"false optimum", func(r *Result) { r.LowerBound = len(r.Active) + 1 }, "below the lower bound"},
		{"missing consumer", func(r *Result) { r.Consumers = r.Consumers[1:] }, "consumer assignments"},
		{"overload", func(r *Result) {
			// Put every consumer on PPNs 0 and 1: 21 sums on L = 10.
			for c := range r.Consumers {
				r.Consumers[c] = []int{0, 1}
			}
			*r = *newResult(in, "bad", r.Consumers, 0, time.Now())
		}, "exceeds its capacity"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := clone()
			tt.mutate(r)
			err := Check(in, r)
			if !errors.Is(err, ErrPlan) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Check = %v, want ErrPlan mentioning %q", err, tt.want)
			}
		})
	}
}

func TestProducerPPNs(t *testing.T) {
	for _, name := range []string{"tiny.json", "paper-100x10-seed7.json"} {
		in := readTestInstance(t, name)
		r, err := Pack(in, nil)
		if err != nil {
			t.Fatal(err)
		}
		ps := r.ProducerPPNs(in)
		var shares int64
		for p := range in.Producers {
			var want []int
			for c, cons := range in.Consumers {
				if slices.Contains(cons.Producers.(List), p) {
					want = append(want, r.Consumers[c]...)
				}
			}
			slices.Sort(want)
			want = slices.Compact(want)
			if got := ps.PPNs(p); !slices.Equal(got, want) {
				t.Fatalf("%s: producer %d sends to %v, want %v", name, p, got, want)
			}
			shares += int64(len(want))
		}
		if ps.Shares() != shares {
			t.Errorf("%s: Shares = %d, want %d", name, ps.Shares(), shares)
		}
	}
}

// TestGreedyReading pins our reading of the paper's Fig. 3 on a case
// worked by hand: w = 1, L = 10, sizes 6, 3, 3, 2 on 4 candidates. Spread:
// one consumer per PPN (loads 6, 3, 3, 2). Consolidate: PPN 3 (load 2)
// moves to the most residual PPN, 1 or 2 (tie → 1): loads 6, 5, 3. Then
// PPN 2 (3) → PPN 1 (residual 5): loads 6, 8. Then PPN 0 (6) fits
// nowhere (residual 2): stop with 2 PPNs.
func TestGreedyReading(t *testing.T) {
	in := sizedInstance(1, 10, []int{6, 3, 3, 2}, 4)
	r, err := Greedy(in)
	if err != nil {
		t.Fatal(err)
	}
	if err := Check(in, r); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(r.Active, []int{0, 1}) || !slices.Equal(r.Load[:2], []int64{6, 8}) {
		t.Errorf("greedy: active %v loads %v, want [0 1] and [6 8]", r.Active, r.Load)
	}
}

// TestProducerPPNsGenerated compares the producer-by-producer path for
// generated sets with the sets replayed consumer by consumer.
func TestProducerPPNsGenerated(t *testing.T) {
	in, err := Generate(GenOptions{Family: FamilyHard, Producers: 3000, Consumers: 30, Seed: 11})
	if err != nil {
		t.Fatal(err)
	}
	r, err := Pack(in, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := make([][]int, in.Producers)
	for c, cons := range in.Consumers {
		for p := range cons.Producers.All() {
			want[p] = append(want[p], r.Consumers[c]...)
		}
	}
	ps := r.ProducerPPNs(in)
	for p := range want {
		slices.Sort(want[p])
		want[p] = slices.Compact(want[p])
		if got := ps.PPNs(p); !slices.Equal(got, want[p]) {
			t.Fatalf("producer %d sends to %v, want %v", p, got, want[p])
		}
	}
}
