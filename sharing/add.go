package sharing

import "fmt"

// AddShares returns the share of the sum of the two secrets that a and b
// share; both must be held at the same x-coordinate.
func AddShares(a, b Share) (Share, error) {
	if a.X != b.X {
		return Share{}, fmt.Errorf("sharing: cannot add shares at different x-coordinates %d and %d", a.X.v, b.X.v)
	}
	return Share{X: a.X, Y: a.Y.Add(b.Y)}, nil
}

// AddVec adds src into dst component-wise (dst[i] += src[i]): the way a node
// accumulates vector readings or many rules' shares at once.
func AddVec(dst, src []Element) error {
	if len(dst) != len(src) {
		return fmt.Errorf("%w: adding %d elements into %d", ErrLength, len(src), len(dst))
	}
	src = src[:len(dst)] // lets the compiler drop the bounds checks below
	i := 0
	for ; i+4 <= len(dst); i += 4 {
		d, s := dst[i:i+4:i+4], src[i:i+4:i+4]
		d[0].v = addmod(d[0].v, s[0].v)
		d[1].v = addmod(d[1].v, s[1].v)
		d[2].v = addmod(d[2].v, s[2].v)
		d[3].v = addmod(d[3].v, s[3].v)
	}
	for ; i < len(dst); i++ {
		dst[i].v = addmod(dst[i].v, src[i].v)
	}
	return nil
}

// Sum returns the sum of es.
func Sum(es []Element) Element {
	// Lazy reduction: each term < 2^61, so 7 terms fit below 2^64 safely
	// even when added to a reduced accumulator.
	var acc uint64
	i := 0
	for ; i+4 <= len(es); i += 4 {
		acc = reduce64(acc + es[i].v + es[i+1].v + es[i+2].v + es[i+3].v)
	}
	for ; i < len(es); i++ {
		acc = addmod(acc, es[i].v)
	}
	return Element{acc}
}
