package fedavg

import (
	"errors"
	"fmt"
)

// Settings are the FedAvg parameters a coordinator and its participants
// must agree on when they run as separate daemons (docs/fddm.md): the
// component rules' prefix, which data-plane rounds carry FedAvg rounds,
// the codec's bound on samples, and the bucket of the global models. The
// number of participants N is not a setting: both sides read it from the
// network (the producers of the component rules), so their codecs agree.
type Settings struct {
	Prefix     string `yaml:"prefix"`      // component rule prefix (default "fedavg")
	First      uint64 `yaml:"first"`       // data-plane round carrying FedAvg round 0
	Stride     uint64 `yaml:"stride"`      // data-plane rounds per FedAvg round (default 1)
	Rounds     uint64 `yaml:"rounds"`      // FedAvg rounds (required)
	MaxSamples uint64 `yaml:"max_samples"` // max n_k, training samples per participant (default 672: 7 days of 15-minute readings)
	Bucket     string `yaml:"bucket"`      // key-value bucket of the global models and period closes (default ppnet_fddm)
}

// DefaultMaxSamples is Settings.MaxSamples' default: 7 days of 15-minute
// readings.
const DefaultMaxSamples = 7 * 96

// WithDefaults returns s with its defaults filled in, or an error naming
// the missing setting.
func (s Settings) WithDefaults() (Settings, error) {
	if s.Prefix == "" {
		s.Prefix = "fedavg"
	}
	if s.Stride == 0 {
		s.Stride = 1
	}
	if s.MaxSamples == 0 {
		s.MaxSamples = DefaultMaxSamples
	}
	if s.Rounds == 0 {
		return s, errors.New("fedavg: settings: rounds is 0; set fedavg.rounds to the number of FedAvg rounds to run")
	}
	return s, nil
}

// Codec returns the codec of s for n participants.
func (s Settings) Codec(n int) (*Codec, error) {
	if n < 1 {
		return nil, fmt.Errorf("fedavg: settings: no participant sends rule %s-c0; add the FedAvg rules to the network", s.Prefix)
	}
	return NewCodec(CodecOptions{MaxSamples: s.MaxSamples, Producers: n})
}
