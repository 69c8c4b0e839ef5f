package household

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"gopkg.in/yaml.v3"
)

// LoadOptions reads a YAML model file (see [ParseOptions]).
func LoadOptions(path string) (*Options, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("household: reading model file: %w", err)
	}
	o, err := ParseOptions(data)
	if err != nil {
		return nil, fmt.Errorf("%w (in %s)", err, path)
	}
	return o, nil
}

// ParseOptions decodes a YAML model and validates it. Fields the document
// leaves out keep the values of [DefaultOptions]; a list it gives (such as
// appliances) replaces the default list as a whole. Unknown fields are
// errors, so a misspelt key does not pass silently.
func ParseOptions(data []byte) (*Options, error) {
	o := DefaultOptions()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(o); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("household: model file: %v", err)
	}
	for i := range o.Appliances {
		if o.Appliances[i].Units == 0 {
			o.Appliances[i].Units = 1
		}
	}
	if err := o.Validate(); err != nil {
		return nil, err
	}
	return o, nil
}

// YAML returns o as a model file that ParseOptions reads back.
func (o *Options) YAML() ([]byte, error) {
	type plain Options // without methods
	var doc yaml.Node
	if err := doc.Encode((*plain)(o)); err != nil {
		return nil, fmt.Errorf("household: encoding model: %w", err)
	}
	// yaml.v3 writes a time.Duration as nanoseconds but reads only "15m0s".
	for i := 0; i+1 < len(doc.Content); i += 2 {
		if doc.Content[i].Value == "interval" {
			doc.Content[i+1] = &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: o.Interval.String()}
		}
	}
	return yaml.Marshal(&doc)
}

// UnmarshalYAML reads a window written "HH:MM-HH:MM".
func (w *Window) UnmarshalYAML(n *yaml.Node) error {
	var s string
	if err := n.Decode(&s); err != nil {
		return fmt.Errorf("line %d: window must be a string like \"18:00-23:00\"", n.Line)
	}
	v, err := ParseWindow(s)
	if err != nil {
		return fmt.Errorf("line %d: %w", n.Line, err)
	}
	*w = v
	return nil
}

// MarshalYAML writes the window as "HH:MM-HH:MM".
func (w Window) MarshalYAML() (any, error) { return w.String(), nil }

// ParseWindow parses "HH:MM-HH:MM" (the end may be "24:00").
func ParseWindow(s string) (Window, error) {
	from, to, ok := strings.Cut(strings.TrimSpace(s), "-")
	if !ok {
		return Window{}, fmt.Errorf("household: window %q: want \"HH:MM-HH:MM\", e.g. \"18:00-23:00\"", s)
	}
	f, err1 := parseClock(from)
	t, err2 := parseClock(to)
	if err := errors.Join(err1, err2); err != nil {
		return Window{}, fmt.Errorf("household: window %q: %w", s, err)
	}
	if f >= t {
		return Window{}, fmt.Errorf("household: window %q ends before it starts; split a window across midnight in two", s)
	}
	return Window{f, t}, nil
}

// parseClock parses "H:MM" or "HH:MM", the whole string but for spaces
// around it, from 00:00 to 24:00.
func parseClock(s string) (int, error) {
	hs, ms, ok := strings.Cut(strings.TrimSpace(s), ":")
	h, okH := digits(hs, 1, 2)
	m, okM := digits(ms, 2, 2)
	if !ok || !okH || !okM {
		return 0, fmt.Errorf("%q is not a time HH:MM (hours and two-digit minutes, nothing else), e.g. \"18:00\"", s)
	}
	if m > 59 || h*60+m > 1440 {
		return 0, fmt.Errorf("%q is outside 00:00–24:00", s)
	}
	return h*60 + m, nil
}

// digits parses s as a decimal number of lo to hi ASCII digits.
func digits(s string, lo, hi int) (int, bool) {
	if len(s) < lo || len(s) > hi {
		return 0, false
	}
	n := 0
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = 10*n + int(c-'0')
	}
	return n, true
}
