package billingd

import (
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	bolt "go.etcd.io/bbolt"

	"github.com/ppnet/ppnet/internal/billing"
	"github.com/ppnet/ppnet/internal/billing/customer"
	"github.com/ppnet/ppnet/internal/billing/web"
	"github.com/ppnet/ppnet/internal/seal"
)

// open opens billing.db, creates the keys and the reveal quorum on first
// start, builds the service, registers customers if there are none, and
// checks the billed bands against the customers' time-of-use hours.
func (d *Daemon) open() error {
	db, err := bolt.Open(filepath.Join(d.cfg.DataDir, "billing.db"), 0o600, nil)
	if err != nil {
		return fmt.Errorf("billingd: open %s: %v", filepath.Join(d.cfg.DataDir, "billing.db"), err)
	}
	d.db = db
	if err := d.openService(); err != nil {
		db.Close()
		return err
	}
	if err := d.checkBandHours(); err != nil {
		db.Close()
		return err
	}
	return nil
}

func (d *Daemon) openService() error {
	payKey, err := d.key("pay.key")
	if err != nil {
		return err
	}
	contactKey, err := d.key("contact.key")
	if err != nil {
		return err
	}
	if err := d.initRegistry(); err != nil {
		return err
	}
	base := d.cfg.PayBase
	if base == "" {
		base = "http://" + d.http.Addr()
	}
	ob := d.cfg.OutboxCfg
	if d.svc, err = billing.New(billing.Config{DB: d.db, Rand: d.cfg.Rand, Now: d.cfg.Now, Log: d.log, Policy: d.cfg.Policy,
		Utility: d.cfg.Utility, PayKey: payKey, PayBaseURL: base, ContactKey: contactKey, Senders: d.senders, Outbox: ob}); err != nil {
		return err
	}
	hist := d.cfg.History
	if hist == nil && d.cfg.HistoryURL != "" {
		if !strings.Contains(d.cfg.HistoryURL, "{meter}") {
			return fmt.Errorf("billingd: history_url %q has no {meter}; fix: e.g. http://HOST:PORT/history?meter={meter}", d.cfg.HistoryURL)
		}
		hist = web.HTTPHistory{URL: d.cfg.HistoryURL}
	}
	if d.ui, err = web.New(d.svc, &web.Options{Log: d.log, Network: d.Network, History: hist}); err != nil {
		return err
	}
	return d.registerCustomers()
}

// key reads a 32-byte key from the data directory, creating it on first
// start.
func (d *Daemon) key(name string) ([]byte, error) {
	path := filepath.Join(d.cfg.DataDir, name)
	if b, err := os.ReadFile(path); err == nil {
		k, err := base64.StdEncoding.DecodeString(string(trimSpace(b)))
		if err != nil || len(k) != 32 {
			return nil, fmt.Errorf("billingd: %s does not hold a base64 32-byte key; fix: restore it from backup (bills signed with it need it), or remove it to start a new billing store", path)
		}
		return k, nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("billingd: %v", err)
	}
	k := make([]byte, 32)
	if _, err := io.ReadFull(d.cfg.Rand, k); err != nil {
		return nil, fmt.Errorf("billingd: key %s: %v", name, err)
	}
	if err := os.WriteFile(path, []byte(seal.EncodeKey(k)+"\n"), 0o600); err != nil {
		return nil, fmt.Errorf("billingd: %v", err)
	}
	return k, nil
}

func trimSpace(b []byte) []byte {
	for len(b) > 0 && (b[len(b)-1] == '\n' || b[len(b)-1] == '\r' || b[len(b)-1] == ' ') {
		b = b[:len(b)-1]
	}
	return b
}

// initRegistry creates the PII reveal key on first start and writes the
// officers' shares to DataDir/officers/, to be handed out and deleted.
func (d *Daemon) initRegistry() error {
	if _, err := customer.Open(d.db, &customer.Options{Rand: d.cfg.Rand}); err == nil {
		return nil
	} else if !errors.Is(err, customer.ErrNotInitialised) {
		return err
	}
	shares, err := customer.Init(d.db, d.cfg.Rand, d.cfg.Officers, d.cfg.Quorum)
	if err != nil {
		return err
	}
	dir := filepath.Join(d.cfg.DataDir, "officers")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("billingd: %v", err)
	}
	for i, s := range shares {
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("officer-%d.share", i+1)), []byte(seal.EncodeKey(s)+"\n"), 0o600); err != nil {
			return fmt.Errorf("billingd: %v", err)
		}
	}
	d.log.Warn("customer registry created: hand each officer one share file and delete them here",
		"dir", dir, "officers", d.cfg.Officers, "quorum", d.cfg.Quorum)
	return nil
}

// registerCustomers imports the customer CSV or synthesizes customers when
// the registry is empty.
func (d *Daemon) registerCustomers() error {
	have, err := d.svc.Customers().List()
	if err != nil || len(have) > 0 {
		return err
	}
	switch {
	case d.cfg.Customers != "":
		f, err := os.Open(d.cfg.Customers)
		if err != nil {
			return fmt.Errorf("billingd: customers: %v", err)
		}
		defer f.Close()
		n, err := d.svc.ImportCSV(f)
		if err != nil {
			return fmt.Errorf("billingd: %s: %w", d.cfg.Customers, err)
		}
		d.log.Info("customers imported", "file", d.cfg.Customers, "count", n)
	case d.cfg.Synthetic > 0:
		r := &d.net.Rules[ruleIndex(d.net, d.cfg.Rules[0].Rule)]
		n := min(d.cfg.Synthetic, len(r.Meters))
		cs := customer.Synthesize(1, n, d.cfg.Tariff, "")
		for i := range cs {
			cs[i].MeterID = d.net.Meters[r.Meters[i]]
			if err := d.svc.Customers().Put(cs[i]); err != nil {
				return fmt.Errorf("billingd: synthetic customer %s: %w", cs[i].ID, err)
			}
		}
		d.log.Info("synthetic customers registered (fictitious)", "count", n, "first_meter", cs[0].MeterID)
	}
	return nil
}
