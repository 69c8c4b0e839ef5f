// Package netconfig is the static network configuration every ppnet role
// reads: the PPNs with their x-coordinates and public keys, the consumers,
// the producers (a meter, or a concentrator with its meters), the rules and
// their assignment to PPNs, the round clock, and the stream names.
//
// # Notation
//
// Indexes are positions in the file's lists and are what travels on the
// wire: PPN n (0 ≤ n < N, at most 64 PPNs, x-coordinate x_n), producer s,
// meter m (numbered across producers in file order), rule r, consumer c.
// Round τ covers [t0 + τ·D, t0 + (τ+1)·D) and its deadline is the end of the
// round plus the grace G. A rule with window k groups rounds
// [w·k, (w+1)·k) into window w. A rule with a band B (round-of-day ranges,
// round-of-day = τ mod rounds.per_day) releases per window only the sum over
// its rounds in B; its window must be whole days, so every window has the
// same number R of in-band rounds, and its (meter, round) slots are the
// n·R in-band pairs (ResolvedRule.Row numbers them). A meter serves every PPN of every rule that
// includes it; its polynomial has degree < t and is evaluated once per PPN it
// serves.
//
// The configuration is a YAML file ([Load]); [Config.Resolve] checks it and
// builds the indexes the roles use ([Network]). Configuration comes from the
// configurator in later epochs; this package is the static form.
package netconfig

import (
	"bytes"
	"fmt"
	"os"
	"regexp"
	"time"

	"gopkg.in/yaml.v3"
)

// Rule kinds.
const (
	KindSum         = "sum"          // one value per window: Σ over producers and rounds
	KindPerProducer = "per-producer" // one value per producer per window
)

// Config is the YAML form of a network configuration.
type Config struct {
	Epoch      uint32     `yaml:"epoch"`       // configuration epoch, ≥ 1
	Threshold  int        `yaml:"threshold"`   // t: shares needed to recover
	MaxReading uint64     `yaml:"max_reading"` // largest reading a meter may send (Wh); bounds every aggregate
	Rounds     Rounds     `yaml:"rounds"`
	Streams    Streams    `yaml:"streams"`
	PPNs       []PPN      `yaml:"ppns"`
	Consumers  []Consumer `yaml:"consumers"`
	Producers  []Producer `yaml:"producers"`
	Rules      []Rule     `yaml:"rules"`
}

// Rounds is the round clock.
type Rounds struct {
	Start    time.Time     `yaml:"start"`     // t0, start of round 0
	Duration time.Duration `yaml:"duration"`  // D, e.g. 15m
	Grace    time.Duration `yaml:"grace"`     // G, added to the end of a round to give its deadline
	Count    uint64        `yaml:"count"`     // rounds in this epoch; 0 means unbounded
	MaxAhead uint64        `yaml:"max_ahead"` // bundles more rounds than this past the first unsealed round are rejected (default 1024)
	PerDay   uint64        `yaml:"per_day"`   // rounds per day, for bands: round-of-day is τ mod per_day (96 for 15-minute rounds)
	// First is the global round number of this file's round 0: the
	// configurator's clock counts rounds across epochs, a file counts its
	// own from 0. Producers read their source at First + τ, so a meter's
	// readings continue across epochs. 0 in a hand-written file.
	First uint64 `yaml:"first,omitempty"`
}

// Streams names the JetStream streams and subjects.
type Streams struct {
	Prefix     string `yaml:"prefix"`     // subject prefix (default "ppnet")
	Bundles    string `yaml:"bundles"`    // stream of bundles and seals (default "PPNET_BUNDLES")
	Aggregates string `yaml:"aggregates"` // stream of aggregated shares (default "PPNET_AGGREGATES")
	Replicas   int    `yaml:"replicas"`   // stream replicas: 1, or 3 on a cluster (default 1)
	// MaxAge is how long both streams keep a message (default
	// DefaultStreamMaxAge; negative: forever). A PPN or consumer stopped
	// for longer loses what aged out: the PPN reports the gap
	// (ppnet_ppn_stream_gap_messages_total, /healthz) and withholds its
	// aggregates for the rounds the lost messages may have carried.
	MaxAge time.Duration `yaml:"max_age"`
	// MaxBytes caps each stream's size, oldest messages discarded first
	// (0: no cap).
	MaxBytes int64 `yaml:"max_bytes"`
}

// DefaultStreamMaxAge is Streams.MaxAge's default: 14 days, longer than
// any outage of a PPN or consumer an operator should let pass unnoticed,
// while bounding the bundle stream (1,000 concentrators of 1,000 meters at
// 15-minute rounds append about 4 GB a day).
const DefaultStreamMaxAge = 14 * 24 * time.Hour

// PPN is a privacy preserving node.
type PPN struct {
	ID        string `yaml:"id"`
	X         uint64 `yaml:"x"`          // public x-coordinate, 1 ≤ x < q, distinct
	PublicKey string `yaml:"public_key"` // base64 X25519
}

// Consumer is an information consumer.
type Consumer struct {
	ID        string `yaml:"id"`
	PublicKey string `yaml:"public_key"`
	Grant     *Grant `yaml:"grant,omitempty"` // what it is entitled to; optional (grant.go)
}

// Producer is a meter, or a concentrator that sends for many meters.
type Producer struct {
	ID        string   `yaml:"id"`
	PublicKey string   `yaml:"public_key"`
	Meters    []string `yaml:"meters"` // meter ids; empty means the producer is the single meter named ID
	Chunk     int      `yaml:"chunk"`  // most meters per bundle (default 4096)
}

// Rule is a consumer's aggregation rule, resolved to meters and assigned
// to PPNs.
type Rule struct {
	ID           string   `yaml:"id"`
	Consumer     string   `yaml:"consumer"`
	Kind         string   `yaml:"kind"`           // "sum" or "per-producer"
	WindowRounds uint64   `yaml:"window_rounds"`  // k
	Meters       []string `yaml:"meters"`         // the resolved producer set Π
	PPNs         []string `yaml:"ppns"`           // the w PPNs assigned, w ≥ threshold
	Band         *Band    `yaml:"band,omitempty"` // optional time-of-use band
}

// Band restricts a rule to the rounds whose round-of-day (τ mod
// rounds.per_day) lies in one of its half-open ranges [from, to). Windows
// still tile all rounds; a window's value covers only its in-band rounds.
type Band struct {
	Name   string      `yaml:"name,omitempty"` // the tariff band it measures, e.g. "peak"
	Rounds [][2]uint64 `yaml:"rounds"`         // round-of-day ranges [from, to), e.g. [[72, 88]] = 18:00–22:00
}

var idPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// Load reads and resolves a configuration file.
func Load(path string) (*Network, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("netconfig: %v; pass the network file with --network", err)
	}
	c, err := Parse(b)
	if err != nil {
		return nil, fmt.Errorf("%w (in %s)", err, path)
	}
	return c.Resolve()
}

// Parse decodes YAML strictly: unknown fields are errors.
func Parse(b []byte) (*Config, error) {
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	var c Config
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("netconfig: %v", err)
	}
	return &c, nil
}

// Marshal encodes c as YAML.
func (c *Config) Marshal() ([]byte, error) { return yaml.Marshal(c) }

// defaults fills unset optional fields.
func (c *Config) defaults() {
	if c.Rounds.MaxAhead == 0 {
		c.Rounds.MaxAhead = 1024
	}
	if c.Streams.Prefix == "" {
		c.Streams.Prefix = "ppnet"
	}
	if c.Streams.Bundles == "" {
		c.Streams.Bundles = "PPNET_BUNDLES"
	}
	if c.Streams.Aggregates == "" {
		c.Streams.Aggregates = "PPNET_AGGREGATES"
	}
	if c.Streams.Replicas == 0 {
		c.Streams.Replicas = 1
	}
	if c.Streams.MaxAge == 0 {
		c.Streams.MaxAge = DefaultStreamMaxAge
	}
	if c.MaxReading == 0 {
		c.MaxReading = 10_000_000
	}
	for i := range c.Producers {
		if c.Producers[i].Chunk == 0 {
			c.Producers[i].Chunk = 4096
		}
	}
}
