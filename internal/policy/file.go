package policy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"gopkg.in/yaml.v3"
)

// File is a rule set as written by a person: the producer registry with
// labels and declared maximum readings, the consumers with their grants,
// the rules, and the horizon the check covers. It is what
// `configurator check FILE` reads, as YAML or JSON.
type File struct {
	// Horizon is the number of rounds checked, from round 0. Zero (or
	// omitted) means the rule set's period ([File.Period]), which decides
	// every horizon; a shorter horizon decides only its own rounds.
	Horizon int `json:"horizon,omitempty" yaml:"horizon,omitempty"`
	// RoundsPerDay defines round-of-day for time-of-use bands
	// (96 for 15-minute rounds). Required only when a rule has a band.
	RoundsPerDay int `json:"rounds_per_day,omitempty" yaml:"rounds_per_day,omitempty"`
	// Producers is the registry.
	Producers []FileProducer `json:"producers" yaml:"producers"`
	// Consumers lists every consumer with its grant.
	Consumers []FileConsumer `json:"consumers" yaml:"consumers"`
	// Rules lists the rules asked for.
	Rules []FileRule `json:"rules" yaml:"rules"`
}

// FileProducer is one meter in the registry.
type FileProducer struct {
	// ID names the producer; unique.
	ID string `json:"id" yaml:"id"`
	// Labels are matched by rule selectors, e.g. feeder: F12.
	Labels map[string]string `json:"labels,omitempty" yaml:"labels,omitempty"`
	// Max is the declared largest magnitude of one reading (one round).
	Max uint64 `json:"max" yaml:"max"`
}

// FileConsumer is one consumer and its grant.
type FileConsumer struct {
	// ID names the consumer; unique.
	ID string `json:"id" yaml:"id"`
	// Grant is what the consumer is entitled to.
	Grant FileGrant `json:"grant" yaml:"grant"`
}

// FileGrant is a consumer's grant.
type FileGrant struct {
	// Kinds lists the rule kinds allowed: "sum", "per-producer".
	Kinds []string `json:"kinds" yaml:"kinds"`
	// MinWindow is the shortest stretch of rounds the consumer may learn a
	// total over (≥ 1).
	MinWindow int `json:"min_window" yaml:"min_window"`
	// MinCohort is K, the fewest producers whose total the consumer may
	// learn, unless it holds the per-producer kind (≥ 1).
	MinCohort int `json:"min_cohort" yaml:"min_cohort"`
}

// FileRule is one rule asked for.
type FileRule struct {
	// ID names the rule; unique.
	ID string `json:"id" yaml:"id"`
	// Consumer is the consumer the rule releases to.
	Consumer string `json:"consumer" yaml:"consumer"`
	// Producers selects the producer set Π.
	Producers FileSelection `json:"producers" yaml:"producers"`
	// Window is k, the number of rounds per window; windows tile time
	// from round 0: window j is rounds [j·k, (j+1)·k).
	Window int `json:"window" yaml:"window"`
	// Kind is "sum" or "per-producer".
	Kind string `json:"kind" yaml:"kind"`
	// Band optionally restricts the rule to rounds whose round-of-day
	// (round mod RoundsPerDay) lies in one of these half-open ranges
	// [from, to).
	Band [][2]int `json:"band,omitempty" yaml:"band,omitempty"`
}

// FileSelection selects producers by explicit ids, by a label selector, or
// both (the union), minus Exclude.
type FileSelection struct {
	// IDs lists producers explicitly.
	IDs []string `json:"ids,omitempty" yaml:"ids,omitempty"`
	// Selector is a comma-separated list of label=value terms, all of which
	// must match, e.g. "feeder=F12,phase=A".
	Selector string `json:"selector,omitempty" yaml:"selector,omitempty"`
	// Exclude removes producers from the selection.
	Exclude []string `json:"exclude,omitempty" yaml:"exclude,omitempty"`
}

// Decode reads a rule-set file. Input starting with '{' is read as JSON,
// anything else as YAML; unknown fields are errors in both, so a misspelt
// key is reported rather than ignored. Decode checks only the syntax;
// [Resolve] checks the content.
func Decode(r io.Reader) (*File, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("policy: reading rule-set file: %w", err)
	}
	f := new(File)
	if t := bytes.TrimSpace(data); len(t) > 0 && t[0] == '{' {
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.DisallowUnknownFields()
		if err := dec.Decode(f); err != nil {
			return nil, fmt.Errorf("policy: rule-set file is not valid JSON for this format: %v", err)
		}
		if dec.More() {
			return nil, errors.New("policy: rule-set file has data after its JSON object; put one object in the file")
		}
		return f, nil
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(f); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("policy: rule-set file is empty; it needs producers, consumers and rules (and optionally horizon)")
		}
		return nil, fmt.Errorf("policy: rule-set file is not valid YAML for this format: %v", err)
	}
	return f, nil
}
