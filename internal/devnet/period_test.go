package devnet

import (
	"strings"
	"testing"
	"time"

	"github.com/ppnet/ppnet/internal/billing/bill"
	"github.com/ppnet/ppnet/internal/billing/tariff"
)

// TestDemoPeriod: the default demo month is this month while the tariff is
// valid for it, else the tariff's last valid month, said so; either way the
// schedule covers it, so the demo bills are priced, not held.
func TestDemoPeriod(t *testing.T) {
	for _, tc := range []struct {
		now, want string
		moved     bool
	}{
		{"2025-11-15", "2025-11", false},
		{"2026-03-31", "2026-03", false},
		{"2026-12-03", "2026-03", true},
		{"2024-01-01", "2026-03", true},
	} {
		now, _ := time.ParseInLocation(time.DateOnly, tc.now, bill.India)
		for _, id := range []string{"", "example-tod-lt2a"} {
			got, why, err := demoPeriod(id, now.Add(12*time.Hour))
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want || (why != "") != tc.moved {
				t.Fatalf("%s %q: %s (%q), want %s moved %v", tc.now, id, got, why, tc.want, tc.moved)
			}
			if tc.moved && !strings.Contains(why, "2025-04-01 to 2026-03-31") {
				t.Fatalf("reason %q does not give the validity", why)
			}
			s, _ := tariff.Load(map[string]string{"": tariff.DefaultID}[id] + id)
			if err := s.CheckPeriod(got); err != nil {
				t.Fatalf("demo month outside the tariff: %v", err)
			}
		}
	}
}
