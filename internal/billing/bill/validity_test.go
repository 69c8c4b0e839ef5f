package bill

import (
	"strings"
	"testing"

	"github.com/ppnet/ppnet/internal/billing/tariff"
)

// TestComposeOutsideValidity: a period outside the schedule's valid_from …
// valid_to (FY2025-26: 2025-04-01 to 2026-03-31) is held, however complete
// its data, with the schedule and both date ranges in the reason; the first
// and last months of the year are billed.
func TestComposeOutsideValidity(t *testing.T) {
	flat := schedule(t, tariff.DefaultID)
	src := []Totals{totals("", 250_000, 2976, 0)}
	for _, tc := range []struct {
		period string
		held   bool
	}{{"2025-03", true}, {"2025-04", false}, {"2026-03", false}, {"2026-04", true}, {"2026-12", true}} {
		b, err := Compose(cust(), flat, tc.period, src, Policy{}, now)
		if err != nil {
			t.Fatal(err)
		}
		if (b.Status == StatusHeld) != tc.held {
			t.Fatalf("%s: status %s (%q), want held %v", tc.period, b.Status, b.HoldReason, tc.held)
		}
		if !tc.held {
			if b.TotalPaise == 0 {
				t.Fatalf("%s: issued without an amount", tc.period)
			}
			continue
		}
		for _, want := range []string{"kerc-lt2a-fy2025-26@v1", "2025-04-01", "2026-03-31", "period " + tc.period, "fix:"} {
			if !strings.Contains(b.HoldReason, want) {
				t.Fatalf("%s: hold reason %q lacks %q", tc.period, b.HoldReason, want)
			}
		}
		if b.TotalPaise != 0 || b.DueDate != "" || len(b.Sources) != 1 {
			t.Fatalf("%s: held bill %+v", tc.period, b)
		}
	}
}
