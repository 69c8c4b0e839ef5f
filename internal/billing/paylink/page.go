package paylink

import (
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
)

// Summary is what the payment page shows about a bill (masked data only).
type Summary struct {
	BillID       string
	CustomerName string // masked
	Period       string
	AmountPaise  int64
	Paid         bool
}

// Ledger is the bill store as the payment page needs it.
type Ledger interface {
	// Summary describes a bill.
	Summary(billID string) (Summary, error)
	// Pay records the payment of amountPaise for billID, refusing a
	// second payment, a wrong amount or a superseded revision.
	Pay(billID string, amountPaise int64, reference string) error
}

// Handler serves GET /pay?t=TOKEN (the page with a Pay button) and
// POST /pay (the payment). log may be nil.
func Handler(s *Signer, l Ledger, log *slog.Logger) http.Handler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &page{s: s, l: l, log: log}
}

type page struct {
	s   *Signer
	l   Ledger
	log *slog.Logger
}

var tmpl = template.Must(template.New("pay").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Pay bill {{.Sum.BillID}}</title></head>
<body><main>
<h1{{if .Done}} id="done"{{end}}>{{if .Done}}Payment received{{else if .Sum.Paid}}Bill already paid{{else}}Pay your electricity bill{{end}}</h1>
<dl><dt>Bill</dt><dd id="bill">{{.Sum.BillID}}</dd><dt>Customer</dt><dd>{{.Sum.CustomerName}}</dd>
<dt>Period</dt><dd>{{.Sum.Period}}</dd><dt>Amount</dt><dd id="amount">Rs {{.Amount}}</dd></dl>
{{if not (or .Done .Sum.Paid)}}<form method="post" action="pay"><input type="hidden" name="t" value="{{.Token}}">
<button type="submit" id="pay">Pay Rs {{.Amount}}</button></form>{{end}}
</main></body></html>`))

func (p *page) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		http.Error(w, "paylink: use GET or POST", http.StatusMethodNotAllowed)
		return
	}
	token := r.FormValue("t")
	c, err := p.s.Verify(token)
	if err != nil {
		status := http.StatusBadRequest
		if errors.Is(err, ErrExpired) {
			status = http.StatusGone
		}
		http.Error(w, err.Error(), status)
		return
	}
	sum, err := p.l.Summary(c.BillID)
	if err != nil {
		http.Error(w, "paylink: bill not found", http.StatusNotFound)
		return
	}
	if sum.AmountPaise != c.AmountPaise {
		http.Error(w, fmt.Sprintf("paylink: link is for %d paise but the bill is %d; fix: use the link on the latest bill", c.AmountPaise, sum.AmountPaise), http.StatusConflict)
		return
	}
	done := false
	if r.Method == http.MethodPost && !sum.Paid {
		if err := p.l.Pay(c.BillID, c.AmountPaise, "paylink"); err != nil {
			p.log.Warn("payment refused", "bill", c.BillID, "err", err)
			http.Error(w, err.Error(), http.StatusConflict)
			return
		}
		p.log.Info("bill paid", "bill", c.BillID, "paise", c.AmountPaise)
		done, sum.Paid = true, true
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_ = tmpl.Execute(w, map[string]any{"Sum": sum, "Token": token, "Done": done,
		"Amount": fmt.Sprintf("%d.%02d", c.AmountPaise/100, c.AmountPaise%100)})
}
