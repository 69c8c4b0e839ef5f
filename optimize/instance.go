package optimize

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"iter"
	"slices"
)

// ProducerSet is the set of producers one consumer aggregates (the row
// A_c· of the membership matrix). Implementations may be explicit lists or
// generated on the fly, so that A is never materialised.
type ProducerSet interface {
	// Len returns M_c, the number of producers in the set.
	Len() int
	// All yields the producer indices in increasing order.
	All() iter.Seq[int]
}

// List is an explicit, sorted producer set.
type List []int

// Len returns the number of producers in the list.
func (l List) Len() int { return len(l) }

// All yields the producers of the list in order.
func (l List) All() iter.Seq[int] {
	return func(yield func(int) bool) {
		for _, p := range l {
			if !yield(p) {
				return
			}
		}
	}
}

// Consumer is an information consumer and the producers it aggregates.
type Consumer struct {
	// ID names the consumer in plans and error messages.
	ID string
	// Producers is the consumer's producer set; its Len is M_c.
	Producers ProducerSet
}

// Limits on instance size, so a typo in a file cannot ask for terabytes.
const (
	// MaxProducers bounds |P|.
	MaxProducers = 1<<31 - 1
	// MaxPPNs bounds the number of candidate PPNs.
	MaxPPNs = 1 << 20
)

// Instance is one minPPN problem.
type Instance struct {
	// W is the number of distinct PPNs that serve every consumer (w ≥ t).
	W int
	// L is the capacity of every PPN in sums per round, used when
	// Capacities is nil.
	L int64
	// Capacities, when not nil, gives each candidate PPN its own capacity;
	// its length is the number of candidates.
	Capacities []int64
	// Producers is |P|; producers are numbered 0..Producers−1.
	Producers int
	// Consumers lists the consumers in a fixed order.
	Consumers []Consumer
	// PPNs is the number of candidate PPNs, |N|. Zero means the default
	// w·|C|, enough for any instance whose consumers each fit one PPN.
	PPNs int
}

// Candidates returns the number of candidate PPNs, |N|.
func (in *Instance) Candidates() int {
	switch {
	case in.Capacities != nil:
		return len(in.Capacities)
	case in.PPNs > 0:
		return in.PPNs
	}
	return in.W * len(in.Consumers)
}

// Capacity returns L_n, the capacity of candidate PPN n.
func (in *Instance) Capacity(n int) int64 {
	if in.Capacities != nil {
		return in.Capacities[n]
	}
	return in.L
}

// Uniform reports whether all candidates have the same capacity, so that
// PPNs are interchangeable (which symmetry breaking relies on).
func (in *Instance) Uniform() bool {
	for _, c := range in.Capacities {
		if c != in.Capacities[0] {
			return false
		}
	}
	return true
}

// Sizes returns M_c for every consumer, in order.
func (in *Instance) Sizes() []int64 {
	m := make([]int64, len(in.Consumers))
	for i, c := range in.Consumers {
		m[i] = int64(c.Producers.Len())
	}
	return m
}

// Validate checks the instance and returns an error wrapping ErrInstance
// that names the first problem and how to fix it. Explicit producer lists
// are checked to be sorted, without duplicates, and within 0..Producers−1.
func (in *Instance) Validate() error {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w: "+format, append([]any{ErrInstance}, a...)...)
	}
	switch {
	case in.W < 1:
		return bad("w = %d; set \"w\" to the number of shares each consumer needs (≥ 1, usually t = 4)", in.W)
	case in.Producers < 1:
		return bad("producers = %d; set \"producers\" to |P| ≥ 1", in.Producers)
	case len(in.Consumers) == 0:
		return bad("no consumers; list at least one under \"consumers\"")
	case in.Capacities == nil && in.L < 1:
		return bad("L = %d; set \"L\" to the PPN capacity in sums per round (≥ 1) or give \"capacities\"", in.L)
	case in.Producers > MaxProducers:
		return bad("producers = %d exceeds %d; split the instance by region", in.Producers, MaxProducers)
	case in.Candidates() > MaxPPNs:
		return bad("%d candidate PPNs exceeds %d; no plan uses more than w·|C| PPNs, so give at most that many", in.Candidates(), MaxPPNs)
	case in.PPNs < 0:
		return bad("ppns = %d; give the number of candidate PPNs (≥ w) or omit it", in.PPNs)
	case in.Capacities != nil && in.PPNs != 0 && in.PPNs != len(in.Capacities):
		return bad("ppns = %d but %d capacities; give one capacity per candidate PPN or omit \"ppns\"", in.PPNs, len(in.Capacities))
	}
	for n, c := range in.Capacities {
		if c < 1 {
			return bad("capacity of PPN %d is %d; capacities must be ≥ 1", n, c)
		}
	}
	if nc := in.Candidates(); nc < in.W {
		return bad("%d candidate PPNs but w = %d; give at least w candidates", nc, in.W)
	}
	seen := make(map[string]int, len(in.Consumers))
	for i, c := range in.Consumers {
		if c.ID == "" {
			return bad("consumer %d has no id; give every consumer a unique \"id\"", i)
		}
		if j, dup := seen[c.ID]; dup {
			return bad("consumers %d and %d share the id %q; ids must be unique", j, i, c.ID)
		}
		seen[c.ID] = i
		if err := in.validateSet(c); err != nil {
			return err
		}
	}
	return in.checkFit()
}

func (in *Instance) validateSet(c Consumer) error {
	if c.Producers == nil || c.Producers.Len() == 0 {
		return fmt.Errorf("%w: consumer %q has no producers; give it a non-empty \"producers\" list or remove it", ErrInstance, c.ID)
	}
	l, ok := c.Producers.(List)
	if !ok {
		return nil
	}
	for i, p := range l {
		if p < 0 || p >= in.Producers {
			return fmt.Errorf("%w: consumer %q lists producer %d, outside 0..%d; producers are numbered from 0 below \"producers\"", ErrInstance, c.ID, p, in.Producers-1)
		}
		if i > 0 && l[i-1] >= p {
			return fmt.Errorf("%w: consumer %q lists producer %d after %d; list each producer once, in increasing order", ErrInstance, c.ID, p, l[i-1])
		}
	}
	return nil
}

// checkFit rejects consumers that fewer than w candidates can serve.
func (in *Instance) checkFit() error {
	caps := make([]int64, in.Candidates())
	for n := range caps {
		caps[n] = in.Capacity(n)
	}
	slices.Sort(caps)
	for _, c := range in.Consumers {
		m := int64(c.Producers.Len())
		fit := len(caps) - sortSearch(caps, m)
		if fit < in.W {
			return fmt.Errorf("%w: consumer %q aggregates %d producers but only %d candidate PPNs have that capacity and w = %d; raise L, add candidates, or split the consumer", ErrInstance, c.ID, m, fit, in.W)
		}
	}
	return nil
}

// sortSearch returns the first index i with caps[i] ≥ m.
func sortSearch(caps []int64, m int64) int {
	i, _ := slices.BinarySearch(caps, m)
	return i
}

// instanceJSON is the wire form of an instance file.
type instanceJSON struct {
	W          int            `json:"w"`
	L          int64          `json:"L,omitempty"`
	Capacities []int64        `json:"capacities,omitempty"`
	Producers  int            `json:"producers"`
	Consumers  []consumerJSON `json:"consumers"`
	PPNs       int            `json:"ppns,omitempty"`
}

type consumerJSON struct {
	ID        string `json:"id"`
	Producers []int  `json:"producers"`
}

// ReadInstance decodes and validates a JSON instance:
//
//	{"w": 4, "L": 8000, "producers": 1000, "ppns": 22,
//	 "consumers": [{"id": "c1", "producers": [0, 5, 17]}, ...]}
//
// "ppns" (number of candidates) and "capacities" (one per candidate,
// replacing L) are optional. Unknown fields are rejected, so a misspelt
// field is reported rather than ignored.
func ReadInstance(r io.Reader) (*Instance, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("optimize: reading instance: %w", err)
	}
	return ParseInstance(data)
}

// ParseInstance is ReadInstance on a byte slice.
func ParseInstance(data []byte) (*Instance, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var raw instanceJSON
	if err := dec.Decode(&raw); err != nil {
		return nil, fmt.Errorf("%w: not a JSON instance (%v); see docs/minppn.md for the format", ErrInstance, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("%w: trailing data after the instance object; a file holds one instance", ErrInstance)
	}
	in := &Instance{W: raw.W, L: raw.L, Capacities: raw.Capacities, Producers: raw.Producers, PPNs: raw.PPNs}
	for _, c := range raw.Consumers {
		in.Consumers = append(in.Consumers, Consumer{ID: c.ID, Producers: List(c.Producers)})
	}
	if err := in.Validate(); err != nil {
		return nil, err
	}
	return in, nil
}

// WriteJSON encodes the instance in the format ReadInstance reads. Producer
// sets are written out in full, so this is for small instances.
func (in *Instance) WriteJSON(w io.Writer) error {
	raw := instanceJSON{W: in.W, L: in.L, Capacities: in.Capacities, Producers: in.Producers, PPNs: in.PPNs}
	for _, c := range in.Consumers {
		ps := make([]int, 0, c.Producers.Len())
		for p := range c.Producers.All() {
			ps = append(ps, p)
		}
		raw.Consumers = append(raw.Consumers, consumerJSON{ID: c.ID, Producers: ps})
	}
	enc := json.NewEncoder(w)
	return enc.Encode(raw)
}

// ranger is implemented by producer sets that can iterate a sub-range of
// producers without scanning the rest.
type ranger interface {
	Range(lo, hi int) iter.Seq[int]
}

// rangeOf yields the members p of s with lo ≤ p < hi.
func rangeOf(s ProducerSet, lo, hi int) iter.Seq[int] {
	if r, ok := s.(ranger); ok {
		return r.Range(lo, hi)
	}
	return func(yield func(int) bool) {
		for p := range s.All() {
			if p >= hi {
				return
			}
			if p >= lo && !yield(p) {
				return
			}
		}
	}
}

// Range yields the members of the list in [lo, hi).
func (l List) Range(lo, hi int) iter.Seq[int] {
	i, _ := slices.BinarySearch(l, lo)
	return func(yield func(int) bool) {
		for _, p := range l[i:] {
			if p >= hi || !yield(p) {
				return
			}
		}
	}
}
