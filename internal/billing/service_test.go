package billing

import (
	"bytes"
	"context"
	"crypto/rand"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/ppnet/ppnet/internal/billing/bill"
	"github.com/ppnet/ppnet/internal/billing/customer"
	"github.com/ppnet/ppnet/internal/billing/notify"
	"github.com/ppnet/ppnet/internal/billing/tariff"
)

// recorder is a notify.Sender that keeps what it was asked to send.
type recorder struct {
	mu   sync.Mutex
	sent []notify.Message
}

func (r *recorder) Send(_ context.Context, m notify.Message) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sent = append(r.sent, m)
	return nil
}

type fixture struct {
	svc       *Service
	db        *bolt.DB
	path      string
	customers []customer.Customer
	sms, mail *recorder
	clock     time.Time
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{path: filepath.Join(t.TempDir(), "billing.db"), sms: &recorder{}, mail: &recorder{},
		clock: time.Date(2026, 4, 2, 9, 0, 0, 0, time.UTC)}
	db, err := bolt.Open(f.path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := customer.Init(db, rand.Reader, 3, 2); err != nil {
		t.Fatal(err)
	}
	f.db = db
	f.open(t)
	f.customers = customer.Synthesize(21, 5, tariff.DefaultID, "m-")
	for _, c := range f.customers {
		if err := f.svc.Customers().Put(c); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

func (f *fixture) open(t *testing.T) {
	t.Helper()
	svc, err := New(Config{DB: f.db, Rand: rand.Reader, Now: func() time.Time { return f.clock }, Utility: "BESCOM (demo)",
		PayKey: bytes.Repeat([]byte{3}, 32), PayBaseURL: "https://pay.example.in", ContactKey: bytes.Repeat([]byte{4}, 32),
		Senders: map[string]notify.Sender{notify.ChannelSMS: f.sms, notify.ChannelEmail: f.mail}})
	if err != nil {
		t.Fatal(err)
	}
	f.svc = svc
}

// march returns the March totals: meter 0 complete, 1 at 90% coverage, 2 at
// 50%, 3 absent, 4 complete; plus a meter nobody owns.
func march(cover2 int) []bill.Totals {
	return []bill.Totals{{RuleID: "monthly", FirstRound: 0, LastRound: 2975, Digest: "dg-march-" + string(rune('a'+cover2/1000)),
		Meters: []bill.MeterTotal{
			{MeterID: "m-0000", Wh: 250_000, RoundsCovered: 2976},
			{MeterID: "m-0001", Wh: 180_000, RoundsCovered: 2678, RoundsMissing: 298},
			{MeterID: "m-0002", Wh: 90_000, RoundsCovered: cover2, RoundsMissing: 2976 - cover2},
			{MeterID: "m-0004", Wh: 320_500, RoundsCovered: 2976},
			{MeterID: "m-9999", Wh: 1, RoundsCovered: 2976},
		}}}
}

func TestIssuePeriodEndToEnd(t *testing.T) {
	f := newFixture(t)
	rep, err := f.svc.IssuePeriod("2026-03", march(1488))
	if err != nil {
		t.Fatal(err)
	}
	want := Report{
		Issued:        []string{"KA-000001/2026-03/r1", "KA-000005/2026-03/r1"},
		Estimated:     []string{"KA-000002/2026-03/r1"},
		Held:          []string{"KA-000003/2026-03/r1", "KA-000004/2026-03/r1"},
		UnknownMeters: []string{"m-9999"},
	}
	if !reflect.DeepEqual(rep, want) {
		t.Fatalf("report %+v\nwant %+v", rep, want)
	}
	b, err := f.svc.Bills().Get("KA-000001/2026-03/r1")
	if err != nil {
		t.Fatal(err)
	}
	sc, _ := tariff.Load(tariff.DefaultID)
	ch, _ := sc.Compute(tariff.Usage{Wh: 250_000, SanctionedLoadW: f.customers[0].SanctionedLoadW})
	if b.TotalPaise != ch.TotalPaise || b.Sources[0].Digest != "dg-march-b" || b.Sources[0].RuleID != "monthly" {
		t.Fatalf("bill %+v, want total %d traced to rule monthly", b, ch.TotalPaise)
	}

	// Idempotent: the same totals again issue nothing and queue nothing.
	rep, err = f.svc.IssuePeriod("2026-03", march(1488))
	if err != nil || len(rep.Unchanged) != 5 || len(rep.Issued)+len(rep.Held)+len(rep.Estimated) != 0 {
		t.Fatalf("second run: %+v %v", rep, err)
	}
	// Data for meter 2 arrives: its held bill is superseded by revision 2.
	rep, err = f.svc.IssuePeriod("2026-03", march(2900))
	if err != nil || !reflect.DeepEqual(rep.Estimated, []string{"KA-000003/2026-03/r2"}) {
		t.Fatalf("late data: %+v %v", rep, err)
	}
	// A correction of an issued bill needs Correct and makes revision 2.
	fixed := march(2900)
	fixed[0].Meters[0].Wh = 240_000
	fixed[0].Digest = "dg-march-fixed"
	if rep, _ := f.svc.IssuePeriod("2026-03", fixed); len(rep.Conflicts) != 5-1 {
		t.Fatalf("changed totals for issued bills should be conflicts: %+v", rep)
	}
	c, err := f.svc.Correct("KA-000001", "2026-03", "meter m-0000 re-read", fixed)
	if err != nil || c.Revision != 2 || c.Supersedes != 1 || c.BilledWh != 240_000 {
		t.Fatalf("correction: %+v %v", c, err)
	}

	// Notifications: one SMS and one e-mail per issued revision, sent once
	// even across a restart.
	if n, err := f.svc.Outbox().RunOnce(context.Background()); err != nil || n != 2*5 {
		t.Fatalf("outbox sent %d, %v; want 10 (r1 of 1,2,5; r2 of 1,3)", n, err)
	}
	f.open(t)
	f.clock = f.clock.Add(24 * time.Hour)
	if n, _ := f.svc.Outbox().RunOnce(context.Background()); n != 0 {
		t.Fatalf("resent %d after restart", n)
	}
	var mailTo []string
	for _, m := range f.mail.sent {
		mailTo = append(mailTo, m.To)
		if len(m.Attachments) != 1 || !bytes.HasPrefix(m.Attachments[0].Data, []byte("%PDF")) {
			t.Fatalf("e-mail %s lacks the PDF", m.Key)
		}
		if strings.Contains(m.Body, f.customers[0].Name) {
			t.Fatalf("e-mail body shows the raw name")
		}
	}
	if !strings.Contains(strings.Join(mailTo, ","), f.customers[0].Email) {
		t.Fatalf("e-mails went to %v", mailTo)
	}
	// No raw PII anywhere in the database file after a month of billing
	// and notifications.
	if err := f.db.Sync(); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(f.path)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range f.customers {
		for _, secret := range []string{c.Name, c.Email, c.Address.Street, c.AccountNumber} {
			if bytes.Contains(raw, []byte(secret)) {
				t.Fatalf("database file holds %q of %s in the clear", secret, c.ID)
			}
		}
	}
	// The outbox keeps a reference, not the address.
	entries, err := f.svc.Outbox().List()
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		for _, c := range f.customers {
			if e.To == c.Email {
				t.Fatalf("outbox stores the e-mail address of %s", c.ID)
			}
		}
	}
	for _, m := range f.sms.sent {
		if !strings.Contains(m.Body, "https://pay.example.in/pay?t=") {
			t.Fatalf("SMS lacks the payment link: %s", m.Body)
		}
	}
}

func TestPayThroughLink(t *testing.T) {
	f := newFixture(t)
	if _, err := f.svc.IssuePeriod("2026-03", march(1488)); err != nil {
		t.Fatal(err)
	}
	b, _ := f.svc.Bills().Get("KA-000005/2026-03/r1")
	link, err := f.svc.PayLink(b)
	if err != nil {
		t.Fatal(err)
	}
	// The link text is in the PDF before payment (so the check below can fail).
	if doc, err := f.svc.PDF(b.ID()); err != nil || !bytes.Contains(doc, []byte("pay.example.in")) {
		t.Fatalf("PDF of an unpaid bill lacks its payment link: %v", err)
	}
	srv := httptest.NewServer(f.svc.PaymentHandler())
	defer srv.Close()
	u, _ := url.Parse(link)
	resp, err := http.PostForm(srv.URL+"/pay", url.Values{"t": {u.Query().Get("t")}})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), "Payment received") {
		t.Fatalf("pay: %d %s", resp.StatusCode, body)
	}
	p, paid, err := f.svc.Bills().Payment(b.ID())
	if err != nil || !paid || p.AmountPaise != b.TotalPaise {
		t.Fatalf("payment %+v %v %v", p, paid, err)
	}
	doc, err := f.svc.PDF(b.ID())
	if err != nil || !bytes.HasPrefix(doc, []byte("%PDF")) || bytes.Contains(doc, []byte("pay.example.in")) {
		t.Fatalf("PDF of a paid bill: %v (still carries a payment link: %v)", err, bytes.Contains(doc, []byte("pay.example.in")))
	}
}

func TestImportCSV(t *testing.T) {
	f := newFixture(t)
	extra := customer.Synthesize(5, 8, tariff.DefaultID, "x-")
	for i := range extra {
		extra[i].ID = "IMP-" + extra[i].ID
	}
	var good bytes.Buffer
	if err := customer.WriteCSV(&good, extra); err != nil {
		t.Fatal(err)
	}
	bad := strings.Replace(good.String(), tariff.DefaultID, "no-such-tariff", 1)
	if n, err := f.svc.ImportCSV(strings.NewReader(bad)); n != 0 || err == nil || !strings.Contains(err.Error(), "row 1") || !strings.Contains(err.Error(), "no-such-tariff") {
		t.Fatalf("bad tariff: %d %v", n, err)
	}
	if list, _ := f.svc.Customers().List(); len(list) != 5 {
		t.Fatalf("a rejected import stored customers: %d", len(list))
	}
	if n, err := f.svc.ImportCSV(&good); n != 8 || err != nil {
		t.Fatalf("import: %d %v", n, err)
	}
	if list, _ := f.svc.Customers().List(); len(list) != 13 {
		t.Fatalf("after import: %d customers", len(list))
	}
}
