package bill

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestDecodeTotals(t *testing.T) {
	good := []Totals{totals("", 250_000, 2976, 0), totals("peak", 80_000, 450, 46)}
	b, _ := json.Marshal(good)
	got, err := DecodeTotals(bytes.NewReader(b))
	if err != nil || !reflect.DeepEqual(got, good) {
		t.Fatalf("round trip: %v", err)
	}
	tests := []struct{ name, in, want string }{
		{"unknown field", `[{"rule":"x"}]`, "unknown field"},
		{"trailing", string(b) + "[]", "data after the array"},
		{"null", `null`, "null instead"},
		{"bad window", `[{"rule_id":"r","digest":"d","first_round":5,"last_round":4}]`, "window 5..4"},
		{"duplicate meter", `[{"rule_id":"r","digest":"d","last_round":9,"meters":[{"meter_id":"a"},{"meter_id":"a"}]}]`, "twice"},
	}
	for _, tc := range tests {
		if _, err := DecodeTotals(strings.NewReader(tc.in)); !errors.Is(err, ErrInput) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
}

func FuzzDecodeTotals(f *testing.F) {
	b, _ := json.Marshal([]Totals{totals("", 250_000, 2976, 0), totals("off-peak", 1, 1, 1)})
	f.Add(b)
	f.Add([]byte(`[{"rule_id":"r","digest":"d","last_round":1,"meters":[{"meter_id":"m","wh":-1}]}]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		ts, err := DecodeTotals(bytes.NewReader(data))
		if err != nil {
			if !errors.Is(err, ErrInput) {
				t.Fatalf("error does not wrap ErrInput: %v", err)
			}
			return
		}
		for _, s := range ts {
			if err := s.check(); err != nil {
				t.Fatalf("accepted totals that fail the checks: %v", err)
			}
		}
		again, _ := json.Marshal(ts)
		if ts2, err := DecodeTotals(bytes.NewReader(again)); err != nil || !reflect.DeepEqual(ts, ts2) {
			t.Fatalf("round trip: %v", err)
		}
	})
}
