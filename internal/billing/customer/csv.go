package customer

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math/big"
	"slices"
	"strings"
)

// CSVHeader is the header line ReadCSV expects and WriteCSV writes.
var CSVHeader = []string{"customer_id", "name", "email", "phone", "street", "locality", "city", "pin",
	"account_number", "sanctioned_load_kw", "tariff", "meter_id"}

// maxCSVRows bounds one import.
const maxCSVRows = 1_000_000

// ReadCSV decodes and validates customers from CSV with the CSVHeader
// columns (in any order). Errors name the line and column.
func ReadCSV(r io.Reader) ([]Customer, error) {
	cr := csv.NewReader(r)
	cr.ReuseRecord = false
	head, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("customer: csv: empty input; fix: start with the header %s", strings.Join(CSVHeader, ","))
	}
	if err != nil {
		return nil, fmt.Errorf("customer: csv: %w", err)
	}
	col := map[string]int{}
	for i, h := range head {
		col[strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))] = i
	}
	for _, h := range CSVHeader {
		if _, ok := col[h]; !ok {
			return nil, fmt.Errorf("customer: csv: missing column %q; fix: the header needs %s", h, strings.Join(CSVHeader, ","))
		}
	}
	var out []Customer
	seen := map[string]int{}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("customer: csv: %w", err)
		}
		line, _ := cr.FieldPos(0)
		if len(out) >= maxCSVRows {
			return nil, fmt.Errorf("customer: csv: more than %d rows; fix: split the import", maxCSVRows)
		}
		get := func(h string) string { return strings.TrimSpace(rec[col[h]]) }
		load, err := parseKW(get("sanctioned_load_kw"))
		if err != nil {
			return nil, fmt.Errorf("customer: csv line %d: sanctioned_load_kw %q: %v; fix: give kW as a decimal, e.g. 1.5", line, get("sanctioned_load_kw"), err)
		}
		c := Customer{
			ID: get("customer_id"), Name: get("name"), Email: get("email"), Phone: get("phone"),
			Address:       Address{Street: get("street"), Locality: get("locality"), City: get("city"), PIN: get("pin")},
			AccountNumber: get("account_number"), SanctionedLoadW: load, Tariff: get("tariff"), MeterID: get("meter_id"),
		}
		if err := c.Validate(); err != nil {
			return nil, fmt.Errorf("customer: csv line %d: %w", line, err)
		}
		if prev, dup := seen[c.ID]; dup {
			return nil, fmt.Errorf("customer: csv line %d: customer id %q already on line %d; fix: ids must be unique", line, c.ID, prev)
		}
		seen[c.ID] = line
		out = append(out, c)
	}
}

// parseKW turns a decimal kW figure into whole watts.
func parseKW(s string) (int64, error) {
	r, ok := new(big.Rat).SetString(s)
	if !ok || strings.ContainsAny(s, "/eE") {
		return 0, errors.New("not a decimal number")
	}
	w := new(big.Rat).Mul(r, big.NewRat(1000, 1))
	if !w.IsInt() {
		return 0, errors.New("finer than 1 W")
	}
	if w.Sign() <= 0 || w.Cmp(big.NewRat(10_000_000, 1)) > 0 {
		return 0, errors.New("out of range 0..10000 kW")
	}
	return w.Num().Int64(), nil
}

// WriteCSV encodes customers (with their PII) in the ReadCSV format.
func WriteCSV(w io.Writer, cs []Customer) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(CSVHeader); err != nil {
		return fmt.Errorf("customer: csv: %w", err)
	}
	for _, c := range cs {
		kw := fmt.Sprintf("%d.%03d", c.SanctionedLoadW/1000, c.SanctionedLoadW%1000)
		rec := []string{c.ID, c.Name, c.Email, c.Phone, c.Address.Street, c.Address.Locality, c.Address.City, c.Address.PIN,
			c.AccountNumber, kw, c.Tariff, c.MeterID}
		if err := cw.Write(slices.Clone(rec)); err != nil {
			return fmt.Errorf("customer: csv: %w", err)
		}
	}
	cw.Flush()
	return cw.Error()
}
