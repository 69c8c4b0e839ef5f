package registry

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"gopkg.in/yaml.v3"
)

// MaxProducerFile bounds the size of a producer file DecodeProducers reads.
const MaxProducerFile = 256 << 20

// ProducerEntry is one meter in a producer file.
type ProducerEntry struct {
	ID        string            `yaml:"id"`               // meter id
	Labels    map[string]string `yaml:"labels,omitempty"` // e.g. feeder: F12
	Max       uint64            `yaml:"max"`              // declared largest reading
	PublicKey string            `yaml:"public_key"`       // X25519, base64
}

// DecodeProducers reads a producer file: a YAML (or JSON) list of entries
// with id, labels, max and public_key, for enrolling many meters at once.
// Unknown fields are errors. The entries are checked by AddProducers, not
// here.
func DecodeProducers(r io.Reader) ([]Producer, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxProducerFile+1))
	if err != nil {
		return nil, fmt.Errorf("registry: reading producer file: %v", err)
	}
	if len(data) > MaxProducerFile {
		return nil, fmt.Errorf("registry: producer file exceeds %d MiB; split it", MaxProducerFile>>20)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var es []ProducerEntry
	if err := dec.Decode(&es); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("registry: producer file is empty; list entries with id, labels, max, public_key")
		}
		return nil, fmt.Errorf("registry: producer file is not a YAML or JSON list of {id, labels, max, public_key}: %v", err)
	}
	ps := make([]Producer, len(es))
	for i, e := range es {
		ps[i] = Producer{ID: e.ID, Labels: e.Labels, Max: e.Max, PublicKey: e.PublicKey}
		if len(e.Labels) == 0 {
			ps[i].Labels = nil // "labels: {}" and no labels are the same
		}
	}
	return ps, nil
}
