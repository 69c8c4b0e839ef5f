package optimize

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"testing"
)

// reading is one way to resolve the choices the description of the
// paper's Fig. 3 leaves open (its pseudo-code was not available to us, see
// docs/minppn.md). Greedy implements {instance, most, largest, most, stop}.
type reading struct {
	spreadOrder string // consumers in the spread: "instance" or "decreasing"
	spreadTo    string // each copy to the PPN with the "most" or "least" residual, or "next" (round robin)
	moveOrder   string // a victim's consumers: "largest" first, "instance" order, or "smallest" first
	moveTo      string // each moved consumer to the PPN with the "most" or "least" residual, or the "lowest" index
	onFail      string // at a PPN that cannot be emptied: "stop", or "skip" it and try the next least loaded
}

func (r reading) String() string {
	return strings.Join([]string{r.spreadOrder, r.spreadTo, r.moveOrder, r.moveTo, r.onFail}, " ")
}

// pick returns the usable PPN other than skip, not serving c, that fits c,
// chosen by rule, or −1.
func (st *state) pick(c, skip int, rule string) int {
	best := -1
	for n := range st.load {
		if n == skip || (st.on != nil && !st.on[n]) || st.residual(n) < st.sizes[c] || slices.Contains(st.serves[n], c) {
			continue
		}
		switch {
		case best < 0,
			rule == "most" && st.residual(n) > st.residual(best),
			rule == "least" && st.residual(n) < st.residual(best):
			best = n
		}
	}
	return best
}

// run returns the number of active PPNs, or −1 where the spread fails.
func (r reading) run(in *Instance) int {
	sizes := in.Sizes()
	st := newState(in, sizes, in.Candidates())
	order := make([]int, len(sizes))
	for i := range order {
		order[i] = i
	}
	if r.spreadOrder == "decreasing" {
		slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(sizes[b], sizes[a]) })
	}
	next := 0
	for _, c := range order {
		for range in.W {
			n := -1
			if r.spreadTo == "next" {
				for k := range in.Candidates() {
					m := (next + k) % in.Candidates()
					if st.residual(m) >= sizes[c] && !slices.Contains(st.serves[m], c) {
						n, next = m, m+1
						break
					}
				}
			} else {
				n = st.pick(c, -1, r.spreadTo)
			}
			if n < 0 {
				return -1
			}
			st.place(c, n)
		}
	}
	st.on = make([]bool, len(st.load))
	for n, l := range st.load {
		st.on[n] = l > 0
	}
	tried := make([]bool, len(st.load))
	for {
		v := -1
		for n := range st.load {
			if st.on[n] && !tried[n] && (v < 0 || st.load[n] <= st.load[v]) {
				v = n
			}
		}
		if v < 0 {
			break
		}
		if r.empty(st, v) {
			st.on[v] = false
			continue
		}
		if r.onFail == "stop" {
			break
		}
		tried[v] = true
	}
	k := 0
	for _, on := range st.on {
		k += btoi(on)
	}
	return k
}

// empty is state.empty with the reading's move order and destination.
func (r reading) empty(st *state, v int) bool {
	cs := slices.Clone(st.serves[v])
	switch r.moveOrder {
	case "largest":
		slices.SortStableFunc(cs, func(a, b int) int { return cmp.Compare(st.sizes[b], st.sizes[a]) })
	case "smallest":
		slices.SortStableFunc(cs, func(a, b int) int { return cmp.Compare(st.sizes[a], st.sizes[b]) })
	}
	var done [][2]int
	for _, c := range cs {
		to := st.pick(c, v, r.moveTo)
		if to < 0 {
			for _, m := range slices.Backward(done) {
				st.remove(m[0], m[1])
				st.place(m[0], v)
			}
			return false
		}
		st.remove(c, v)
		st.place(c, to)
		done = append(done, [2]int{c, to})
	}
	return true
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// TestGreedyReadings runs every combination of the readings' choices on
// the tables' instances (seeds 1..10, candidates w·|C|) and logs, per
// reading, the mean active PPNs on the paper family at |C| = 50 and the
// mean gap to LowerBound on the hard family; docs/minppn.md quotes it
// (go test -run TestGreedyReadings -v ./optimize). It checks that the
// reading Greedy implements gives Greedy's count on every instance.
func TestGreedyReadings(t *testing.T) {
	type cell struct {
		fam  Family
		P, C int
		ins  []*Instance
		lb   []int
	}
	var cells []*cell
	for _, fam := range []Family{FamilyPaper, FamilyHard} {
		for _, P := range []int{100, 1000, 10000} {
			for _, C := range []int{10, 50} {
				c := &cell{fam: fam, P: P, C: C}
				for s := uint64(1); s <= 10; s++ {
					in, err := Generate(GenOptions{Family: fam, Producers: P, Consumers: C, Seed: s})
					if err != nil {
						t.Fatal(err)
					}
					c.ins, c.lb = append(c.ins, in), append(c.lb, LowerBound(in))
				}
				cells = append(cells, c)
			}
		}
	}
	ours := reading{"instance", "most", "largest", "most", "stop"}
	for _, c := range cells {
		for _, in := range c.ins {
			g, err := Greedy(in)
			if err != nil {
				t.Fatal(err)
			}
			if k := ours.run(in); k != g.NumActive() {
				t.Fatalf("%s |P|=%d |C|=%d: reading %q gives %d PPNs, Greedy %d", c.fam, c.P, c.C, ours, k, g.NumActive())
			}
		}
	}
	var rs []reading
	for _, so := range []string{"instance", "decreasing"} {
		for _, st := range []string{"most", "least", "next"} {
			for _, mo := range []string{"largest", "instance", "smallest"} {
				for _, mt := range []string{"most", "least", "lowest"} {
					for _, of := range []string{"stop", "skip"} {
						rs = append(rs, reading{so, st, mo, mt, of})
					}
				}
			}
		}
	}
	t.Log("| spread order | spread to | move order | move to | on failure | paper |C|=50, |P| = 100 / 1000 / 10000 | hard gap |C|=10 | hard gap |C|=50 |")
	for _, r := range rs {
		var paper []string
		var hard [2]float64
		var hardN [2]int
		for _, c := range cells {
			sum, n := 0.0, 0
			for i, in := range c.ins {
				k := r.run(in)
				if k < 0 {
					continue
				}
				n++
				if c.fam == FamilyPaper {
					sum += float64(k)
				} else {
					sum += float64(k)/float64(c.lb[i]) - 1
				}
			}
			switch {
			case c.fam == FamilyPaper && c.C == 50:
				paper = append(paper, fmt.Sprintf("%.1f", sum/float64(max(n, 1))))
			case c.fam == FamilyHard:
				j := btoi(c.C == 50)
				hard[j] += sum
				hardN[j] += n
			}
		}
		t.Logf("| %s | %s | %s | %s | %s | %s | %.0f%% | %.0f%% |", r.spreadOrder, r.spreadTo, r.moveOrder, r.moveTo, r.onFail,
			strings.Join(paper, " / "), 100*hard[0]/float64(max(hardN[0], 1)), 100*hard[1]/float64(max(hardN[1], 1)))
	}
}
