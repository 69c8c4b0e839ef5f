package optimize

import (
	"math/big"
	"slices"
)

// maxDFF is the largest k of the Fekete–Schepers functions u^(k) tried.
const maxDFF = 40

// maxThresholds caps the number of thresholds ε tried, so the bound stays
// O(|C|) for large instances.
const maxThresholds = 200

// LowerBound returns a lower bound on the number of active PPNs: the largest
// of w (a consumer needs w distinct PPNs), the volume bound ⌈w·ΣM_c/L⌉, the
// Martello–Toth bound L2, and the Fekete–Schepers dual feasible functions
// u^(k)∘U^(ε) over the items (w copies of size M_c each). With per-PPN
// capacities it is the fewest candidates whose capacities add up to the
// volume.
func LowerBound(in *Instance) int {
	sizes := in.Sizes()
	b := in.W
	var vol int64
	for _, m := range sizes {
		vol += m * int64(in.W)
	}
	if in.Capacities != nil && !in.Uniform() {
		caps := slices.Clone(in.Capacities)
		slices.Sort(caps)
		slices.Reverse(caps)
		var sum int64
		k := 0
		for sum < vol && k < len(caps) {
			sum += caps[k]
			k++
		}
		return max(b, k)
	}
	L := in.Capacity(0)
	b = max(b, int(ceilDiv(vol, L)))
	b = max(b, martelloTothL2(sizes, in.W, L))
	b = max(b, dffBound(sizes, in.W, L))
	b = max(b, blockerBound(sizes, in.W, L))
	return b
}

// maxBlockerQ is the largest number of big copies per PPN blockerBound
// considers.
const maxBlockerQ = 8

// blockerBound is a conflict-aware bound. Call a copy big when its size
// exceeds L/(q+1): a PPN holds at most q of them. Two big copies in one PPN
// belong to distinct consumers, so q of them weigh at least the sum of the
// q smallest big consumers; a consumer too large to join that sum (a
// blocker) can only sit in PPNs with at most q−1 big copies, and its w
// copies occupy w distinct PPNs. With nb big copies and k PPNs,
// nb ≤ q·(k − w) + (q−1)·w, so k ≥ ⌈(nb + w)/q⌉.
func blockerBound(sizes []int64, w int, L int64) int {
	sorted := slices.Clone(sizes)
	slices.Sort(sorted)
	best := 0
	for q := int64(1); q <= maxBlockerQ; q++ {
		var big []int64 // ascending
		for _, s := range sorted {
			if s*(q+1) > L {
				big = append(big, s)
			}
		}
		if int64(len(big)) < q {
			continue
		}
		var minQ int64
		for _, s := range big[:q] {
			minQ += s
		}
		blocked := false
		for _, s := range sorted {
			if s*(q+1) <= L && s+minQ > L {
				blocked = true
				break
			}
		}
		if blocked {
			nb := int64(len(big)) * int64(w)
			best = max(best, int((nb+int64(w)+q-1)/q))
		}
	}
	return best
}

func ceilDiv(a, b int64) int64 { return (a + b - 1) / b }

// thresholds returns the candidate ε values: 0 and the distinct sizes up
// to L/2, thinned to at most maxThresholds.
func thresholds(sizes []int64, L int64) []int64 {
	ks := []int64{0}
	for _, s := range sizes {
		if s <= L/2 {
			ks = append(ks, s)
		}
	}
	slices.Sort(ks)
	ks = slices.Compact(ks)
	if len(ks) > maxThresholds {
		thin := make([]int64, 0, maxThresholds)
		for i := range maxThresholds {
			thin = append(thin, ks[i*len(ks)/maxThresholds])
		}
		ks = thin
	}
	return ks
}

// martelloTothL2 is L2 of Martello and Toth (1990) over w copies of every
// size: for a threshold K ≤ L/2, items above L−K each need their own bin,
// items in (L/2, L−K] too, and the items in [K, L/2] fill what the latter
// leave free.
func martelloTothL2(sizes []int64, w int, L int64) int {
	best := 0
	for _, K := range thresholds(sizes, L) {
		var n1, n2, s2, s3 int64
		for _, s := range sizes {
			switch {
			case s > L-K:
				n1 += int64(w)
			case 2*s > L:
				n2 += int64(w)
				s2 += s * int64(w)
			case s >= K:
				s3 += s * int64(w)
			}
		}
		b := n1 + n2
		if free := n2*L - s2; s3 > free {
			b += ceilDiv(s3-free, L)
		}
		best = max(best, int(b))
	}
	return best
}

// dffBound applies u^(k)∘U^(ε) of Fekete and Schepers (2001): U^(ε) rounds
// items above L−ε up to L and drops items below ε; u^(k) maps x (as a
// fraction of L) to x when (k+1)x is an integer and to ⌊(k+1)x⌋/k
// otherwise. Both are dual feasible, so ⌈Σ f(s_i)⌉ bounds the bins. The sum
// is kept exact as S1/L + S2/k.
func dffBound(sizes []int64, w int, L int64) int {
	best := 0
	for _, eps := range thresholds(sizes, L) {
		for k := int64(1); k <= maxDFF; k++ {
			var s1, s2 int64 // Σ of sizes kept as is; Σ of ⌊(k+1)x⌋
			for _, s := range sizes {
				switch {
				case s > L-eps:
					s = L
				case s < eps:
					continue
				}
				if ((k+1)*s)%L == 0 {
					s1 += s * int64(w)
				} else {
					s2 += ((k + 1) * s / L) * int64(w)
				}
			}
			// ⌈s1/L + s2/k⌉ = ⌈(s1·k + s2·L)/(L·k)⌉, in big integers since
			// s1·k can pass 2^63 for large instances.
			num := new(big.Int).Mul(big.NewInt(s1), big.NewInt(k))
			num.Add(num, new(big.Int).Mul(big.NewInt(s2), big.NewInt(L)))
			den := big.NewInt(L * k)
			num.Add(num, den).Sub(num, big.NewInt(1))
			b := num.Div(num, den).Int64()
			best = max(best, int(b))
		}
	}
	return best
}
