package configurator

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/ppnet/ppnet/optimize"
)

// planOutput is the JSON form of a plan.
type planOutput struct {
	Solver     string           `json:"solver"`
	Status     string           `json:"status"`
	ActivePPNs int              `json:"active_ppns"`
	LowerBound int              `json:"lower_bound"`
	Optimal    bool             `json:"optimal"`
	Gap        float64          `json:"gap"`
	Seconds    float64          `json:"seconds"`
	Active     []int            `json:"active"`
	Consumers  map[string][]int `json:"consumers"`
	Loads      map[string]int64 `json:"loads"`
	Shares     int64            `json:"shares,omitempty"`
	Producers  map[string][]int `json:"producers,omitempty"`
	Instance   instanceSummary  `json:"instance"`
	CBC        *cbcSummary      `json:"cbc,omitempty"`

	order []string // consumer ids in instance order, for the table
	caps  map[string]int64
}

type instanceSummary struct {
	Producers  int    `json:"producers"`
	Consumers  int    `json:"consumers"`
	W          int    `json:"w"`
	L          int64  `json:"L,omitempty"`
	Candidates int    `json:"candidates"`
	Family     string `json:"family,omitempty"`
	Seed       uint64 `json:"seed,omitempty"`
}

type cbcSummary struct {
	Status    string   `json:"status"`
	Objective *float64 `json:"objective"`
	Bound     *float64 `json:"bound"`
}

func finite(v float64) *float64 {
	if v != v {
		return nil
	}
	return &v
}

// maxListedProducers caps the per-producer sets written as JSON.
const maxListedProducers = 100000

func newPlanOutput(in *optimize.Instance, r *optimize.Result, rep *optimize.CBCReport, ps *optimize.ProducerSets, f planFlags) *planOutput {
	o := &planOutput{
		Solver: r.Solver, Status: r.Status, ActivePPNs: r.NumActive(), LowerBound: r.LowerBound,
		Optimal: r.Optimal, Gap: r.Gap(), Seconds: r.Seconds, Active: r.Active,
		Consumers: map[string][]int{}, Loads: map[string]int64{}, caps: map[string]int64{},
		Instance: instanceSummary{Producers: in.Producers, Consumers: len(in.Consumers), W: in.W, Candidates: in.Candidates()},
	}
	if o.Active == nil {
		o.Active = []int{}
	}
	if in.Capacities == nil {
		o.Instance.L = in.L
	}
	if f.generate != "" {
		o.Instance.Family, o.Instance.Seed = f.generate, f.seed
	}
	for c, cons := range in.Consumers {
		o.order = append(o.order, cons.ID)
		if r.Consumers != nil {
			o.Consumers[cons.ID] = r.Consumers[c]
		}
	}
	for _, n := range r.Active {
		o.Loads[strconv.Itoa(n)] = r.Load[n]
		o.caps[strconv.Itoa(n)] = in.Capacity(n)
	}
	if rep != nil {
		o.CBC = &cbcSummary{Status: rep.Status, Objective: finite(rep.Objective), Bound: finite(rep.Bound)}
	}
	if ps != nil {
		o.Shares = ps.Shares()
		if in.Producers <= maxListedProducers {
			o.Producers = map[string][]int{}
			for p := range in.Producers {
				if s := ps.PPNs(p); len(s) > 0 {
					o.Producers[strconv.Itoa(p)] = s
				}
			}
		}
	}
	return o
}

func (o *planOutput) writeJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(o)
}

func (o *planOutput) writeTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	verdict := "not proven optimal"
	if o.Optimal {
		verdict = "optimal"
	}
	fmt.Fprintf(tw, "solver\t%s (%s)\n", o.Solver, o.Status)
	fmt.Fprintf(tw, "active PPNs\t%d\t(lower bound %d, gap %.1f%%, %s)\n", o.ActivePPNs, o.LowerBound, 100*o.Gap, verdict)
	fmt.Fprintf(tw, "instance\t%d producers, %d consumers, w = %d, %d candidates\n", o.Instance.Producers, o.Instance.Consumers, o.Instance.W, o.Instance.Candidates)
	if o.CBC != nil {
		fmt.Fprintf(tw, "cbc\t%s, objective %s, bound %s\n", o.CBC.Status, fmtPtr(o.CBC.Objective), fmtPtr(o.CBC.Bound))
	}
	if o.Shares > 0 {
		fmt.Fprintf(tw, "shares/round\t%d\t(producer→PPN messages, Σ x_pn)\n", o.Shares)
	}
	fmt.Fprintf(tw, "seconds\t%.3f\n\nPPN\tload\tcapacity\n", o.Seconds)
	for _, n := range o.Active {
		k := strconv.Itoa(n)
		fmt.Fprintf(tw, "%d\t%d\t%d\n", n, o.Loads[k], o.caps[k])
	}
	fmt.Fprintf(tw, "\nconsumer\tPPNs\n")
	for _, id := range o.order {
		if ns, ok := o.Consumers[id]; ok {
			fmt.Fprintf(tw, "%s\t%s\n", id, strings.Trim(fmt.Sprint(ns), "[]"))
		}
	}
	return tw.Flush()
}

func fmtPtr(v *float64) string {
	if v == nil {
		return "none"
	}
	return strconv.FormatFloat(*v, 'g', -1, 64)
}
