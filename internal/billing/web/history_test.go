package web

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// fakeProducer serves GET /history like a producer after FDDM masking: 96
// readings per meter of 100 + round Wh; every 7th round suppressed (no
// value), every 11th coarsened to 100 Wh, every 13th generalised to 55 Wh.
func fakeProducer(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		meter := r.URL.Query().Get("meter")
		if r.URL.Path != "/history" || !strings.HasPrefix(meter, "m-") {
			http.Error(w, "producer: meter "+meter+" is not one of this producer's meters", http.StatusNotFound)
			return
		}
		h := History{Meter: meter, From: 0, To: 95}
		start := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
		for k := range uint64(96) {
			wh := int64(100 + k)
			hr := HistoryReading{Round: k, Start: start.Add(time.Duration(k) * 15 * time.Minute), Wh: &wh}
			switch {
			case k%7 == 3:
				hr.Wh, hr.Masked, hr.Mask = nil, true, "suppress"
			case k%11 == 5:
				*hr.Wh, hr.Masked, hr.Mask = 100, true, "coarsen"
			case k%13 == 6:
				*hr.Wh, hr.Masked, hr.Mask = 55, true, "generalise"
			}
			h.Readings = append(h.Readings, hr)
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(h)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// fakeCounts are fakeProducer's readings by kind, per meter.
func fakeCounts() (exact, coarsened, generalised, suppressed int) {
	for k := range 96 {
		switch {
		case k%7 == 3:
			suppressed++
		case k%11 == 5:
			coarsened++
		case k%13 == 6:
			generalised++
		default:
			exact++
		}
	}
	return
}

// TestCustomerHistoryChart: the customer page charts the meter's residual
// history from its producer's /history, one bar per reading classed by how
// it is stored, suppressed readings as hatched gaps without a value; a
// producer that does not answer gives a message, not a broken page.
func TestCustomerHistoryChart(t *testing.T) {
	srv, cs := demo(t)
	code, _, body := get(t, srv.URL+"/customers/"+cs[0].ID, false)
	if code != http.StatusOK {
		t.Fatalf("customer page: %d\n%s", code, body)
	}
	exact, coarsened, generalised, suppressed := fakeCounts()
	for cls, n := range map[string]int{"exact": exact, "coarsen": coarsened, "generalise": generalised, "suppress": suppressed} {
		if got := strings.Count(body, `class="bar `+cls+`"`); got != n {
			t.Errorf("%d bars of class %s, want %d", got, cls, n)
		}
	}
	if !strings.Contains(body, `id="history-chart"`) || !strings.Contains(body, "suppressed by FDDM masking (no value stored)") {
		t.Fatalf("no chart or suppressed marker:\n%s", body)
	}

	h := newHistoryChart(&History{})
	if h.N != 0 || len(h.Bars) != 0 {
		t.Fatalf("empty history charted %d bars", len(h.Bars))
	}
	_, err := HTTPHistory{URL: srv.URL + "/nowhere?meter={meter}"}.History(t.Context(), "m-1")
	if err == nil || !strings.HasPrefix(err.Error(), "web: history of m-1: 404") {
		t.Fatalf("error from a missing producer: %v", err)
	}
	if _, err := (HTTPHistory{URL: "http://x/history"}).History(t.Context(), "m-1"); err == nil || !strings.Contains(err.Error(), "{meter}") {
		t.Fatalf("template without {meter}: %v", err)
	}
}
