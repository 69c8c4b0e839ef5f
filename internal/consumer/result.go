package consumer

// Result is one recovered aggregate, as stored, served over HTTP and
// printed as a JSON line.
type Result struct {
	Consumer     string           `json:"consumer"`
	Rule         string           `json:"rule"`
	Kind         string           `json:"kind"`
	WindowStart  uint64           `json:"window_start"`
	WindowRounds uint64           `json:"window_rounds"`
	Value        *int64           `json:"value,omitempty"`  // sum rules
	Values       map[string]int64 `json:"values,omitempty"` // per-producer rules: meter → value
	Covered      uint64           `json:"covered"`          // (meter, round) pairs included
	Missing      [][2]any         `json:"missing"`          // [meter, round] pairs not included
	PPNs         []string         `json:"ppns"`             // PPNs whose shares were combined
	Faulty       []string         `json:"faulty,omitempty"` // PPNs whose shares were wrong and corrected for
	// Mismatched lists PPNs whose coverage digest differed from the
	// majority's: their shares were not combined.
	Mismatched []string `json:"mismatched,omitempty"`
	Checked    bool     `json:"checked"` // more than t shares: verified on one polynomial
	Final      bool     `json:"final"`   // all w shares arrived, or the settle time passed
	Error      string   `json:"error,omitempty"`
	// Withheld, when set, says why the release-time policy check kept
	// this result back (gate.go); Value and Values are then empty.
	Withheld *Withheld `json:"withheld,omitempty"`
	// Epoch and FirstRound are set when the consumer follows epochs
	// (--kv): the configuration epoch of the result, and the global round
	// of its round 0, so the window covers global rounds FirstRound +
	// WindowStart onwards (WindowStart and Missing count the epoch's own
	// rounds, from 0).
	Epoch      uint32 `json:"epoch,omitempty"`
	FirstRound uint64 `json:"first_round,omitempty"`
}
