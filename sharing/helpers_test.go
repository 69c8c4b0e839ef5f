package sharing

import (
	"encoding/binary"
	"math/rand/v2"
	"os"
	"strconv"
	"testing"
	"time"
)

// newRand returns a deterministic generator for a randomized test. The seed
// is logged (shown with -v or on failure) and set with SHARING_SEED=n.
func newRand(t testing.TB) *rand.ChaCha8 {
	t.Helper()
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("SHARING_SEED"); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("SHARING_SEED=%q: %v; use a decimal uint64", s, err)
		}
		seed = v
	}
	t.Logf("seed %d (rerun with SHARING_SEED=%d)", seed, seed)
	return seededRand(seed)
}

func seededRand(seed uint64) *rand.ChaCha8 {
	var key [32]byte
	binary.LittleEndian.PutUint64(key[:], seed)
	return rand.NewChaCha8(key)
}

// randElement returns a uniform element of Z_q.
func randElement(r *rand.ChaCha8) Element {
	for {
		if v := r.Uint64() & Q; v != Q {
			return Element{v}
		}
	}
}

func xsOf(vs ...uint64) []Element {
	xs := make([]Element, len(vs))
	for i, v := range vs {
		xs[i] = NewElement(v)
	}
	return xs
}

// seqXs returns the x-coordinates 1 … w.
func seqXs(w int) []Element {
	xs := make([]Element, w)
	for i := range xs {
		xs[i] = Element{uint64(i + 1)}
	}
	return xs
}
