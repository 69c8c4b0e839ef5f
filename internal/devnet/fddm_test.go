package devnet

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ppnet/ppnet/internal/producer"
)

// TestFDDMMaskingKeepsBills runs the whole FDDM story on a secured devnet:
// FedAvg rounds through the network (every participant in every round),
// the billing month, then the period close, after which the meters' producers
// mask their stored history. The bills — computed from exact aggregates
// before the close — are the same after masking, while the masked histories
// no longer sum to them; the model and a masked history sample are left in
// the output directory, suppressed readings without a value.
func TestFDDMMaskingKeepsBills(t *testing.T) {
	out := t.TempDir()
	o := Options{Meters: 20, Producers: 2, Rounds: 32, Round: 100 * time.Millisecond, Grace: 200 * time.Millisecond,
		Settle: 2 * time.Second, DataDir: t.TempDir(), Out: out, Secure: true,
		FDDM: &FDDM{Participants: 4, Rounds: 3}}
	b := BillingOptions{Customers: 6, Period: "2026-03"}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var sb strings.Builder
	rep, err := RunWithBilling(ctx, o, b, &sb)
	t.Log("\n" + sb.String())
	if err != nil {
		t.Fatal(err)
	}
	if rep.Mismatches != 0 {
		t.Fatalf("%d results differ from the plain sums", rep.Mismatches)
	}
	m := rep.FDDM
	if m == nil {
		t.Fatal("no FDDM report")
	}
	if len(m.Rounds) != 3 {
		t.Fatalf("%d FedAvg rounds, want 3", len(m.Rounds))
	}
	for _, r := range m.Rounds {
		if r.Contributors != 4 || r.Carried {
			t.Errorf("FedAvg round %d: %d contributions (carried %v), want all 4", r.Round, r.Contributors, r.Carried)
		}
	}
	if m.Readings != 20*32 {
		t.Fatalf("%d readings in the masked period, want %d", m.Readings, 20*32)
	}
	if m.Masked["suppress"] == 0 || m.MaskedShare() > 0.5 {
		t.Fatalf("masked %v of %d readings: want some, at most half", m.Masked, m.Readings)
	}
	if m.BillsChecked != 6 || m.BillsChanged != 0 {
		t.Fatalf("%d of %d bills changed after masking", m.BillsChanged, m.BillsChecked)
	}
	if m.HistoryDiffers == 0 {
		t.Fatal("every masked history still sums to its bill: masking changed nothing a bill depends on")
	}
	var h producer.HistoryResponse
	raw, err := os.ReadFile(filepath.Join(out, "fddm", "masked-history-m00001.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &h); err != nil {
		t.Fatal(err)
	}
	suppressed := 0
	for _, r := range h.Readings {
		if r.Masked != (r.Mask == "suppress") || (r.Masked && r.Wh != nil) {
			t.Fatalf("history reading %+v: masked, kind and value disagree", r)
		}
		if r.Masked {
			suppressed++
		}
	}
	if len(h.Readings) != 32 || suppressed == 0 {
		t.Fatalf("history sample: %d readings, %d suppressed", len(h.Readings), suppressed)
	}
	if _, err := os.Stat(filepath.Join(out, "fddm", "fddm-model.json")); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(out, "billing", "bills.jsonl")); err != nil {
		t.Fatal(err)
	}
}
