package devnet

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/ppnet/ppnet/internal/consumer"
	"github.com/ppnet/ppnet/internal/netconfig"
	"github.com/ppnet/ppnet/internal/producer"
)

// arrivals records when each final result line reached its consumer's
// output, for latency.
type arrivals struct {
	mu sync.Mutex
	at map[string]time.Time // consumer/rule/window → arrival
}

func newArrivals() *arrivals { return &arrivals{at: map[string]time.Time{}} }

type arrivalWriter struct {
	a        *arrivals
	consumer string
}

func (a *arrivals) writer(consumer string) io.Writer { return &arrivalWriter{a, consumer} }

func (w *arrivalWriter) Write(b []byte) (int, error) {
	now := time.Now()
	var r consumer.Result
	if err := json.Unmarshal(b, &r); err != nil {
		return 0, fmt.Errorf("devnet: result line: %v", err)
	}
	w.a.mu.Lock()
	w.a.at[fmt.Sprintf("%s/%s/%d", w.consumer, r.Rule, r.WindowStart)] = now
	w.a.mu.Unlock()
	return len(b), nil
}

func (d *Net) openOut() error {
	if err := os.MkdirAll(d.Opts.Out, 0o755); err != nil {
		return fmt.Errorf("devnet: %v", err)
	}
	f, err := os.Create(filepath.Join(d.Opts.Out, "readings.csv"))
	if err != nil {
		return fmt.Errorf("devnet: %v", err)
	}
	if _, err := io.WriteString(f, "meter,round,wh\n"); err != nil {
		f.Close()
		return fmt.Errorf("devnet: %v", err)
	}
	d.readings = &lockedWriter{w: f}
	return nil
}

// Row is one result beside the plain sum of the readings it covers.
type Row struct {
	consumer.Result
	Plain       int64            // sum rules: Σ of the covered readings
	PlainValues map[string]int64 // per-producer rules: meter → Σ of its covered readings
	Slots       uint32           // (meter, round) pairs of the window
	OK          bool             // recovered value(s) equal the plain sum(s)
	Latency     time.Duration    // final result time − end of the window's last round
}

// Report is the outcome of a run.
type Report struct {
	Rows       []Row
	Mismatches int
	Meters     int
	Rounds     uint64
	Readings   int           // readings stored by the meters
	Elapsed    time.Duration // from the start of round 0 to the last final result
	FDDM       *MaskReport   // FedAvg rounds and masking, with Options.FDDM and billing
}

// Verify stops the producers (they are done), reads the meters' own
// history, and compares every stored result with the plain sums.
func (d *Net) Verify(ctx context.Context) (*Report, error) {
	for _, p := range d.producers {
		if err := p.Shutdown(ctx); err != nil {
			return nil, err
		}
	}
	d.producers = nil
	readings := map[[2]uint64]int64{}
	for _, p := range d.Cfg.Producers {
		h, err := producer.OpenHistory(filepath.Join(d.dir, "producer-"+p.ID, "producer-"+p.ID+".db"))
		if err != nil {
			return nil, err
		}
		for e, err := range h.All() {
			if err != nil {
				h.Close()
				return nil, err
			}
			readings[[2]uint64{uint64(e.Meter), e.Round}] = e.Wh
		}
		h.Close()
	}
	rep := &Report{Meters: len(d.Net.Meters), Rounds: d.Opts.Rounds, Readings: len(readings)}
	var last time.Time
	for _, c := range d.consumers {
		res, err := c.Results()
		if err != nil {
			return nil, err
		}
		for _, r := range res {
			row := d.check(r, readings)
			if !row.OK {
				rep.Mismatches++
			}
			d.arrivals.mu.Lock()
			at, ok := d.arrivals.at[fmt.Sprintf("%s/%s/%d", r.Consumer, r.Rule, r.WindowStart)]
			d.arrivals.mu.Unlock()
			if ok {
				row.Latency = at.Sub(d.Net.RoundStart(r.WindowStart + r.WindowRounds))
				if at.After(last) {
					last = at
				}
			}
			rep.Rows = append(rep.Rows, row)
		}
	}
	rep.Elapsed = last.Sub(d.Net.RoundStart(0))
	sort.SliceStable(rep.Rows, func(i, j int) bool {
		a, b := rep.Rows[i], rep.Rows[j]
		if a.Consumer != b.Consumer {
			return a.Consumer < b.Consumer
		}
		return a.WindowStart < b.WindowStart
	})
	if d.Opts.Out != "" {
		if err := d.writeOut(rep); err != nil {
			return nil, err
		}
	}
	return rep, nil
}

// check recomputes a result from the readings it claims to cover.
func (d *Net) check(r consumer.Result, readings map[[2]uint64]int64) Row {
	rule := d.rule(r.Rule)
	row := Row{Result: r, Slots: rule.Slots}
	missing := map[[2]uint64]bool{}
	for _, m := range r.Missing {
		id, _ := m[0].(string)
		round, _ := m[1].(float64) // decoded from JSON
		if v, ok := m[1].(uint64); ok {
			round = float64(v)
		}
		missing[[2]uint64{uint64(d.meterIndex(id)), uint64(round)}] = true
	}
	row.PlainValues = map[string]int64{}
	covered := uint64(0)
	for j := uint64(0); j < rule.K; j++ {
		if !rule.InBand(r.WindowStart + j) {
			continue // a banded rule covers only its in-band rounds
		}
		for _, m := range rule.Meters {
			k := [2]uint64{uint64(m), r.WindowStart + j}
			if missing[k] {
				continue
			}
			v, ok := readings[k]
			if !ok {
				return row // covered by the result but never read by the meter: wrong
			}
			covered++
			row.Plain += v
			row.PlainValues[d.Net.Meters[m]] += v
		}
	}
	if r.Error != "" || covered != r.Covered {
		return row
	}
	if rule.Kind == netconfig.KindSum {
		row.OK = r.Value != nil && *r.Value == row.Plain
		return row
	}
	row.OK = len(r.Values) == len(rule.Meters)
	for id, v := range row.PlainValues {
		row.OK = row.OK && r.Values[id] == v
	}
	for _, m := range rule.Meters {
		row.OK = row.OK && (row.PlainValues[d.Net.Meters[m]] == r.Values[d.Net.Meters[m]])
	}
	return row
}

func (d *Net) rule(id string) *netconfig.ResolvedRule {
	for i := range d.Net.Rules {
		if d.Net.Rules[i].ID == id {
			return &d.Net.Rules[i]
		}
	}
	return nil
}

func (d *Net) meterIndex(id string) int {
	i, err := d.Net.MeterIndex(id)
	if err != nil {
		return -1 // not a meter: the pair matches nothing and the check fails
	}
	return i
}

// Print writes the results table and the run figures.
func (rep *Report) Print(w io.Writer) {
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "consumer\trule\twindow\trounds\tresult\tplain sum\tcovered\tmissing\tchecked\tfaulty\tok\t")
	var lat []time.Duration
	fed, fedOK, fedCovered := 0, 0, uint64(0)
	for _, r := range rep.Rows {
		if r.Consumer == FedAvgConsumer {
			// One line for the 9 component rules (a window per round each).
			fed++
			if r.OK {
				fedOK++
			}
			fedCovered += r.Covered
			continue
		}
		res, plain := "", ""
		if r.Value != nil {
			res, plain = fmt.Sprint(*r.Value), fmt.Sprint(r.Plain)
		} else {
			var tot int64
			for _, v := range r.Values {
				tot += v
			}
			res, plain = fmt.Sprintf("%d meters, Σ %d", len(r.Values), tot), fmt.Sprintf("Σ %d", r.Plain)
		}
		if r.Error != "" {
			res = "error: " + r.Error
		}
		ok := "yes"
		if !r.OK {
			ok = "NO"
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%s\t%s\t%d/%d\t%d\t%v\t%s\t%s\t\n", r.Consumer, r.Rule, r.WindowStart, r.WindowRounds,
			res, plain, r.Covered, r.Slots, len(r.Missing), r.Checked, strings.Join(r.Faulty, ","), ok)
		if r.WindowRounds == 1 && r.Latency > 0 {
			lat = append(lat, r.Latency)
		}
	}
	tw.Flush()
	if fed > 0 {
		fmt.Fprintf(w, "%s: %d FedAvg component results (9 sum rules, one window per round; updates only in the rounds carrying FedAvg rounds), %d equal to the plain sums, %d (participant, round) updates covered\n",
			FedAvgConsumer, fed, fedOK, fedCovered)
	}
	fmt.Fprintf(w, "\n%d results, %d mismatches; %d meters × %d rounds = %d readings stored by the meters\n",
		len(rep.Rows), rep.Mismatches, rep.Meters, rep.Rounds, rep.Readings)
	if len(lat) > 0 {
		slices.Sort(lat)
		fmt.Fprintf(w, "latency per round (end of round → final 15-min result, includes the seal grace): min %v  median %v  p95 %v  max %v\n",
			lat[0].Round(time.Millisecond), lat[len(lat)/2].Round(time.Millisecond), lat[len(lat)*95/100].Round(time.Millisecond), lat[len(lat)-1].Round(time.Millisecond))
	}
	if rep.Elapsed > 0 {
		fmt.Fprintf(w, "throughput: %d readings in %v (round 0 start → last result) = %.0f readings/s on the fast clock\n",
			rep.Readings, rep.Elapsed.Round(time.Millisecond), float64(rep.Readings)/rep.Elapsed.Seconds())
	}
}

// writeOut writes rules.json and results.jsonl (readings.csv is written
// by the meters as they read).
func (d *Net) writeOut(rep *Report) error {
	type ruleOut struct {
		Consumer     string   `json:"consumer"`
		Rule         string   `json:"rule"`
		Kind         string   `json:"kind"`
		WindowRounds uint64   `json:"window_rounds"`
		Producers    []string `json:"producers"`
	}
	var rs []ruleOut
	for _, r := range d.Net.Rules {
		ro := ruleOut{Consumer: r.ConsumerID, Rule: r.ID, Kind: r.Kind, WindowRounds: r.K}
		for _, m := range r.Meters {
			ro.Producers = append(ro.Producers, d.Net.Meters[m])
		}
		rs = append(rs, ro)
	}
	b, err := json.MarshalIndent(rs, "", "  ")
	if err != nil {
		return fmt.Errorf("devnet: %v", err)
	}
	if err := os.WriteFile(filepath.Join(d.Opts.Out, "rules.json"), append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("devnet: %v", err)
	}
	f, err := os.Create(filepath.Join(d.Opts.Out, "results.jsonl"))
	if err != nil {
		return fmt.Errorf("devnet: %v", err)
	}
	bw := bufio.NewWriter(f)
	enc := json.NewEncoder(bw)
	for _, r := range rep.Rows {
		if err := enc.Encode(r.Result); err != nil {
			f.Close()
			return fmt.Errorf("devnet: %v", err)
		}
	}
	if err := bw.Flush(); err != nil {
		f.Close()
		return fmt.Errorf("devnet: %v", err)
	}
	return f.Close()
}

// Run starts a devnet, waits for every result, verifies and prints them.
// It returns an error if any result differs from its plain sum.
func Run(ctx context.Context, o Options, w io.Writer) (*Report, error) {
	d, err := Start(ctx, o)
	if err != nil {
		return nil, err
	}
	defer d.Close()
	o = d.Opts
	auth := "anonymous"
	if d.auth != nil {
		auth = "NKey user per role"
	}
	fmt.Fprintf(w, "devnet: NATS %s (%s), %d PPNs (t=%d, w=%d), %d meters in %d producer(s), %d rounds of %v\n",
		d.URL, auth, o.PPNs, o.T, o.W, o.Meters, len(d.Cfg.Producers), o.Rounds, o.Round)
	wctx, cancel := context.WithDeadline(ctx, d.Net.RoundStart(o.Rounds).Add(o.Grace+o.Settle+30*time.Second))
	defer cancel()
	if err := d.Wait(wctx); err != nil {
		return nil, err
	}
	rep, err := d.Verify(ctx)
	if err != nil {
		return nil, err
	}
	rep.Print(w)
	if rep.Mismatches > 0 {
		return rep, fmt.Errorf("devnet: %d results differ from the plain sums", rep.Mismatches)
	}
	return rep, nil
}
