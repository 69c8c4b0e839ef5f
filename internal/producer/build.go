package producer

import (
	"fmt"
	"io"

	"github.com/ppnet/ppnet/internal/netconfig"
	"github.com/ppnet/ppnet/internal/seal"
	"github.com/ppnet/ppnet/internal/wire"
	"github.com/ppnet/ppnet/sharing"
)

// builder turns one round of readings into sealed bundles. It reuses its
// buffers and is not safe for concurrent use.
type builder struct {
	net    *netconfig.Network
	sender uint32
	ring   *seal.Keyring
	ppns   []int             // PPNs any of the producer's meters serves, increasing
	sp     *sharing.Splitter // over the x-coordinates of ppns
	chunk  int

	secrets, shares []sharing.Element
	plain, aad      []byte
}

func newBuilder(n *netconfig.Network, producer int, ring *seal.Keyring, rnd io.Reader) (*builder, error) {
	b := &builder{net: n, sender: uint32(producer), ring: ring, chunk: n.Config.Producers[producer].Chunk}
	var mask uint64
	for _, m := range n.ProducerMeters[producer] {
		mask |= n.MeterPPNs[m]
	}
	var xs []sharing.Element
	for i := range n.X {
		if mask&(1<<i) != 0 {
			b.ppns = append(b.ppns, i)
			xs = append(xs, n.X[i])
		}
	}
	if len(xs) == 0 {
		return b, nil // no rule covers this producer: it keeps history only
	}
	sp, err := sharing.NewSplitter(xs, n.Config.Threshold, rnd)
	if err != nil {
		return nil, fmt.Errorf("producer: splitter: %w", err)
	}
	b.sp = sp
	return b, nil
}

// build returns the encoded bundles of a round for meters (increasing, all
// serving some PPN) with readings wh. It returns the number of shares sealed.
func (b *builder) build(round uint64, meters []uint32, wh []int64) ([][]byte, int, error) {
	if b.sp == nil || len(meters) == 0 {
		return nil, 0, nil
	}
	epoch := b.net.Config.Epoch
	w := len(b.ppns)
	var out [][]byte
	sealed := 0
	for c, lo := 0, 0; lo < len(meters); c, lo = c+1, lo+b.chunk {
		if c > 0xffff {
			return nil, 0, fmt.Errorf("producer: more than 65536 chunks in a round; raise the producer's chunk size")
		}
		hi := min(lo+b.chunk, len(meters))
		ms := meters[lo:hi]
		b.secrets = b.secrets[:0]
		for i := range ms {
			e, err := sharing.FromInt64(wh[lo+i])
			if err != nil {
				return nil, 0, fmt.Errorf("producer: meter %d: %w", ms[i], err)
			}
			b.secrets = append(b.secrets, e)
		}
		b.shares = grow(b.shares, len(ms)*w)
		if err := b.sp.SplitBatch(b.secrets, b.shares); err != nil {
			return nil, 0, fmt.Errorf("producer: split: %w", err)
		}
		bd := wire.Bundle{Epoch: epoch, Round: round, Sender: b.sender, Chunk: uint16(c), Meters: ms}
		header := bd.AppendHeader(nil)
		nonce := seal.PartNonce(epoch, round, uint16(c))
		for j, ppn := range b.ppns {
			b.plain = b.plain[:0]
			for i, m := range ms {
				if b.net.MeterPPNs[m]&(1<<ppn) != 0 {
					b.plain = wire.AppendElements(b.plain, b.shares[i*w+j:i*w+j+1])
				}
			}
			if len(b.plain) == 0 {
				continue
			}
			aead, err := b.ring.AEAD(seal.PurposePart, ppn)
			if err != nil {
				return nil, 0, fmt.Errorf("producer: %w", err)
			}
			b.aad = wire.PartAAD(b.aad[:0], header, uint16(ppn))
			bd.Parts = append(bd.Parts, wire.Part{PPN: uint16(ppn), Sealed: aead.Seal(nil, nonce[:], b.plain, b.aad)})
			sealed += len(b.plain) / 8
		}
		out = append(out, wire.AppendParts(header, bd.Parts))
	}
	return out, sealed, nil
}

func grow(s []sharing.Element, n int) []sharing.Element {
	if cap(s) < n {
		return make([]sharing.Element, n)
	}
	return s[:n]
}
