package fedavg

import (
	"errors"
	"fmt"
	"math"

	"github.com/ppnet/ppnet/sharing"

	"github.com/ppnet/ppnet/internal/fddm/model"
)

var (
	// ErrBound reports parameters whose sums could overflow the field
	// encoding.
	ErrBound = errors.New("fedavg: field bound violated")
	// ErrUpdate reports an update that cannot be encoded.
	ErrUpdate = errors.New("fedavg: invalid update")
	// ErrSum reports a recovered sum that does not decode.
	ErrSum = errors.New("fedavg: invalid sum")
)

// Codec encodes model updates as fixed-point field vectors and decodes
// their sums.
type Codec struct {
	frac       uint
	clip       float64
	maxSamples uint64
	producers  int
	scale      float64
}

// CodecOptions are the fixed-point parameters and the bounds they must hold
// for.
type CodecOptions struct {
	Frac       uint    // f, fractional bits (default 20)
	Clip       float64 // C, bound on |w_j| (default 16)
	MaxSamples uint64  // max n_k, samples per producer (required)
	Producers  int     // N, producers per round (required)
}

// NewCodec checks N · max n_k · C·2^f < (q−1)/2 and returns the codec, or an
// error wrapping ErrBound that names the limit.
func NewCodec(o CodecOptions) (*Codec, error) {
	if o.Frac == 0 {
		o.Frac = 20
	}
	if o.Clip == 0 {
		o.Clip = 16
	}
	if o.Frac > 52 || !(o.Clip > 0) || math.IsInf(o.Clip, 0) {
		return nil, fmt.Errorf("%w: fractional bits %d (at most 52) and clip %g (finite, positive)", ErrBound, o.Frac, o.Clip)
	}
	if o.Producers < 1 || o.MaxSamples < 1 {
		return nil, fmt.Errorf("%w: %d producers and %d samples per producer: both must be at least 1", ErrBound, o.Producers, o.MaxSamples)
	}
	unit := math.Ceil(o.Clip * math.Exp2(float64(o.Frac)))
	perProducer := unit * float64(o.MaxSamples)
	if perProducer >= float64(sharing.MaxMagnitude) || !sharing.SumFits(uint64(o.Producers), uint64(perProducer)) {
		return nil, fmt.Errorf("%w: %d producers · %d samples · clip %g · 2^%d = %.3g exceeds (q−1)/2 = %.3g; lower the fractional bits, the clip, the samples per producer or the producers per round",
			ErrBound, o.Producers, o.MaxSamples, o.Clip, o.Frac, float64(o.Producers)*perProducer, float64(sharing.MaxMagnitude))
	}
	return &Codec{frac: o.Frac, clip: o.Clip, maxSamples: o.MaxSamples, producers: o.Producers, scale: math.Exp2(float64(o.Frac))}, nil
}

// Producers is N, the most contributions per round the codec's field bound
// holds for.
func (c *Codec) Producers() int { return c.producers }

// MaxSamples is max n_k, the most samples one update may claim.
func (c *Codec) MaxSamples() uint64 { return c.maxSamples }

// MaxComponent bounds |component| of one encoded update: max n_k·⌈C·2^f⌉.
// A network carrying updates as readings needs max_reading at least this.
func (c *Codec) MaxComponent() uint64 {
	return c.maxSamples * uint64(math.Ceil(c.clip*c.scale))
}

// Len is the length of an encoded update of d weights: d + 1.
func (c *Codec) Len(d int) int { return d + 1 }

// Encode appends to dst the encoding of weights w trained on n samples:
// n·⌊clip(w_j)·2^f⌉ for each j, then n.
func (c *Codec) Encode(dst []sharing.Element, w []float64, n uint64) ([]sharing.Element, error) {
	if n < 1 || n > c.maxSamples {
		return dst, fmt.Errorf("%w: %d samples; the codec was built for 1 to %d", ErrUpdate, n, c.maxSamples)
	}
	for j, v := range w {
		if math.IsNaN(v) {
			return dst, fmt.Errorf("%w: weight %d is NaN; local training diverged (lower the learning rate)", ErrUpdate, j)
		}
		v = min(max(v, -c.clip), c.clip)
		e, err := sharing.FromInt64(int64(math.Round(v*c.scale)) * int64(n))
		if err != nil {
			return dst, fmt.Errorf("%w: weight %d: %v", ErrUpdate, j, err)
		}
		dst = append(dst, e)
	}
	e, err := sharing.FromInt64(int64(n))
	if err != nil {
		return dst, fmt.Errorf("%w: samples: %v", ErrUpdate, err)
	}
	return append(dst, e), nil
}

// Decode returns the weighted average Σ n_k·w_k / Σ n_k and Σ n_k from a
// recovered sum of the encodings of contributors updates. It refuses more
// contributors than the codec's N, and a total above N·max n_k: beyond
// them the sum may have wrapped around q and decode to garbage.
func (c *Codec) Decode(sum []sharing.Element, contributors int) ([]float64, uint64, error) {
	if contributors > c.producers {
		return nil, 0, fmt.Errorf("%w: %d contributions in one sum, the codec was built for at most N = %d; raise Producers (and check the bound) or admit fewer producers per round", ErrBound, contributors, c.producers)
	}
	if contributors < 1 {
		return nil, 0, fmt.Errorf("%w: %d contributions; no producer contributed", ErrSum, contributors)
	}
	if len(sum) < 1 {
		return nil, 0, fmt.Errorf("%w: empty vector", ErrSum)
	}
	total := sum[len(sum)-1].Int64()
	if total < 1 {
		return nil, 0, fmt.Errorf("%w: total samples %d; no producer contributed", ErrSum, total)
	}
	if limit := uint64(contributors) * c.maxSamples; uint64(total) > limit {
		return nil, 0, fmt.Errorf("%w: total samples %d exceeds %d contributions · max n_k %d = %d; a contribution claimed more samples than the codec allows, or the sum is corrupt", ErrSum, total, contributors, c.maxSamples, limit)
	}
	avg := make([]float64, len(sum)-1)
	for j := range avg {
		avg[j] = float64(sum[j].Int64()) / c.scale / float64(total)
	}
	return avg, uint64(total), nil
}

// Model decodes a recovered sum of contributors updates into the global
// model, checking it has model.Dim weights.
func (c *Codec) Model(sum []sharing.Element, contributors int) (model.Logistic, error) {
	avg, _, err := c.Decode(sum, contributors)
	if err != nil {
		return model.Logistic{}, err
	}
	if len(avg) != model.Dim {
		return model.Logistic{}, fmt.Errorf("%w: %d weights, want %d", ErrSum, len(avg), model.Dim)
	}
	var m model.Logistic
	copy(m.W[:], avg)
	return m, nil
}
