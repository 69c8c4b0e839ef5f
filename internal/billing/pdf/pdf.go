// Package pdf renders a customer bill as a PDF (github.com/johnfercher/
// maroto/v2): masked customer data only, usage with its coverage and
// sources, every charge line, tax and total, a monthly usage chart, and the
// payment link as text and QR code. Held bills render with their reason
// and no amount.
package pdf

import (
	"fmt"
	"strings"
	"time"

	"github.com/johnfercher/maroto/v2"
	"github.com/johnfercher/maroto/v2/pkg/components/code"
	"github.com/johnfercher/maroto/v2/pkg/components/col"
	"github.com/johnfercher/maroto/v2/pkg/components/image"
	"github.com/johnfercher/maroto/v2/pkg/components/line"
	"github.com/johnfercher/maroto/v2/pkg/components/row"
	"github.com/johnfercher/maroto/v2/pkg/components/text"
	"github.com/johnfercher/maroto/v2/pkg/config"
	"github.com/johnfercher/maroto/v2/pkg/consts/align"
	"github.com/johnfercher/maroto/v2/pkg/consts/extension"
	"github.com/johnfercher/maroto/v2/pkg/consts/fontstyle"
	"github.com/johnfercher/maroto/v2/pkg/core"
	"github.com/johnfercher/maroto/v2/pkg/props"

	"github.com/ppnet/ppnet/internal/billing/bill"
	"github.com/ppnet/ppnet/internal/billing/tariff"
)

// Options are the parts of a bill document that are not in the bill.
type Options struct {
	Utility string  // issuer name printed in the header
	PayURL  string  // payment link; empty for held or paid bills
	History []Point // earlier months for the chart, oldest first; the bill's month is appended
}

// urlChunk is how many characters of the payment link go on one line: the
// core PDF fonts cannot break a URL, so it is split explicitly.
const urlChunk = 64

var (
	small  = props.Text{Size: 8}
	bold   = props.Text{Size: 9, Style: fontstyle.Bold}
	right  = props.Text{Size: 8, Align: align.Right}
	shaded = &props.Cell{BackgroundColor: &props.Color{Red: 235, Green: 240, Blue: 245}}
)

// Render returns the PDF bytes of one bill.
func Render(b bill.Bill, o Options) ([]byte, error) {
	cfg := config.NewBuilder().WithLeftMargin(12).WithRightMargin(12).WithTopMargin(12).
		WithTitle("Electricity bill "+b.ID(), true).WithCreator("ppnet billing", false).
		WithCreationDate(b.IssuedAt).Build()
	m := maroto.New(cfg)
	utility := o.Utility
	if utility == "" {
		utility = "Electricity supply company"
	}
	m.AddRows(
		text.NewRow(9, utility+" - Electricity bill", props.Text{Size: 14, Style: fontstyle.Bold}),
		row.New(5).Add(text.NewCol(6, "Bill "+b.ID(), small), text.NewCol(6, "Issued "+b.IssuedAt.In(bill.India).Format(time.DateOnly), right)),
		line.NewRow(3),
	)
	m.AddRows(customerRows(b)...)
	m.AddRows(line.NewRow(3))
	if b.Status == bill.StatusHeld {
		m.AddRows(
			text.NewRow(8, "BILL HELD - no amount is due for this period yet", props.Text{Size: 11, Style: fontstyle.Bold}),
			text.NewAutoRow("Reason: "+b.HoldReason, small),
			text.NewAutoRow("Meter data for this period is incomplete. A revised bill will follow; nothing has been billed as zero.", small),
		)
	} else {
		m.AddRows(usageRows(b)...)
		m.AddRows(line.NewRow(3))
		m.AddRows(chargeRows(b)...)
	}
	m.AddRows(line.NewRow(3))
	chart, err := chartPNG(append(append([]Point{}, o.History...), Point{Period: b.Period, Wh: b.BilledWh, Estimated: b.Estimated}), 900, 260)
	if err != nil {
		return nil, err
	}
	m.AddRows(text.NewRow(6, "Monthly consumption (kWh)", bold), image.NewFromBytesRow(45, chart, extension.Png))
	m.AddRows(sourceRows(b)...)
	if o.PayURL != "" && b.Status == bill.StatusIssued {
		m.AddRows(line.NewRow(3), text.NewRow(6, "Pay online: scan the code or open the link", bold))
		var link []core.Row
		for s := o.PayURL; s != ""; {
			n := min(urlChunk, len(s))
			link = append(link, text.NewRow(4, s[:n], props.Text{Size: 7, Family: "courier"}))
			s = s[n:]
		}
		m.AddRow(40, col.New(4).Add(code.NewQr(o.PayURL, props.Rect{Center: true, Percent: 95})), col.New(8))
		m.AddRows(link...)
	}
	doc, err := m.Generate()
	if err != nil {
		return nil, fmt.Errorf("pdf: bill %s: %w", b.ID(), err)
	}
	return doc.GetBytes(), nil
}

func kv(k, v string) core.Row {
	return row.New(4.5).Add(text.NewCol(3, k, small), text.NewCol(9, v, bold))
}

func customerRows(b bill.Bill) []core.Row {
	c := b.Customer
	return []core.Row{
		kv("Customer", c.Name+"   (ID "+c.ID+")"),
		kv("Account", c.AccountNumber),
		kv("Address", c.Address),
		kv("Phone", c.Phone),
		kv("E-mail", c.Email),
		kv("Meter", c.MeterID),
		kv("Sanctioned load", tariff.Milli(c.SanctionedLoadW)+" kW"),
		kv("Tariff", b.Charges.Schedule),
		kv("Billing period", b.Period),
	}
}

func usageRows(b bill.Bill) []core.Row {
	rows := []core.Row{
		kv("Energy measured", tariff.Milli(b.MeasuredWh)+" kWh"),
	}
	if b.Estimated {
		rows = append(rows,
			kv("Energy estimated", tariff.Milli(b.EstimatedWh)+" kWh  ESTIMATED for rounds without meter data"),
		)
	}
	rows = append(rows, kv("Energy billed", tariff.Milli(b.BilledWh)+" kWh"))
	if b.Correction != "" {
		rows = append(rows, kv("Revision", fmt.Sprintf("%d, replaces revision %d: %s", b.Revision, b.Supersedes, b.Correction)))
	}
	return rows
}

func chargeRows(b bill.Bill) []core.Row {
	rows := []core.Row{row.New(5).Add(
		text.NewCol(5, "Charge", bold), text.NewCol(4, "Quantity", bold),
		text.NewCol(1, "Rate (p)", props.Text{Size: 9, Style: fontstyle.Bold, Align: align.Right}),
		text.NewCol(2, "Amount (Rs)", props.Text{Size: 9, Style: fontstyle.Bold, Align: align.Right}),
	).WithStyle(shaded)}
	for _, l := range b.Charges.Lines {
		rate := ""
		if l.RatePaise != 0 {
			rate = fmt.Sprint(l.RatePaise)
		}
		rows = append(rows, row.New(4.5).Add(text.NewCol(5, l.Label, small), text.NewCol(4, l.Quantity, small),
			text.NewCol(1, rate, right), text.NewCol(2, tariff.Rupees(l.AmountPaise), right)))
	}
	rows = append(rows,
		row.New(7).Add(text.NewCol(8, "Total amount due", props.Text{Size: 11, Style: fontstyle.Bold, Top: 1}),
			text.NewCol(4, "Rs "+tariff.Rupees(b.TotalPaise), props.Text{Size: 11, Style: fontstyle.Bold, Align: align.Right, Top: 1})).WithStyle(shaded),
		kv("Due date", b.DueDate),
	)
	return rows
}

// sourceRows prints where the usage came from: rule, band, window,
// coverage and digest, so the bill is traceable.
func sourceRows(b bill.Bill) []core.Row {
	rows := []core.Row{text.NewRow(6, "Data sources (aggregation rules)", bold)}
	for _, s := range b.Sources {
		band := "all rounds"
		if s.Band != "" {
			band = "band " + s.Band
		}
		d := s.Digest
		if len(d) > 16 {
			d = d[:16] + "..."
		}
		est := ""
		if s.EstimatedWh != 0 {
			est = fmt.Sprintf(", %s kWh estimated", tariff.Milli(s.EstimatedWh))
		}
		rows = append(rows, text.NewAutoRow(fmt.Sprintf("rule %s, %s, rounds %d-%d: %d covered, %d missing; %s kWh measured%s; digest %s",
			s.RuleID, band, s.FirstRound, s.LastRound, s.RoundsCovered, s.RoundsMissing, tariff.Milli(s.MeasuredWh), est, d), props.Text{Size: 7}))
	}
	if len(b.Sources) == 0 {
		rows = append(rows, text.NewRow(4, "none: no meter data was released for this period", props.Text{Size: 7}))
	}
	return append(rows, text.NewAutoRow(strings.Join([]string{
		"Personal data on this bill is masked. Usage is computed from aggregates recovered by the ppnet privacy-preserving network;",
		"missing meter rounds are estimated from covered rounds' average (marked ESTIMATED) or the bill is held.",
	}, " "), props.Text{Size: 6, Top: 2}))
}
