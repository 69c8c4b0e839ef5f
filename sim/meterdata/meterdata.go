// Package meterdata reads and writes smart-meter interval data as CSV, for
// real meter exports and for the synthetic households of package
// sim/household alike.
//
// # Format
//
// UTF-8 CSV (RFC 4180), one reading per row, with a header row. Lines
// starting with '#' are comments. The header is
//
//	meter,start,wh
//
// optionally followed by the ground-truth columns of synthetic data:
//
//		meter,start,wh,active_occupants,occupied,appliances
//
//	  - meter: the meter's id, 1–64 characters, no control characters, not
//	    starting with '#'.
//	  - start: the instant the interval begins, RFC 3339 with a zone, e.g.
//	    2026-01-05T00:15:00Z or 2026-01-05T05:45:00+05:30.
//	  - wh: the energy of the interval in whole watt-hours, signed (export to
//	    the grid is negative), at most 10^12 in magnitude.
//	  - active_occupants: residents at home and awake, 0–64.
//	  - occupied: true or false.
//	  - appliances: the appliances that ran, names joined by '+' (empty if
//	    none), e.g. fridge+tv.
//
// Rows need not be sorted; the interval length is not stored (it is the
// data set's, e.g. 15 minutes).
package meterdata

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// MaxWh bounds the magnitude of one reading, in Wh.
const MaxWh = 1_000_000_000_000

var (
	baseHeader  = []string{"meter", "start", "wh"}
	truthHeader = []string{"active_occupants", "occupied", "appliances"}
)

// Record is one interval reading of one meter.
type Record struct {
	Meter string
	Start time.Time
	Wh    int64
	// Truth is the ground truth of synthetic data; nil for real data.
	Truth *Truth
}

// Truth is what a synthetic household really did in the interval.
type Truth struct {
	ActiveOccupants int
	Occupied        bool
	Appliances      []string // names of the appliances that ran
}

// Reader reads records from a CSV stream.
type Reader struct {
	r     *csv.Reader
	truth bool
}

// NewReader reads the header from r and returns a Reader for the rows.
func NewReader(r io.Reader) (*Reader, error) {
	cr := csv.NewReader(r)
	cr.Comment = '#'
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	h, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("meterdata: empty input; the first row must be the header %q", strings.Join(baseHeader, ","))
	}
	if err != nil {
		return nil, fmt.Errorf("meterdata: header: %w", err)
	}
	rd := &Reader{r: cr}
	switch {
	case equal(h, baseHeader):
	case equal(h, append(append([]string(nil), baseHeader...), truthHeader...)):
		rd.truth = true
	default:
		return nil, fmt.Errorf("meterdata: header %q: want %q, optionally followed by %q",
			strings.Join(h, ","), strings.Join(baseHeader, ","), ","+strings.Join(truthHeader, ","))
	}
	cr.FieldsPerRecord = len(h)
	return rd, nil
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if strings.TrimSpace(strings.ToLower(a[i])) != b[i] {
			return false
		}
	}
	return true
}

// HasTruth reports whether the stream carries ground-truth columns.
func (r *Reader) HasTruth() bool { return r.truth }

// Read returns the next record, or io.EOF after the last.
func (r *Reader) Read() (Record, error) {
	row, err := r.r.Read()
	if errors.Is(err, io.EOF) {
		return Record{}, io.EOF
	}
	if err != nil {
		return Record{}, fmt.Errorf("meterdata: %w", err)
	}
	line, _ := r.r.FieldPos(0)
	rec, err := parseRow(row, r.truth)
	if err != nil {
		return Record{}, fmt.Errorf("meterdata: line %d: %w", line, err)
	}
	return rec, nil
}

func parseRow(row []string, truth bool) (Record, error) {
	var rec Record
	if err := checkMeter(row[0]); err != nil {
		return rec, err
	}
	rec.Meter = row[0]
	t, err := time.Parse(time.RFC3339, row[1])
	if err != nil {
		return rec, fmt.Errorf("start %q is not an RFC 3339 time; write e.g. 2026-01-05T00:15:00Z", row[1])
	}
	rec.Start = t
	wh, err := strconv.ParseInt(row[2], 10, 64)
	if err != nil || wh > MaxWh || wh < -MaxWh {
		return rec, fmt.Errorf("wh %q is not an integer within ±10^12; give whole watt-hours", row[2])
	}
	rec.Wh = wh
	if !truth {
		return rec, nil
	}
	tr := &Truth{}
	n, err := strconv.Atoi(row[3])
	if err != nil || n < 0 || n > 64 {
		return rec, fmt.Errorf("active_occupants %q is not an integer 0–64", row[3])
	}
	tr.ActiveOccupants = n
	switch row[4] {
	case "true":
		tr.Occupied = true
	case "false":
	default:
		return rec, fmt.Errorf("occupied %q: write true or false", row[4])
	}
	if row[5] != "" {
		for _, a := range strings.Split(row[5], "+") {
			if !checkAppliance(a) {
				return rec, fmt.Errorf("appliances %q: give names joined by '+', e.g. fridge+tv", row[5])
			}
			tr.Appliances = append(tr.Appliances, a)
		}
	}
	rec.Truth = tr
	return rec, nil
}

func checkMeter(id string) error {
	if id == "" || len(id) > 64 {
		return fmt.Errorf("meter id %q must have 1 to 64 characters", id)
	}
	if strings.ContainsFunc(id, unicode.IsControl) || strings.HasPrefix(id, "#") {
		return fmt.Errorf("meter id %q contains a control character or starts with '#'", id)
	}
	return nil
}

func checkAppliance(a string) bool {
	return a != "" && !strings.ContainsFunc(a, func(r rune) bool {
		return unicode.IsControl(r) || r == '+' || r == ',' || r == '"'
	})
}

// Writer writes records as CSV.
type Writer struct {
	w     *csv.Writer
	truth bool
	row   []string
	err   error
}

// NewWriter writes the header to w; truth selects the ground-truth columns.
func NewWriter(w io.Writer, truth bool) *Writer {
	wr := NewRowWriter(w, truth)
	wr.err = wr.w.Write(Header(truth))
	return wr
}

// NewRowWriter is NewWriter without the header: for chunks written in
// parallel and concatenated under one header.
func NewRowWriter(w io.Writer, truth bool) *Writer {
	return &Writer{w: csv.NewWriter(w), truth: truth, row: make([]string, len(Header(truth)))}
}

// Header returns the header row; truth selects the ground-truth columns.
func Header(truth bool) []string {
	if truth {
		return append(append([]string(nil), baseHeader...), truthHeader...)
	}
	return append([]string(nil), baseHeader...)
}

// Write writes one record. A record without Truth is written with empty
// ground truth if the Writer has the columns.
func (w *Writer) Write(r Record) error {
	if w.err != nil {
		return w.err
	}
	if err := checkMeter(r.Meter); err != nil {
		return fmt.Errorf("meterdata: %w", err)
	}
	if r.Wh > MaxWh || r.Wh < -MaxWh {
		return fmt.Errorf("meterdata: wh %d exceeds ±10^12", r.Wh)
	}
	w.row[0] = r.Meter
	w.row[1] = r.Start.Format(time.RFC3339Nano)
	w.row[2] = strconv.FormatInt(r.Wh, 10)
	if w.truth {
		tr := r.Truth
		if tr == nil {
			tr = &Truth{}
		}
		if tr.ActiveOccupants < 0 || tr.ActiveOccupants > 64 {
			return fmt.Errorf("meterdata: %d active occupants; the format allows 0–64", tr.ActiveOccupants)
		}
		for _, a := range tr.Appliances {
			if !checkAppliance(a) {
				return fmt.Errorf("meterdata: appliance name %q is empty or holds '+', ',', '\"' or a control character", a)
			}
		}
		w.row[3] = strconv.Itoa(tr.ActiveOccupants)
		w.row[4] = strconv.FormatBool(tr.Occupied)
		w.row[5] = strings.Join(tr.Appliances, "+")
	}
	if err := w.w.Write(w.row); err != nil {
		w.err = fmt.Errorf("meterdata: %w", err)
	}
	return w.err
}

// Flush writes buffered rows and reports any write error.
func (w *Writer) Flush() error {
	w.w.Flush()
	if err := w.w.Error(); err != nil {
		return fmt.Errorf("meterdata: %w", err)
	}
	return w.err
}
