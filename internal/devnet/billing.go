package devnet

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/ppnet/ppnet/internal/billing"
	"github.com/ppnet/ppnet/internal/billing/bill"
	"github.com/ppnet/ppnet/internal/billing/customer"
	"github.com/ppnet/ppnet/internal/billing/tariff"
	"github.com/ppnet/ppnet/internal/billing/web"
	"github.com/ppnet/ppnet/internal/billingd"
	"github.com/ppnet/ppnet/internal/consumer"
	"github.com/ppnet/ppnet/internal/fddm/bulletin"
	"github.com/ppnet/ppnet/internal/netconfig"
)

// BillingOptions configures the devnet's billing month.
//
// The demo month is the run itself: rounds 0 … R−1, one window of the
// `utility` consumer's per-producer rule BillingRule, are billed as one
// calendar month (Period). With the default 96 rounds that is one day of
// 15-minute readings on the fast clock, priced as a whole month (the fixed
// charge is a month's); --rounds 2880 bills thirty days of readings.
type BillingOptions struct {
	Customers int    // billing customers: fictitious ones for the first N meters (0: no billing)
	Period    string // name of the demo month (default: the current month in India time if the tariff is valid then, else the tariff's last valid month)
	Dir       string // output: bills/, notifications/, bills.jsonl, data/ (default Out/billing or a new temporary directory)
	Serve     bool   // keep the network and the billing UI running until ctx ends
	// Tariff is the customers' schedule (default kerc-lt2a-fy2025-26). A
	// time-of-use schedule (example-tod-lt2a) adds one per-producer rule
	// per band with one window of the run, its rounds from the band's hours
	// at 96 rounds a day, and the customers are billed from those bands; R
	// must be whole days.
	Tariff string
}

// touRules returns the banded billing rules a time-of-use schedule needs,
// or none for a flat schedule.
func touRules(id string, rounds uint64) ([]netconfig.RuleSpec, error) {
	if id == "" {
		return nil, nil
	}
	s, err := tariff.Load(id)
	if err != nil {
		return nil, fmt.Errorf("devnet: --billing-tariff: %w", err)
	}
	if len(s.TimeOfUse) == 0 {
		return nil, nil
	}
	if rounds == 0 || rounds%96 != 0 {
		return nil, fmt.Errorf("devnet: time-of-use tariff %s needs whole days of 96 rounds; fix: --rounds 96 (or a multiple)", id)
	}
	var out []netconfig.RuleSpec
	for _, b := range s.TimeOfUse {
		rs, err := billingd.BandRounds(b.Hours, 96)
		if err != nil {
			return nil, fmt.Errorf("devnet: tariff %s band %s: %w", id, b.Name, err)
		}
		out = append(out, netconfig.RuleSpec{ID: "billing-" + b.Name, Consumer: "utility", Kind: netconfig.KindPerProducer,
			Window: rounds, Fraction: 1, Band: &netconfig.Band{Name: b.Name, Rounds: rs}})
	}
	return out, nil
}

// RunWithBilling is Run with the billing consumer daemon (package billingd)
// running beside the network on the `utility` consumer's results: once the
// last window is final it issues the demo month's bills, writes each PDF,
// the bills as JSON lines and every notification (demo file sink: SMS as
// JSON, e-mail as .eml, not sent) into b.Dir, checks every issued bill's
// energy against the meters' own readings and prints the UI address.
func RunWithBilling(ctx context.Context, o Options, b BillingOptions, w io.Writer) (*Report, error) {
	rounds := o.Rounds
	if rounds == 0 {
		rounds = 96
	}
	bands, err := touRules(b.Tariff, rounds)
	if err != nil {
		return nil, err
	}
	o.Extra = append(o.Extra, bands...)
	d, err := Start(ctx, o)
	if err != nil {
		return nil, err
	}
	defer d.Close()
	o = d.Opts
	if b.Dir == "" && o.Out != "" {
		b.Dir = filepath.Join(o.Out, "billing")
	}
	if b.Dir == "" {
		if b.Dir, err = os.MkdirTemp("", "ppnet-billing-"); err != nil {
			return nil, fmt.Errorf("devnet: %v", err)
		}
	}
	if b.Period == "" {
		var why string
		if b.Period, why, err = demoPeriod(b.Tariff, time.Now()); err != nil {
			return nil, err
		}
		if why != "" {
			fmt.Fprintln(w, why)
		}
	}
	held := heldCloser{ch: make(chan bulletin.PeriodClose, 1)}
	bd, err := d.startBilling(ctx, b, held)
	if err != nil {
		return nil, err
	}
	defer bd.Shutdown(context.Background())
	fmt.Fprintf(w, "devnet: NATS %s, %d PPNs (t=%d, w=%d), %d meters in %d producer(s), %d rounds of %v\n",
		d.URL, o.PPNs, o.T, o.W, o.Meters, len(d.Cfg.Producers), o.Rounds, o.Round)
	fmt.Fprintf(w, "billing: consumer utility bills %d fictitious customers (meters %s…) for demo month %s = rounds 0–%d of this run (%d fast-clock 15-minute rounds, %s of readings) priced as one whole month\n",
		b.Customers, d.Net.Meters[0], b.Period, o.Rounds-1, o.Rounds, readingSpan(o.Rounds))
	wctx, cancel := context.WithDeadline(ctx, d.Net.RoundStart(o.Rounds).Add(o.Grace+o.Settle+30*time.Second))
	defer cancel()
	if err := d.Wait(wctx); err != nil {
		return nil, err
	}
	select {
	case <-bd.Done():
	case <-wctx.Done():
		return nil, fmt.Errorf("devnet: billing month not finished: %+v", bd.Periods())
	}
	rep, err := d.Verify(ctx)
	if err != nil {
		return nil, err
	}
	rep.Print(w)
	if rep.Mismatches > 0 {
		return rep, fmt.Errorf("devnet: %d results differ from the plain sums", rep.Mismatches)
	}
	if err := d.reportBilling(bd, b, rep, w); err != nil {
		return rep, err
	}
	if d.fed != nil {
		if err := d.runMasking(ctx, bd, b, rep, held, w); err != nil {
			return rep, err
		}
	}
	if b.Serve {
		fmt.Fprintf(w, "serving the billing UI at http://%s/ until Ctrl-C\n", bd.HTTPAddr())
		<-ctx.Done()
	} else {
		fmt.Fprintf(w, "the UI stops when the devnet exits; add --serve to keep it up until Ctrl-C\n")
	}
	return rep, nil
}

// demoPeriod is the default demo month: the current month in India time
// when the customers' schedule is valid for it, else the last month of the
// schedule's validity — a bill for a month outside it would be held
// (tariff.Schedule.CheckPeriod), and the demo is meant to show priced bills.
// why says which was chosen when it is not the current month.
func demoPeriod(tariffID string, now time.Time) (period, why string, err error) {
	if tariffID == "" {
		tariffID = tariff.DefaultID
	}
	s, err := tariff.Load(tariffID)
	if err != nil {
		return "", "", fmt.Errorf("devnet: --billing-tariff: %w", err)
	}
	period = now.In(bill.India).Format("2006-01")
	if s.CheckPeriod(period) == nil {
		return period, "", nil
	}
	_, to, err := s.Validity()
	if err != nil {
		return "", "", err
	}
	last := to.Format("2006-01")
	if err := s.CheckPeriod(last); err != nil {
		return "", "", fmt.Errorf("devnet: tariff %s covers no whole month; fix: give --billing-period: %w", s.Ref(), err)
	}
	return last, fmt.Sprintf("billing: demo month %s, the last month tariff %s is valid for (%s to %s); this month, %s, is outside it and would be held (--billing-period picks another)",
		last, s.Ref(), s.ValidFrom, s.ValidTo, period), nil
}

func readingSpan(rounds uint64) string {
	if rounds%96 == 0 {
		return fmt.Sprintf("%d day(s)", rounds/96)
	}
	return (time.Duration(rounds) * 15 * time.Minute).String()
}

// startBilling runs the billing daemon on the utility consumer's results.
func (d *Net) startBilling(ctx context.Context, b BillingOptions, held heldCloser) (*billingd.Daemon, error) {
	var src *consumer.Consumer
	var peers []billingd.Peer
	for i, c := range d.Cfg.Consumers {
		switch {
		case i >= len(d.consumers):
		case c.ID == "utility":
			src = d.consumers[i]
		default:
			peers = append(peers, billingd.Peer{Name: c.ID, URL: "http://" + d.consumers[i].HTTPAddr()})
		}
	}
	if src == nil {
		return nil, errors.New("devnet: no utility consumer to bill from")
	}
	var closer billingd.PeriodCloser
	if d.fed != nil {
		closer = held
	}
	var hist web.HistorySource
	if d.fed != nil {
		hist = web.HistoryFunc(d.webHistory)
	}
	bd, err := billingd.New(billingd.Config{Source: src, PeriodCloser: closer, History: hist, Net: d.Net, Consumer: consumer.Config{ID: "utility"},
		DataDir: filepath.Join(b.Dir, "data"), SinkDir: filepath.Join(b.Dir, "notifications"), Synthetic: b.Customers,
		Periods: []billingd.Period{{Name: b.Period, FirstRound: 0, LastRound: d.Opts.Rounds - 1}},
		Poll:    200 * time.Millisecond, Logger: d.Opts.Logger, Utility: "ppnet devnet (demo utility)", Peers: peers, Tariff: b.Tariff})
	if err != nil {
		return nil, err
	}
	if err := bd.Start(ctx); err != nil {
		return nil, err
	}
	return bd, nil
}

// reportBilling writes the bills and their PDFs, prints a summary and
// checks each issued bill's measured energy against the plain sum of its
// meter's readings.
func (d *Net) reportBilling(bd *billingd.Daemon, b BillingOptions, rep *Report, w io.Writer) error {
	plain := map[string]int64{}
	plainBand := map[string]map[string]int64{} // meter → band → plain Wh
	for _, r := range rep.Rows {
		rule := d.rule(r.Rule)
		switch {
		case r.Rule == BillingRule:
			for m, v := range r.PlainValues {
				plain[m] += v
			}
		case rule.ConsumerID == "utility" && rule.Band != nil:
			for m, v := range r.PlainValues {
				if plainBand[m] == nil {
					plainBand[m] = map[string]int64{}
				}
				plainBand[m][rule.Band.Name] += v
			}
		}
	}
	svc := bd.Service()
	cs, err := svc.Customers().List()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Join(b.Dir, "bills"), 0o755); err != nil {
		return fmt.Errorf("devnet: %v", err)
	}
	jl, err := os.Create(filepath.Join(b.Dir, "bills.jsonl"))
	if err != nil {
		return fmt.Errorf("devnet: %v", err)
	}
	defer jl.Close()
	enc := json.NewEncoder(jl)
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "customer\tmeter\tstatus\tbilled kWh\tplain kWh\tcoverage\ttotal ₹\tcheck\t")
	bad, shown, totalPaise := 0, 0, int64(0)
	for _, c := range cs {
		bl, err := svc.Bills().Latest(c.ID, b.Period)
		if err != nil {
			return err
		}
		if err := enc.Encode(bl); err != nil {
			return fmt.Errorf("devnet: %v", err)
		}
		doc, err := svc.PDF(bl.ID())
		if err != nil {
			return err
		}
		name := strings.ReplaceAll(bl.ID(), "/", "_") + ".pdf"
		if err := os.WriteFile(filepath.Join(b.Dir, "bills", name), doc, 0o644); err != nil {
			return fmt.Errorf("devnet: %v", err)
		}
		ok, err := checkBill(svc, c, bl, plain[c.MeterID], plainBand[c.MeterID])
		if err != nil {
			return err
		}
		if !ok {
			bad++
		}
		totalPaise += bl.TotalPaise
		if shown < 10 || !ok {
			shown++
			cov := ""
			for _, s := range bl.Sources {
				cov = fmt.Sprintf("%d/%d", s.RoundsCovered, s.RoundsCovered+s.RoundsMissing)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", c.ID, c.MeterID, status(bl), tariff.Milli(bl.BilledWh),
				tariff.Milli(plain[c.MeterID]), cov, tariff.Rupees(bl.TotalPaise), yesNo(ok))
		}
	}
	tw.Flush()
	if len(cs) > shown {
		fmt.Fprintf(w, "… %d more in %s\n", len(cs)-shown, filepath.Join(b.Dir, "bills.jsonl"))
	}
	var ps []billingd.PeriodStatus = bd.Periods()
	if r := ps[0].Report; r != nil {
		fmt.Fprintf(w, "billing %s: %d issued, %d estimated, %d held, %d meters without a customer (only the first %d meters are billed); total ₹%s\n",
			b.Period, len(r.Issued), len(r.Estimated), len(r.Held), len(r.UnknownMeters), len(cs), tariff.Rupees(totalPaise))
	}
	fmt.Fprintf(w, "billing output: %s (bills/*.pdf, bills.jsonl, notifications/ = demo sink, NOT sent; data/ = billing state)\n", b.Dir)
	fmt.Fprintf(w, "billing UI: http://%s/ (its Network page: PPN status, the other consumers' health and aggregates)\n", bd.HTTPAddr())
	if bad > 0 {
		return fmt.Errorf("devnet: %d bills differ from their meters' own readings", bad)
	}
	return nil
}

// checkBill compares an issued bill with the meter's plain readings: its
// measured energy always, and for a fully measured time-of-use bill its
// total with the schedule applied to the plain band sums.
func checkBill(svc *billing.Service, c customer.Masked, bl bill.Bill, plain int64, bands map[string]int64) (bool, error) {
	if bl.Status == bill.StatusHeld {
		return true, nil
	}
	if bl.MeasuredWh != plain {
		return false, nil
	}
	s, err := svc.Schedule(c.Tariff)
	if err != nil || len(s.TimeOfUse) == 0 || bl.Estimated {
		return true, err
	}
	want, err := s.Compute(tariff.Usage{Wh: plain, BandWh: bands, SanctionedLoadW: c.SanctionedLoadW})
	if err != nil {
		return false, fmt.Errorf("devnet: pricing meter %s's plain band sums: %w", c.MeterID, err)
	}
	return bl.TotalPaise == want.TotalPaise, nil
}

func status(b bill.Bill) string {
	if b.Estimated {
		return "estimated"
	}
	return b.Status
}

func yesNo(ok bool) string {
	if ok {
		return "yes"
	}
	return "NO"
}
