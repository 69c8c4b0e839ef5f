package tariff

import (
	"fmt"
	"math/big"
	"math/rand/v2"
	"testing"
)

// roundRat rounds a rational half away from zero, the rule Compute states.
func roundRat(r *big.Rat) int64 {
	num, den := new(big.Int).Set(r.Num()), r.Denom()
	neg := num.Sign() < 0
	num.Abs(num)
	q, rem := new(big.Int).QuoRem(num, den, new(big.Int))
	if rem.Lsh(rem, 1).Cmp(den) >= 0 {
		q.Add(q, big.NewInt(1))
	}
	if neg {
		q.Neg(q)
	}
	return q.Int64()
}

// reference prices usage from the definitions in the package comment with
// exact rationals, independently of Compute's integer arithmetic.
func reference(s *Schedule, u Usage) map[string]int64 {
	out := map[string]int64{}
	kwh := new(big.Rat).SetFrac64(u.Wh, 1000)
	load := new(big.Rat).SetFrac64(u.SanctionedLoadW, 1000)
	if s.FixedCharge.PartKW == "ceil" {
		load.SetInt64((u.SanctionedLoadW + 999) / 1000)
	}
	out[KindFixed] = roundRat(new(big.Rat).Mul(load, big.NewRat(s.FixedCharge.PaisePerKWMonth, 1)))
	var energy int64
	left, lower := new(big.Rat).Set(kwh), int64(0)
	for _, sl := range s.Energy {
		in := new(big.Rat).Set(left)
		if sl.UpToKWh != nil {
			if width := big.NewRat(*sl.UpToKWh-lower, 1); width.Cmp(in) < 0 {
				in = width
			}
			lower = *sl.UpToKWh
		}
		left.Sub(left, in)
		energy += roundRat(new(big.Rat).Mul(in, big.NewRat(sl.PaisePerKWh, 1)))
	}
	out[KindEnergy] = energy
	for _, b := range s.TimeOfUse {
		if u.Wh == 0 || b.MultiplierBP == 10000 || u.BandWh[b.Name] == 0 {
			continue
		}
		share := new(big.Rat).SetFrac64(u.BandWh[b.Name], u.Wh)
		adj := new(big.Rat).Mul(big.NewRat(energy, 1), share)
		adj.Mul(adj, big.NewRat(b.MultiplierBP-10000, 10000))
		out[KindToU] += roundRat(adj)
	}
	for _, c := range s.Surcharges {
		out[KindSurcharge] += roundRat(new(big.Rat).Mul(kwh, big.NewRat(c.PaisePerKWh, 1)))
	}
	base := int64(0)
	for _, k := range s.Tax.Base {
		base += out[k]
	}
	out[KindTax] = roundRat(big.NewRat(base*s.Tax.RateBP, 10000))
	return out
}

// TestAgainstReference compares Compute with the rational reference on
// random slab and time-of-use schedules and random usage.
func TestAgainstReference(t *testing.T) {
	t.Logf("seed %d (rerun with -tariff.seed=%d)", *seed, *seed)
	rng := rand.New(rand.NewPCG(*seed, 1))
	base, err := Load("example-tod-lt2a")
	if err != nil {
		t.Fatal(err)
	}
	for i := range 2000 {
		s := *base
		s.Energy = nil
		limit, n := int64(0), 1+rng.IntN(4)
		for j := range n {
			sl := Slab{PaisePerKWh: rng.Int64N(2000)}
			if j < n-1 {
				limit += 1 + rng.Int64N(300)
				l := limit
				sl.UpToKWh = &l
			}
			s.Energy = append(s.Energy, sl)
		}
		s.FixedCharge.PartKW = []string{"ceil", "exact"}[rng.IntN(2)]
		s.Tax.RateBP = rng.Int64N(3000)
		s.TimeOfUse = []Band{{Name: "a", MultiplierBP: rng.Int64N(20000)}, {Name: "b", MultiplierBP: rng.Int64N(20000)}}
		if err := s.Validate(); err != nil {
			t.Fatalf("case %d: generated schedule invalid: %v", i, err)
		}
		wh := rng.Int64N(2_000_000)
		a := rng.Int64N(wh + 1)
		u := Usage{Wh: wh, SanctionedLoadW: 1 + rng.Int64N(50_000), BandWh: map[string]int64{"a": a, "b": wh - a}}
		c, err := s.Compute(u)
		if err != nil {
			t.Fatal(err)
		}
		got, want := amounts(c), reference(&s, u)
		for _, k := range []string{KindFixed, KindEnergy, KindToU, KindSurcharge, KindTax} {
			if got[k] != want[k] {
				t.Fatalf("case %d: %s = %d paise, reference %d\nslabs %s\nschedule %+v\nusage %+v", i, k, got[k], want[k], fmt.Sprint(s.Energy), s, u)
			}
		}
	}
}
