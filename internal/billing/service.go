package billing

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"reflect"
	"sort"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/ppnet/ppnet/internal/billing/bill"
	"github.com/ppnet/ppnet/internal/billing/customer"
	"github.com/ppnet/ppnet/internal/billing/notify"
	"github.com/ppnet/ppnet/internal/billing/paylink"
	"github.com/ppnet/ppnet/internal/billing/pdf"
	"github.com/ppnet/ppnet/internal/billing/tariff"
)

// Config configures a Service.
type Config struct {
	DB         *bolt.DB           // shared database; Init of package customer must have run on it
	Rand       io.Reader          // crypto randomness; required
	Now        func() time.Time   // default time.Now
	Log        *slog.Logger       // default: discard
	Schedules  []*tariff.Schedule // in addition to the built-in ones; same id replaces
	Policy     bill.Policy        // missing-data policy
	Utility    string             // issuer name on bills
	PayKey     []byte             // HMAC key for payment links, ≥ 32 bytes
	PayBaseURL string             // e.g. https://pay.example.in
	PayLinkTTL time.Duration      // default 45 days
	ContactKey []byte             // see customer.Options.ContactKey; needed for e-mail
	Senders    map[string]notify.Sender
	Outbox     *notify.Options
}

// Service is the billing consumer's domain service.
type Service struct {
	cfg       Config
	log       *slog.Logger
	customers *customer.Store
	bills     *bill.Store
	outbox    *notify.Outbox
	signer    *paylink.Signer
	schedules map[string]*tariff.Schedule
}

// New opens the billing state in cfg.DB.
func New(cfg Config) (*Service, error) {
	if cfg.DB == nil || cfg.Rand == nil {
		return nil, errors.New("billing: Config.DB and Config.Rand are required")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.PayLinkTTL <= 0 {
		cfg.PayLinkTTL = 45 * 24 * time.Hour
	}
	s := &Service{cfg: cfg, log: cfg.Log, schedules: map[string]*tariff.Schedule{}}
	for _, id := range tariff.Builtin() {
		sc, err := tariff.Load(id)
		if err != nil {
			return nil, err
		}
		s.schedules[id] = sc
	}
	for _, sc := range cfg.Schedules {
		if err := sc.Validate(); err != nil {
			return nil, err
		}
		s.schedules[sc.ID] = sc
	}
	var err error
	if s.customers, err = customer.Open(cfg.DB, &customer.Options{Rand: cfg.Rand, Now: cfg.Now, ContactKey: cfg.ContactKey}); err != nil {
		return nil, err
	}
	if s.bills, err = bill.OpenStore(cfg.DB); err != nil {
		return nil, err
	}
	if s.signer, err = paylink.NewSigner(cfg.PayKey, cfg.Now); err != nil {
		return nil, err
	}
	oo := withLog(cfg.Outbox, cfg.Now, cfg.Log)
	if oo.Resolve == nil {
		oo.Resolve = s.resolveContact
	}
	if s.outbox, err = notify.Open(cfg.DB, cfg.Senders, oo); err != nil {
		return nil, err
	}
	return s, nil
}

func withLog(o *notify.Options, now func() time.Time, log *slog.Logger) *notify.Options {
	out := notify.Options{}
	if o != nil {
		out = *o
	}
	if out.Now == nil {
		out.Now = now
	}
	if out.Log == nil {
		out.Log = log
	}
	return &out
}

// Customers returns the customer registry.
func (s *Service) Customers() *customer.Store { return s.customers }

// Bills returns the bill store.
func (s *Service) Bills() *bill.Store { return s.bills }

// Outbox returns the notification outbox; run its RunOnce periodically.
func (s *Service) Outbox() *notify.Outbox { return s.outbox }

// ImportCSV reads customers in the customer.ReadCSV format, checks every
// row (fields and tariff id) before storing any, then stores them in order.
// It returns how many were stored; a storage conflict (a meter already
// owned by another customer) stops the import at that row.
func (s *Service) ImportCSV(r io.Reader) (int, error) {
	cs, err := customer.ReadCSV(r)
	if err != nil {
		return 0, err
	}
	for i, c := range cs {
		if _, err := s.Schedule(c.Tariff); err != nil {
			return 0, fmt.Errorf("billing: import row %d (customer %s): %w", i+1, c.ID, err)
		}
	}
	for i, c := range cs {
		if err := s.customers.Put(c); err != nil {
			return i, fmt.Errorf("billing: import row %d (customer %s), %d rows stored before it: %w", i+1, c.ID, i, err)
		}
	}
	s.log.Info("customers imported", "count", len(cs))
	return len(cs), nil
}

// Schedule returns a tariff schedule by id.
func (s *Service) Schedule(id string) (*tariff.Schedule, error) {
	sc, ok := s.schedules[id]
	if !ok {
		ids := make([]string, 0, len(s.schedules))
		for k := range s.schedules {
			ids = append(ids, k)
		}
		sort.Strings(ids)
		return nil, fmt.Errorf("billing: no tariff schedule %q; fix: use one of %v or add it to Config.Schedules", id, ids)
	}
	return sc, nil
}

// Report says what IssuePeriod did, by bill ID or meter.
type Report struct {
	Issued        []string // new revisions issued with measured energy only
	Estimated     []string // new revisions with estimated energy
	Held          []string // new held revisions
	Unchanged     []string // latest revision already reflects these totals
	Conflicts     []string // issued bill exists with different data: use Correct
	UnknownMeters []string // meters in the totals without a customer
}

// IssuePeriod bills every registered customer for a month from the
// released totals. It is idempotent: run twice with the same totals it
// issues nothing new. A held bill is superseded automatically once the
// data allows an issued one; an issued bill is only replaced by Correct.
func (s *Service) IssuePeriod(period string, totals []bill.Totals) (Report, error) {
	var rep Report
	if err := bill.CheckPeriod(period); err != nil {
		return rep, err
	}
	custs, err := s.customers.List()
	if err != nil {
		return rep, err
	}
	perMeter := splitByMeter(totals)
	known := map[string]bool{}
	for _, c := range custs {
		known[c.MeterID] = true
		b, err := s.compose(c, period, perMeter[c.MeterID])
		if err != nil {
			return rep, err
		}
		prev, err := s.bills.Latest(c.ID, period)
		switch {
		case errors.Is(err, bill.ErrNotFound):
		case err != nil:
			return rep, err
		case reflect.DeepEqual(prev.Sources, b.Sources) || (prev.Status == bill.StatusHeld && b.Status == bill.StatusHeld):
			rep.Unchanged = append(rep.Unchanged, prev.ID())
			if prev.Status == bill.StatusIssued {
				if err := s.notify(prev); err != nil { // queues only what a crash left out
					return rep, err
				}
			}
			continue
		case prev.Status == bill.StatusIssued:
			rep.Conflicts = append(rep.Conflicts, prev.ID())
			s.log.Warn("released totals differ from an issued bill; not reissued", "bill", prev.ID())
			continue
		default:
			b.Revision, b.Supersedes, b.Correction = prev.Revision+1, prev.Revision, "meter data arrived for a held bill"
		}
		if err := s.issue(b); err != nil {
			return rep, err
		}
		switch {
		case b.Status == bill.StatusHeld:
			rep.Held = append(rep.Held, b.ID())
		case b.Estimated:
			rep.Estimated = append(rep.Estimated, b.ID())
		default:
			rep.Issued = append(rep.Issued, b.ID())
		}
	}
	for _, t := range totals {
		for _, m := range t.Meters {
			if !known[m.MeterID] {
				known[m.MeterID] = true
				rep.UnknownMeters = append(rep.UnknownMeters, m.MeterID)
			}
		}
	}
	return rep, nil
}

// splitByMeter gives each meter its own view of the released totals (each
// source reduced to that meter's entry), so a month of n customers costs
// O(n) rather than a scan of every source per customer.
func splitByMeter(totals []bill.Totals) map[string][]bill.Totals {
	out := map[string][]bill.Totals{}
	for _, t := range totals {
		for _, m := range t.Meters {
			one := t
			one.Meters = []bill.MeterTotal{m}
			out[m.MeterID] = append(out[m.MeterID], one)
		}
	}
	return out
}

// Correct issues a new revision of a customer's bill for a period from
// corrected totals, recording the reason.
func (s *Service) Correct(customerID, period, reason string, totals []bill.Totals) (bill.Bill, error) {
	if reason == "" {
		return bill.Bill{}, errors.New("billing: a correction needs a reason; fix: state what was wrong")
	}
	c, err := s.customers.Get(customerID)
	if err != nil {
		return bill.Bill{}, err
	}
	prev, err := s.bills.Latest(customerID, period)
	if err != nil {
		return bill.Bill{}, err
	}
	b, err := s.compose(c, period, totals)
	if err != nil {
		return bill.Bill{}, err
	}
	b.Revision, b.Supersedes, b.Correction = prev.Revision+1, prev.Revision, reason
	return b, s.issue(b)
}

func (s *Service) compose(c customer.Masked, period string, totals []bill.Totals) (bill.Bill, error) {
	sc, err := s.Schedule(c.Tariff)
	if err != nil {
		return bill.Bill{}, fmt.Errorf("billing: customer %s: %w", c.ID, err)
	}
	return bill.Compose(c, sc, period, totals, s.cfg.Policy, s.cfg.Now())
}

// issue stores a bill and queues its notifications.
func (s *Service) issue(b bill.Bill) error {
	if err := s.bills.Insert(b); err != nil {
		return err
	}
	s.log.Info("bill stored", "bill", b.ID(), "status", b.Status, "estimated", b.Estimated, "total_paise", b.TotalPaise)
	if b.Status != bill.StatusIssued {
		return nil
	}
	return s.notify(b)
}

// PayLink returns the signed payment URL of an issued bill revision.
func (s *Service) PayLink(b bill.Bill) (string, error) {
	tok, err := s.signer.Sign(paylink.Claims{BillID: b.ID(), AmountPaise: b.TotalPaise, Expires: b.IssuedAt.Add(s.cfg.PayLinkTTL)})
	if err != nil {
		return "", err
	}
	return paylink.URL(s.cfg.PayBaseURL, tok), nil
}

// PDF renders a stored bill with its payment link (unless held or paid)
// and the customer's earlier months for the chart.
func (s *Service) PDF(billID string) ([]byte, error) {
	b, err := s.bills.Get(billID)
	if err != nil {
		return nil, err
	}
	return s.render(b)
}

func (s *Service) render(b bill.Bill) ([]byte, error) {
	o := pdf.Options{Utility: s.cfg.Utility}
	if _, paid, err := s.bills.Payment(b.ID()); err != nil {
		return nil, err
	} else if b.Status == bill.StatusIssued && !paid {
		if o.PayURL, err = s.PayLink(b); err != nil {
			return nil, err
		}
	}
	all, err := s.bills.List(b.CustomerID)
	if err != nil {
		return nil, err
	}
	latest := map[string]bill.Bill{}
	for _, x := range all { // List is ordered, so the last revision wins
		if x.Period < b.Period {
			latest[x.Period] = x
		}
	}
	for _, x := range latest {
		if x.Status == bill.StatusIssued {
			o.History = append(o.History, pdf.Point{Period: x.Period, Wh: x.BilledWh, Estimated: x.Estimated})
		}
	}
	sort.Slice(o.History, func(i, j int) bool { return o.History[i].Period < o.History[j].Period })
	if len(o.History) > 11 {
		o.History = o.History[len(o.History)-11:]
	}
	return pdf.Render(b, o)
}

// Summary implements paylink.Ledger.
func (s *Service) Summary(billID string) (paylink.Summary, error) {
	b, err := s.bills.Get(billID)
	if err != nil {
		return paylink.Summary{}, err
	}
	_, paid, err := s.bills.Payment(billID)
	return paylink.Summary{BillID: billID, CustomerName: b.Customer.Name, Period: b.Period, AmountPaise: b.TotalPaise, Paid: paid}, err
}

// Pay implements paylink.Ledger.
func (s *Service) Pay(billID string, amountPaise int64, ref string) error {
	return s.bills.MarkPaid(billID, amountPaise, s.cfg.Now(), ref)
}

// PaymentHandler serves the payment page (GET/POST /pay).
func (s *Service) PaymentHandler() http.Handler { return paylink.Handler(s.signer, s, s.log) }
