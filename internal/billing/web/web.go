// Package web is the billing consumer's web UI and JSON API: masked
// customers with search (htmx), their bills, bill detail, PDF download and
// the payment page; the network page (/network, htmx-refreshed; JSON at
// /api/network) with the consumer's progress, each PPN's status, the
// notification channels and the other consumers' health and aggregates
// (never their per-producer values); /api/customers (GET list, POST create or replace — the
// answer is the masked view), /api/bills, and POST
// /api/periods/{YYYY-MM}/issue, which bills a month from released totals. Every page and answer shows
// masked customer data only. Pages are html/template; htmx 2 is vendored
// from npm and embedded, so there is no JavaScript build.
//
// The handler has no authentication of its own: the consumer daemon must
// serve it behind the utility's staff login (the /pay page excepted).
package web

import (
	"bytes"
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"

	"github.com/ppnet/ppnet/internal/billing"
	"github.com/ppnet/ppnet/internal/billing/bill"
	"github.com/ppnet/ppnet/internal/billing/customer"
	"github.com/ppnet/ppnet/internal/billing/tariff"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// maxResults bounds a customer search result.
const maxResults = 200

type ui struct {
	svc     *billing.Service
	log     *slog.Logger
	netView func(context.Context) NetworkView
	history HistorySource
	pages   map[string]*template.Template
}

// Options configures the handler; nil means defaults.
type Options struct {
	Log *slog.Logger // default: discard
	// Network gathers the network page (/network, /api/network); the
	// billing consumer daemon provides it. Nil: those paths answer 404.
	Network func(context.Context) NetworkView
	// History fetches a customer's meter's residual history (masked by
	// FDDM after billing) from its producer for the customer page's chart.
	// Nil: the page shows no history.
	History HistorySource
}

// Handler serves the UI on its own mux. log may be nil.
func Handler(svc *billing.Service, log *slog.Logger) (http.Handler, error) {
	return New(svc, &Options{Log: log})
}

// New serves the UI with the network page of o.Network on its own mux.
func New(svc *billing.Service, o *Options) (http.Handler, error) {
	if o == nil {
		o = &Options{}
	}
	log := o.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	funcs := template.FuncMap{"rupees": tariff.Rupees, "kwh": tariff.Milli}
	u := &ui{svc: svc, log: log, netView: o.Network, history: o.History, pages: map[string]*template.Template{}}
	for _, p := range []string{"customers", "customer", "bill", "network"} {
		t, err := template.New(p).Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/"+p+".html")
		if err != nil {
			return nil, fmt.Errorf("web: template %s: %w", p, err)
		}
		u.pages[p] = t
	}
	static, err := fs.Sub(staticFS, "static")
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(static)))
	mux.HandleFunc("GET /{$}", u.customers)
	mux.HandleFunc("GET /customers", u.customers)
	mux.HandleFunc("GET /customers/{id}", u.customer)
	mux.HandleFunc("GET /bills/{cust}/{period}/{rev}", u.bill)
	mux.HandleFunc("GET /bills/{cust}/{period}/{rev}/pdf", u.pdf)
	mux.Handle("/pay", svc.PaymentHandler())
	mux.HandleFunc("GET /api/customers", u.apiCustomers)
	mux.HandleFunc("POST /api/customers", u.apiPutCustomer)
	mux.HandleFunc("GET /api/customers/{id}", u.apiCustomer)
	mux.HandleFunc("GET /api/bills", u.apiBills)
	mux.HandleFunc("GET /api/bills/{cust}/{period}/{rev}", u.apiBill)
	mux.HandleFunc("POST /api/periods/{period}/issue", u.apiIssue)
	mux.HandleFunc("GET /network", u.network)
	mux.HandleFunc("GET /api/network", u.network)
	return mux, nil
}

func (u *ui) render(w http.ResponseWriter, page, block string, data map[string]any) {
	var buf bytes.Buffer
	if err := u.pages[page].ExecuteTemplate(&buf, block, data); err != nil {
		u.log.Error("render", "page", page, "err", err)
		http.Error(w, "web: page could not be rendered", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, _ = w.Write(buf.Bytes())
}

func (u *ui) fail(w http.ResponseWriter, err error) {
	status := http.StatusInternalServerError
	if errors.Is(err, customer.ErrNotFound) || errors.Is(err, bill.ErrNotFound) {
		status = http.StatusNotFound
	} else {
		u.log.Error("request failed", "err", err)
	}
	http.Error(w, err.Error(), status)
}

// customers lists masked customers, filtered by q over the visible fields;
// an htmx request gets only the table rows.
func (u *ui) customers(w http.ResponseWriter, r *http.Request) {
	all, err := u.svc.Customers().List()
	if err != nil {
		u.fail(w, err)
		return
	}
	q := strings.ToLower(strings.TrimSpace(r.FormValue("q")))
	var hits []customer.Masked
	for _, c := range all {
		hay := strings.ToLower(strings.Join([]string{c.ID, c.MeterID, c.Phone, c.Address, c.Name}, " "))
		if (q == "" || strings.Contains(hay, q)) && len(hits) < maxResults {
			hits = append(hits, c)
		}
	}
	data := map[string]any{"Title": "Customers", "Customers": hits}
	if r.Header.Get("HX-Request") == "true" {
		u.render(w, "customers", "rows", data)
		return
	}
	u.render(w, "customers", "layout", data)
}

func (u *ui) customer(w http.ResponseWriter, r *http.Request) {
	c, err := u.svc.Customers().Get(r.PathValue("id"))
	if err != nil {
		u.fail(w, err)
		return
	}
	bills, err := u.svc.Bills().List(c.ID)
	if err != nil {
		u.fail(w, err)
		return
	}
	for i, j := 0, len(bills)-1; i < j; i, j = i+1, j-1 { // newest first
		bills[i], bills[j] = bills[j], bills[i]
	}
	u.render(w, "customer", "layout", map[string]any{"Title": c.ID, "Customer": c, "Bills": bills,
		"History": u.customerHistory(r.Context(), c.MeterID)})
}

func billID(r *http.Request) string {
	return r.PathValue("cust") + "/" + r.PathValue("period") + "/" + r.PathValue("rev")
}

func (u *ui) bill(w http.ResponseWriter, r *http.Request) {
	b, err := u.svc.Bills().Get(billID(r))
	if err != nil {
		u.fail(w, err)
		return
	}
	_, paid, err := u.svc.Bills().Payment(b.ID())
	if err != nil {
		u.fail(w, err)
		return
	}
	data := map[string]any{"Title": b.ID(), "Bill": b, "Paid": paid}
	if b.Status == bill.StatusIssued && !paid {
		latest, err := u.svc.Bills().Latest(b.CustomerID, b.Period)
		if err == nil && latest.Revision == b.Revision {
			link, err := u.svc.PayLink(b)
			if err != nil {
				u.fail(w, err)
				return
			}
			data["PayURL"] = link
		}
	}
	u.render(w, "bill", "layout", data)
}

func (u *ui) pdf(w http.ResponseWriter, r *http.Request) {
	doc, err := u.svc.PDF(billID(r))
	if err != nil {
		u.fail(w, err)
		return
	}
	name := strings.ReplaceAll(billID(r), "/", "_") + ".pdf"
	w.Header().Set("Content-Type", "application/pdf")
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	_, _ = w.Write(doc)
}
