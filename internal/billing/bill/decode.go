package bill

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// Limits on a decoded batch of totals.
const (
	maxTotalsBytes = 256 << 20
	maxSources     = 64
)

// DecodeTotals reads a JSON array of Totals (field names as in the struct
// tags), rejecting unknown fields, trailing data and totals that fail the
// checks Compose applies.
func DecodeTotals(r io.Reader) ([]Totals, error) {
	dec := json.NewDecoder(io.LimitReader(r, maxTotalsBytes+1))
	dec.DisallowUnknownFields()
	var ts []Totals
	if err := dec.Decode(&ts); err != nil {
		return nil, fmt.Errorf("%w: JSON: %v; fix: send an array of {rule_id, band, first_round, last_round, digest, meters:[{meter_id, wh, rounds_covered, rounds_missing}]}", ErrInput, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("%w: JSON: data after the array; fix: send exactly one array", ErrInput)
	}
	if len(ts) > maxSources {
		return nil, fmt.Errorf("%w: %d sources; fix: at most %d released results per period", ErrInput, len(ts), maxSources)
	}
	for i := range ts {
		if err := ts[i].check(); err != nil {
			return nil, fmt.Errorf("source %d: %w", i+1, err)
		}
		seen := map[string]bool{}
		for _, m := range ts[i].Meters {
			if m.MeterID == "" || seen[m.MeterID] {
				return nil, fmt.Errorf("%w: rule %s lists meter %q twice or empty; fix: one entry per meter", ErrInput, ts[i].RuleID, m.MeterID)
			}
			seen[m.MeterID] = true
		}
	}
	if ts == nil {
		return nil, errors.Join(ErrInput, errors.New("bill: null instead of an array of totals"))
	}
	return ts, nil
}
