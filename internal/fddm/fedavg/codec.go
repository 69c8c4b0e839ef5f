package fedavg

import (
	"errors"
	"fmt"
	"math"

	"github.com/ppnet/ppnet/sharing"
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
	return &Codec{frac: o.Frac, clip: o.Clip, maxSamples: o.MaxSamples, scale: math.Exp2(float64(o.Frac))}, nil
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
// recovered sum of encodings.
func (c *Codec) Decode(sum []sharing.Element) ([]float64, uint64, error) {
	if len(sum) < 1 {
		return nil, 0, fmt.Errorf("%w: empty vector", ErrSum)
	}
	total := sum[len(sum)-1].Int64()
	if total < 1 {
		return nil, 0, fmt.Errorf("%w: total samples %d; no producer contributed", ErrSum, total)
	}
	avg := make([]float64, len(sum)-1)
	for j := range avg {
		avg[j] = float64(sum[j].Int64()) / c.scale / float64(total)
	}
	return avg, uint64(total), nil
}
