package web

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/ppnet/ppnet/internal/billing/customer"
	"github.com/ppnet/ppnet/internal/billing/tariff"
)

func TestAPI(t *testing.T) {
	srv, cs := demo(t)
	nc := customer.Synthesize(99, 20, tariff.DefaultID, "n-")[19]
	nc.ID = "KA-API-1"
	body, _ := json.Marshal(nc)
	post := func(b []byte) (int, string) {
		resp, err := http.Post(srv.URL+"/api/customers", "application/json", bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		out, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(out)
	}
	code, out := post(body)
	if code != 200 || strings.Contains(out, nc.Name) || strings.Contains(out, nc.Email) || !strings.Contains(out, customer.MaskEmail(nc.Email)) {
		t.Fatalf("create: %d %s", code, out)
	}
	tests := []struct {
		name string
		body string
		code int
		want string
	}{
		{"unknown field", strings.Replace(string(body), `"name"`, `"nmae"`, 1), 400, "unknown field"},
		{"invalid pin", strings.Replace(string(body), `"pin":"`+nc.Address.PIN, `"pin":"1`, 1), 400, "PIN code"},
		{"two values", string(body) + string(body), 400, "more than one value"},
		{"unknown tariff", strings.Replace(string(body), tariff.DefaultID, "nope", 1), 400, "no tariff schedule"},
		{"meter taken", strings.Replace(string(body), nc.MeterID, cs[0].MeterID, 1), 409, "already belongs"},
	}
	for _, tc := range tests {
		if code, out := post([]byte(tc.body)); code != tc.code || !strings.Contains(out, tc.want) {
			t.Errorf("%s: %d %s", tc.name, code, out)
		}
	}
	code, _, out = get(t, srv.URL+"/api/customers", false)
	var list []customer.Masked
	if err := json.Unmarshal([]byte(out), &list); code != 200 || err != nil || len(list) != len(cs)+1 {
		t.Fatalf("list: %d %v %d", code, err, len(list))
	}
	for _, c := range append(cs, nc) {
		if strings.Contains(out, c.Name) || strings.Contains(out, c.AccountNumber) {
			t.Fatalf("API list shows raw PII of %s", c.ID)
		}
	}
	code, _, out = get(t, srv.URL+"/api/bills?customer="+cs[0].ID, false)
	if code != 200 || !strings.Contains(out, `"rule_id":"monthly"`) || !strings.Contains(out, `"digest":"c0ffee"`) {
		t.Fatalf("bills: %d %s", code, out)
	}
	if code, _, _ := get(t, srv.URL+"/api/bills/"+cs[0].ID+"/2026-03/r1", false); code != 200 {
		t.Fatalf("bill: %d", code)
	}
	if code, _, _ := get(t, srv.URL+"/api/customers/nobody", false); code != 404 {
		t.Fatalf("unknown customer: %d", code)
	}
}

func FuzzDecodeCustomer(f *testing.F) {
	for _, c := range customer.Synthesize(3, 3, tariff.DefaultID, "m-") {
		b, _ := json.Marshal(c)
		f.Add(b)
	}
	f.Add([]byte(`{"id":"x"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := decodeCustomer(bytes.NewReader(data))
		if err != nil {
			return
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("decoded an invalid customer: %v", err)
		}
		again, _ := json.Marshal(c)
		c2, err := decodeCustomer(bytes.NewReader(again))
		if err != nil || c2 != c {
			t.Fatalf("round trip: %v", err)
		}
	})
}

func TestAPIIssue(t *testing.T) {
	srv, cs := demo(t)
	issue := func(period, body string) (int, string) {
		resp, err := http.Post(srv.URL+"/api/periods/"+period+"/issue", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		out, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(out)
	}
	body := `[{"rule_id":"monthly","first_round":2976,"last_round":5855,"digest":"feed","meters":[{"meter_id":"` + cs[0].MeterID + `","wh":200000,"rounds_covered":2880}]}]`
	code, out := issue("2026-02", body)
	if code != 200 || !strings.Contains(out, cs[0].ID+"/2026-02/r1") || !strings.Contains(out, `"Held":["`) {
		t.Fatalf("issue: %d %s", code, out)
	}
	if code, out := issue("2026-02", body); code != 200 || !strings.Contains(out, `"Unchanged":["`) {
		t.Fatalf("re-issue: %d %s", code, out)
	}
	if code, out := issue("2026-13", body); code != 400 || !strings.Contains(out, "YYYY-MM") {
		t.Fatalf("bad period: %d %s", code, out)
	}
	if code, out := issue("2026-05", `{"not":"an array"}`); code != 400 || !strings.Contains(out, "fix:") {
		t.Fatalf("bad body: %d %s", code, out)
	}
}
