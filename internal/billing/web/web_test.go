package web

import (
	"bytes"
	"context"
	"crypto/rand"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/ppnet/ppnet/internal/billing"
	"github.com/ppnet/ppnet/internal/billing/bill"
	"github.com/ppnet/ppnet/internal/billing/customer"
	"github.com/ppnet/ppnet/internal/billing/tariff"
)

// demo returns a UI server over a service with 12 synthetic customers and
// March bills (customer 3 estimated, customer 4 held).
func demo(t *testing.T) (*httptest.Server, []customer.Customer) {
	t.Helper()
	db, err := bolt.Open(filepath.Join(t.TempDir(), "billing.db"), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := customer.Init(db, rand.Reader, 3, 2); err != nil {
		t.Fatal(err)
	}
	svc, err := billing.New(billing.Config{DB: db, Rand: rand.Reader, Utility: "BESCOM (demo)",
		PayKey: bytes.Repeat([]byte{9}, 32), Now: func() time.Time { return time.Date(2026, 4, 2, 9, 0, 0, 0, time.UTC) }})
	if err != nil {
		t.Fatal(err)
	}
	cs := customer.Synthesize(77, 12, tariff.DefaultID, "m-")
	tot := bill.Totals{RuleID: "monthly", FirstRound: 0, LastRound: 2975, Digest: "c0ffee"}
	for i, c := range cs {
		if err := svc.Customers().Put(c); err != nil {
			t.Fatal(err)
		}
		m := bill.MeterTotal{MeterID: c.MeterID, Wh: int64(150_000 + 10_000*i), RoundsCovered: 2976}
		switch i {
		case 2:
			m.RoundsCovered, m.RoundsMissing = 2800, 176
		case 3:
			m.RoundsCovered, m.RoundsMissing = 1000, 1976
		}
		tot.Meters = append(tot.Meters, m)
	}
	if _, err := svc.IssuePeriod("2026-03", []bill.Totals{tot}); err != nil {
		t.Fatal(err)
	}
	prod := fakeProducer(t)
	h, err := New(svc, &Options{Network: fakeNetwork(), History: HTTPHistory{URL: prod.URL + "/history?meter={meter}"}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv, cs
}

func get(t *testing.T, url string, hx bool) (int, http.Header, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if hx {
		req.Header.Set("HX-Request", "true")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

func TestPages(t *testing.T) {
	srv, cs := demo(t)
	code, _, body := get(t, srv.URL+"/", false)
	if code != 200 || !strings.Contains(body, customer.MaskName(cs[0].Name)) || !strings.Contains(body, "/static/htmx.min.js") {
		t.Fatalf("index: %d", code)
	}
	for _, c := range cs {
		for _, secret := range []string{c.Name, c.Email, c.AccountNumber, c.Address.Street} {
			if strings.Contains(body, secret) {
				t.Fatalf("index shows raw PII %q", secret)
			}
		}
	}
	code, _, body = get(t, srv.URL+"/customers?q="+cs[5].ID, true)
	if code != 200 || strings.Contains(body, "<html") || strings.Count(body, `class="customer"`) != 1 || !strings.Contains(body, cs[5].ID) {
		t.Fatalf("htmx search fragment: %d %s", code, body)
	}
	code, _, body = get(t, srv.URL+"/customers/"+cs[3].ID, false)
	if code != 200 || !strings.Contains(body, "tag held") {
		t.Fatalf("held customer page: %d", code)
	}
	code, _, body = get(t, srv.URL+"/bills/"+cs[2].ID+"/2026-03/r1", false)
	if code != 200 || !strings.Contains(body, "Energy estimated") || !strings.Contains(body, `id="paylink"`) || !strings.Contains(body, "c0ffee") {
		t.Fatalf("estimated bill page: %d\n%s", code, body)
	}
	code, hdr, body := get(t, srv.URL+"/bills/"+cs[2].ID+"/2026-03/r1/pdf", false)
	if code != 200 || hdr.Get("Content-Type") != "application/pdf" || !strings.HasPrefix(body, "%PDF") {
		t.Fatalf("pdf: %d %s", code, hdr)
	}
	code, hdr, body = get(t, srv.URL+"/static/htmx.min.js", false)
	if code != 200 || !strings.Contains(body, "htmx") || !strings.Contains(hdr.Get("Content-Type"), "javascript") {
		t.Fatalf("htmx: %d %s", code, hdr)
	}
	for _, u := range []string{"/customers/nobody", "/bills/x/2026-03/r1", "/bills/x/2026-03/r1/pdf", "/bills/x/bad/r1"} {
		if code, _, _ := get(t, srv.URL+u, false); code != http.StatusNotFound {
			t.Errorf("%s: %d, want 404", u, code)
		}
	}
}

// fakeNetwork is a network view as the daemon would gather it; each call
// is one second later, so a refreshed page shows a new time.
func fakeNetwork() func(context.Context) NetworkView {
	var calls atomic.Int64
	return func(context.Context) NetworkView {
		at := time.Date(2026, 4, 2, 9, 0, int(calls.Add(1)), 0, time.UTC)
		return NetworkView{At: at,
			Rules: []RuleView{{Rule: "billing-monthly", Window: 2976, Final: 1, Expected: 1, Covered: 35712}},
			PPNs: []PPNView{{PPN: "ppn1", Rules: []string{"billing-monthly"}, Windows: 1, Combined: 1, Last: "combined"},
				{PPN: "ppn2", Rules: []string{"billing-monthly"}, Windows: 1, Faulty: 1, Last: "faulty"},
				{PPN: "ppn3", Rules: []string{"billing-monthly"}, Windows: 1, Absent: 1, Last: "absent"}},
			Periods:  []PeriodView{{Name: "2026-03", FirstRound: 0, LastRound: 2975, State: "issued"}},
			Channels: []ChannelView{{Channel: "sms", Via: "SMS gateway https://sms.example.in/send"}, {Channel: "email"}},
			Peers: []PeerView{{Name: "dso", URL: "http://127.0.0.1:1", Health: "ok", Shown: 1, Total: 1,
				Results: []PeerRow{{Rule: "feeder-F1-15min", Kind: "sum", Window: 7, Rounds: 1, Value: "424242", Covered: 6, Checked: true}}},
				{Name: "planner", URL: "http://127.0.0.1:2", Health: "unreachable: connection refused"}}}
	}
}

// TestNavigation: every staff page links to the customers and the network
// page; the network page renders the view, and an htmx request gets only
// its refreshable part.
func TestNavigation(t *testing.T) {
	srv, cs := demo(t)
	for _, path := range []string{"/", "/customers/" + cs[0].ID, "/bills/" + cs[0].ID + "/2026-03/r1", "/network"} {
		page := page200(t, srv.URL+path, false)
		for _, want := range []string{`id="nav-customers" href="/customers"`, `id="nav-network" href="/network"`} {
			if !strings.Contains(page, want) {
				t.Errorf("%s lacks %s", path, want)
			}
		}
	}
	page := page200(t, srv.URL+"/network", false)
	for _, want := range []string{"billing-monthly", "ppn2", `<span class="tag held">faulty</span>`, `<span class="tag held">absent</span>`,
		"424242", "unreachable: connection refused", "SMS gateway https://sms.example.in/send", "not configured: bills are not notified"} {
		if !strings.Contains(page, want) {
			t.Errorf("network page lacks %q", want)
		}
	}
	frag := page200(t, srv.URL+"/network", true)
	if strings.Contains(frag, "<html") || !strings.HasPrefix(strings.TrimSpace(frag), `<div id="net"`) {
		t.Errorf("htmx refresh is not the fragment:\n%.200s", frag)
	}
}

func page200(t *testing.T, url string, hx bool) string {
	t.Helper()
	code, _, body := get(t, url, hx)
	if code != http.StatusOK {
		t.Fatalf("GET %s: %d %s", url, code, body)
	}
	return body
}
