package sharing

import (
	"crypto/rand"
	"errors"
	"math/bits"
	mrand "math/rand/v2"
	"slices"
	"testing"
)

// splitShares splits secret for xs with threshold t.
func splitShares(t testing.TB, xs []Element, th int, secret Element, rnd *mrand.ChaCha8) []Share {
	t.Helper()
	sp, err := NewSplitter(xs, th, rnd)
	if err != nil {
		t.Fatal(err)
	}
	ys := make([]Element, len(xs))
	if err := sp.Split(secret, ys); err != nil {
		t.Fatal(err)
	}
	shares := make([]Share, len(xs))
	for i := range xs {
		shares[i] = Share{xs[i], ys[i]}
	}
	return shares
}

// corrupt adds a nonzero offset to the shares whose bit is set in mask and
// returns their x-coordinates in input order.
func corrupt(shares []Share, mask uint32, r *mrand.ChaCha8) []Element {
	var wrong []Element
	for i := range shares {
		if mask&(1<<i) == 0 {
			continue
		}
		d := randElement(r)
		if d.IsZero() {
			d = Element{1}
		}
		shares[i].Y = shares[i].Y.Add(d)
		wrong = append(wrong, shares[i].X)
	}
	return wrong
}

func TestRobustRecoverCorrects(t *testing.T) {
	r := newRand(t)
	tests := []struct{ w, t int }{
		{4, 4}, {5, 4}, {6, 4}, {7, 4}, {8, 4}, {5, 3}, {7, 3}, {9, 3}, {3, 1}, {10, 2}, {12, 5},
	}
	for _, tc := range tests {
		e := (tc.w - tc.t) / 2
		xs := make([]Element, tc.w)
		for i := range xs {
			xs[i] = Element{1 + r.Uint64()%(Q-1)}
		}
		if checkXs(xs) != nil {
			xs = seqXs(tc.w)
		}
		var c Combiner
		for trial := range 50 {
			secret := randElement(r)
			shares := splitShares(t, xs, tc.t, secret, r)
			// A random set of at most e wrong shares.
			var mask uint32
			for bits.OnesCount32(mask) < trial%(e+1) {
				mask |= 1 << (r.Uint64() % uint64(tc.w))
			}
			wrong := corrupt(shares, mask, r)
			res, err := c.RobustRecover(shares, tc.t)
			if err != nil {
				t.Fatalf("w=%d t=%d wrong=%v: %v", tc.w, tc.t, wrong, err)
			}
			if res.Secret != secret {
				t.Fatalf("w=%d t=%d wrong=%v: secret %d, want %d", tc.w, tc.t, wrong, res.Secret.v, secret.v)
			}
			if !slices.Equal(res.Faulty, wrong) {
				t.Fatalf("w=%d t=%d: faulty %v, want %v", tc.w, tc.t, res.Faulty, wrong)
			}
			if res.Checked != (tc.w > tc.t) {
				t.Fatalf("w=%d t=%d: Checked = %v", tc.w, tc.t, res.Checked)
			}
		}
	}
}

func TestRobustRecoverDetectsUncorrectable(t *testing.T) {
	r := newRand(t)
	tests := []struct {
		name  string
		w, t  int
		wrong uint32
	}{
		{"w=t+1, one wrong: detected, not correctable", 5, 4, 1 << 2},
		{"w=t+1, t=1", 2, 1, 1},
		{"w=t+3, two wrong", 7, 4, 1<<0 | 1<<6},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var c Combiner
			shares := splitShares(t, seqXs(tc.w), tc.t, randElement(r), r)
			corrupt(shares, tc.wrong, r)
			_, err := c.RobustRecover(shares, tc.t)
			if !errors.Is(err, ErrInconsistent) {
				t.Fatalf("err = %v, want ErrInconsistent", err)
			}
			var ie *InconsistentError
			if !errors.As(err, &ie) {
				t.Fatalf("err = %T, want *InconsistentError", err)
			}
			if ie.Shares != tc.w || ie.Threshold != tc.t || ie.MaxCorrectable != (tc.w-tc.t)/2 || ie.Component != -1 {
				t.Fatalf("error fields %+v", *ie)
			}
		})
	}
}

func TestRobustRecoverBadInput(t *testing.T) {
	shares := splitShares(t, seqXs(5), 3, Element{42}, seededRand(1))
	tests := []struct {
		name   string
		shares []Share
		t      int
		want   error
	}{
		{"t = 0", shares, 0, ErrThreshold},
		{"too few", shares[:2], 3, ErrTooFewShares},
		{"none", nil, 1, ErrTooFewShares},
		{"duplicate x", append(slices.Clone(shares[:3]), shares[1]), 3, ErrDuplicateX},
		{"zero x", append(slices.Clone(shares[:3]), Share{Element{0}, Element{5}}), 3, ErrZeroX},
		{"too many", manyShares(MaxRobustShares + 1), 3, ErrTooManyShares},
	}
	for _, tc := range tests {
		var c Combiner
		if _, err := c.RobustRecover(tc.shares, tc.t); !errors.Is(err, tc.want) {
			t.Errorf("%s: err = %v, want %v", tc.name, err, tc.want)
		}
	}
}

func manyShares(n int) []Share {
	s := make([]Share, n)
	for i := range s {
		s[i].X = Element{uint64(i + 1)}
	}
	return s
}

// splitVec shares an m-component vector: ys[i] is the share vector at xs[i].
func splitVec(t testing.TB, xs []Element, th int, secret []Element, rnd *mrand.ChaCha8) [][]Element {
	t.Helper()
	sp, err := NewSplitter(xs, th, rnd)
	if err != nil {
		t.Fatal(err)
	}
	ys := make([][]Element, len(xs))
	for i := range ys {
		ys[i] = make([]Element, len(secret))
	}
	col := make([]Element, len(xs))
	for k, s := range secret {
		if err := sp.Split(s, col); err != nil {
			t.Fatal(err)
		}
		for i := range ys {
			ys[i][k] = col[i]
		}
	}
	return ys
}

func TestRobustRecoverVec(t *testing.T) {
	r := newRand(t)
	xs := seqXs(8)
	const th, m = 4, 6 // e = 2
	secret := make([]Element, m)
	for k := range secret {
		secret[k] = randElement(r)
	}
	tests := []struct {
		name string
		bad  map[int][]int // node index → components it spoils
		ok   bool
	}{
		{"all honest", nil, true},
		{"one node, one component", map[int][]int{3: {5}}, true},
		{"two nodes, different components", map[int][]int{0: {1}, 6: {2, 4}}, true},
		{"two nodes, every component", map[int][]int{2: {0, 1, 2, 3, 4, 5}, 7: {0, 1, 2, 3, 4, 5}}, true},
		// Each component has at most two wrong shares, but three nodes lie.
		{"three nodes, two per component", map[int][]int{1: {0}, 4: {0}, 5: {1}}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ys := splitVec(t, xs, th, secret, r)
			var want []Element
			for i := range xs {
				for _, k := range tc.bad[i] {
					ys[i][k] = ys[i][k].Add(Element{1 + r.Uint64()%(Q-1)})
				}
				if len(tc.bad[i]) > 0 {
					want = append(want, xs[i])
				}
			}
			var c Combiner
			res, err := c.RobustRecoverVec(xs, ys, th)
			if !tc.ok {
				if !errors.Is(err, ErrInconsistent) {
					t.Fatalf("err = %v, want ErrInconsistent", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(res.Secret, secret) {
				t.Fatalf("secret %v, want %v", res.Secret, secret)
			}
			if !slices.Equal(res.Faulty, want) {
				t.Fatalf("faulty %v, want %v", res.Faulty, want)
			}
		})
	}
}

func TestRobustRecoverVecBadInput(t *testing.T) {
	xs := seqXs(5)
	ys := splitVec(t, xs, 3, []Element{{1}, {2}}, seededRand(2))
	var c Combiner
	if _, err := c.RobustRecoverVec(xs[:4], ys, 3); !errors.Is(err, ErrLength) {
		t.Errorf("fewer xs than vectors: err = %v, want ErrLength", err)
	}
	short := slices.Clone(ys)
	short[3] = short[3][:1]
	if _, err := c.RobustRecoverVec(xs, short, 3); !errors.Is(err, ErrLength) {
		t.Errorf("ragged vectors: err = %v, want ErrLength", err)
	}
	if _, err := c.RobustRecoverVec(xs, ys, 6); !errors.Is(err, ErrTooFewShares) {
		t.Errorf("t > w: err = %v, want ErrTooFewShares", err)
	}
	ys[0][1] = ys[0][1].Add(Element{1})
	_, err := c.RobustRecoverVec(xs[:4], ys[:4], 3)
	var ie *InconsistentError
	if !errors.As(err, &ie) || ie.Component != 1 {
		t.Errorf("w=t+1 with a wrong component: err = %v, want *InconsistentError in component 1", err)
	}
}

// FuzzRobustRecover corrupts random shares. Whenever at most e are wrong it
// must recover the secret and name exactly the wrong x-coordinates; with
// more it must return an error or a result, never panic.
func FuzzRobustRecover(f *testing.F) {
	f.Add(uint64(1), uint8(6), uint8(4), uint32(0b000100))
	f.Add(uint64(2), uint8(5), uint8(4), uint32(0b00001))
	f.Add(uint64(3), uint8(9), uint8(3), uint32(0b100100001))
	f.Add(uint64(4), uint8(8), uint8(4), uint32(0b11100000))
	f.Add(uint64(5), uint8(1), uint8(1), uint32(0))
	f.Fuzz(func(t *testing.T, seed uint64, w, th uint8, mask uint32) {
		if w == 0 || w > 16 || th == 0 || th > w {
			return
		}
		r := seededRand(seed)
		mask &= 1<<w - 1
		xs := make([]Element, w)
		for i := range xs {
			xs[i] = Element{1 + r.Uint64()%(Q-1)}
		}
		if checkXs(xs) != nil {
			return
		}
		secret := randElement(r)
		shares := splitShares(t, xs, int(th), secret, r)
		wrong := corrupt(shares, mask, r)
		var c Combiner
		res, err := c.RobustRecover(shares, int(th))
		e := (int(w) - int(th)) / 2
		if len(wrong) > e {
			if err == nil && len(res.Faulty) > e {
				t.Fatalf("claimed to correct %d shares, more than e = %d", len(res.Faulty), e)
			}
			return
		}
		if err != nil {
			t.Fatalf("w=%d t=%d wrong=%v: %v", w, th, wrong, err)
		}
		if res.Secret != secret || !slices.Equal(res.Faulty, wrong) {
			t.Fatalf("w=%d t=%d: got secret %v faulty %v, want %v and %v", w, th, res.Secret, res.Faulty, secret, wrong)
		}
	})
}

// FuzzRobustRecoverRaw feeds arbitrary shares, as a consumer would receive
// them from the network: errors are fine, panics are not, and a result must
// be consistent with the shares it does not call faulty.
func FuzzRobustRecoverRaw(f *testing.F) {
	f.Add([]byte{1, 10, 2, 20, 3, 30, 4, 40, 5, 41}, uint8(3))
	f.Add([]byte{0, 1, 0, 2}, uint8(1))
	f.Add([]byte{7, 7, 7, 7}, uint8(2))
	f.Add([]byte{}, uint8(0))
	f.Fuzz(func(t *testing.T, data []byte, th uint8) {
		var shares []Share
		for i := 0; i+1 < len(data) && len(shares) < 20; i += 2 {
			x, y := uint64(data[i]), uint64(data[i+1])
			shares = append(shares, Share{NewElement(x * 0x9e3779b97f4a7c15), NewElement(y * 0xbf58476d1ce4e5b9)})
		}
		var c Combiner
		res, err := c.RobustRecover(shares, int(th))
		if err != nil {
			return
		}
		var good []Share
		for _, s := range shares {
			if !slices.Contains(res.Faulty, s.X) {
				good = append(good, s)
			}
		}
		if len(good) < int(th) {
			t.Fatalf("%d good shares left, fewer than t = %d", len(good), th)
		}
		got, err := c.Recover(good, int(th))
		if err != nil || got != res.Secret {
			t.Fatalf("good shares recover %v (%v), result says %v", got, err, res.Secret)
		}
	})
}

func TestRobustRecoverCryptoRand(t *testing.T) {
	// The same path with the production randomness source.
	xs := seqXs(6)
	sp, err := NewSplitter(xs, 4, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ys := make([]Element, 6)
	if err := sp.Split(Element{123456789}, ys); err != nil {
		t.Fatal(err)
	}
	ys[5] = ys[5].Add(Element{1})
	shares := make([]Share, 6)
	for i := range shares {
		shares[i] = Share{xs[i], ys[i]}
	}
	var c Combiner
	res, err := c.RobustRecover(shares, 4)
	if err != nil || res.Secret.v != 123456789 || !slices.Equal(res.Faulty, []Element{{6}}) {
		t.Fatalf("got %+v, %v", res, err)
	}
}

// FuzzRobustRecoverVec spoils whole share vectors of random nodes in random
// components. With at most e wrong nodes it must recover the vector and name
// exactly those nodes; with more it may fail but must not panic.
func FuzzRobustRecoverVec(f *testing.F) {
	f.Add(uint64(1), uint8(6), uint8(4), uint8(3), uint16(0b000100), uint64(0b101))
	f.Add(uint64(2), uint8(8), uint8(4), uint8(5), uint16(0b10000001), uint64(0xffff))
	f.Add(uint64(3), uint8(5), uint8(4), uint8(2), uint16(0b1), uint64(1))
	f.Add(uint64(4), uint8(9), uint8(3), uint8(1), uint16(0b111), uint64(1))
	f.Fuzz(func(t *testing.T, seed uint64, w, th, m uint8, nodes uint16, comps uint64) {
		if w == 0 || w > 16 || th == 0 || th > w || m == 0 || m > 16 {
			return
		}
		r := seededRand(seed)
		nodes &= 1<<w - 1
		xs := seqXs(int(w))
		secret := make([]Element, m)
		for k := range secret {
			secret[k] = randElement(r)
		}
		ys := splitVec(t, xs, int(th), secret, r)
		var wrong []Element
		for i := range ys {
			if nodes&(1<<i) == 0 {
				continue
			}
			spoiled := false
			for k := range ys[i] {
				if comps&(1<<((i*int(m)+k)%64)) != 0 || (!spoiled && k == len(ys[i])-1) {
					ys[i][k] = ys[i][k].Add(Element{1 + r.Uint64()%(Q-1)})
					spoiled = true
				}
			}
			wrong = append(wrong, xs[i])
		}
		var c Combiner
		res, err := c.RobustRecoverVec(xs, ys, int(th))
		if e := (int(w) - int(th)) / 2; len(wrong) > e {
			if err == nil && len(res.Faulty) > e {
				t.Fatalf("claimed to correct %d nodes, more than e = %d", len(res.Faulty), e)
			}
			return
		}
		if err != nil {
			t.Fatalf("w=%d t=%d wrong=%v: %v", w, th, wrong, err)
		}
		if !slices.Equal(res.Secret, secret) || !slices.Equal(res.Faulty, wrong) {
			t.Fatalf("w=%d t=%d: got %v faulty %v, want %v and %v", w, th, res.Secret, res.Faulty, secret, wrong)
		}
	})
}
