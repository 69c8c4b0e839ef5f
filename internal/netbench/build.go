package netbench

import (
	"crypto/rand"
	"fmt"
	mrand "math/rand/v2"
	"runtime"
	"sync"
	"time"

	"github.com/ppnet/ppnet/internal/netconfig"
	"github.com/ppnet/ppnet/internal/seal"
	"github.com/ppnet/ppnet/internal/wire"
	"github.com/ppnet/ppnet/sharing"
)

// network is a generated benchmark network with its keys.
type network struct {
	seed uint64 // readings, see reading
	cfg  *netconfig.Config
	net  *netconfig.Network
	keys *netconfig.Keys
	// rings are the producers' keyrings, kept across rounds so each
	// pairwise key is derived once, as a running producer does.
	rings []*seal.Keyring
}

// newNetwork generates N = 5 PPNs, t, w = 5, meters shared by producers
// (producers = meters: one bundle per meter), chunk meters per bundle, and
// the given rules. Rounds are long: the benchmark places seals itself.
func newNetwork(seed uint64, meters, producers, chunk, t int, rounds uint64, rules []netconfig.RuleSpec) (*network, error) {
	spec := netconfig.Spec{PPNs: 5, Threshold: t, W: 5, Meters: meters, Producers: producers, Chunk: chunk,
		Start: time.Now(), Round: time.Hour, Grace: time.Hour, Rounds: rounds, Rules: rules}
	cfg, keys, err := netconfig.Generate(spec, rand.Reader)
	if err != nil {
		return nil, err
	}
	n, err := cfg.Resolve()
	if err != nil {
		return nil, err
	}
	all := uint64(1)<<len(n.X) - 1
	for m, mask := range n.MeterPPNs {
		if mask != all {
			return nil, fmt.Errorf("netbench: meter %s serves PPN set %b; the benchmark rules must cover every meter with all PPNs", n.Meters[m], mask)
		}
	}
	nw := &network{seed: seed, cfg: cfg, net: n, keys: keys}
	for p := range cfg.Producers {
		ring := seal.NewKeyring(keys.Producers[p], cfg.Epoch)
		for i, k := range n.PPNKeys {
			ring.AddPeer(seal.PurposePart, i, k)
		}
		nw.rings = append(nw.rings, ring)
	}
	return nw, nil
}

// reading is meter m's synthetic reading in round r (Wh), deterministic
// in the seed so sums can be checked.
func reading(seed uint64, m uint32, r uint64) int64 {
	return int64((uint64(m)*2654435761 + r*40503 + seed*97) % 4000)
}

// bundle is one encoded bundle with its subject and message id.
type bundle struct {
	subject, msgID string
	data           []byte
	meters         int // meters covered: shares per PPN
}

// buildRound splits, seals and encodes round r of every producer as a
// producer would, in parallel over producers. It returns the bundles in
// producer order and the number of shares sealed.
func (nw *network) buildRound(r uint64) ([]bundle, int, error) {
	n := nw.net
	per := make([][]bundle, len(n.Config.Producers))
	errs := make([]error, len(per))
	shares := make([]int, len(per))
	workers := runtime.GOMAXPROCS(0)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rnd := mrand.NewChaCha8(seedBytes(nw.seed, r, uint64(w)))
			for p := w; p < len(per); p += workers {
				per[p], shares[p], errs[p] = nw.buildProducer(p, r, rnd)
			}
		}()
	}
	wg.Wait()
	var out []bundle
	total := 0
	for p := range per {
		if errs[p] != nil {
			return nil, 0, errs[p]
		}
		out = append(out, per[p]...)
		total += shares[p]
	}
	return out, total, nil
}

func seedBytes(a, b, c uint64) [32]byte {
	var s [32]byte
	for i, v := range []uint64{a, b, c} {
		for j := range 8 {
			s[8*i+j] = byte(v >> (8 * j))
		}
	}
	return s
}

// buildProducer builds producer p's bundles of round r: every meter of p
// serves all 5 PPNs (w = N), so each bundle has five parts.
func (nw *network) buildProducer(p int, r uint64, rnd *mrand.ChaCha8) ([]bundle, int, error) {
	n := nw.net
	ring := nw.rings[p]
	sp, err := sharing.NewSplitter(n.X, n.Config.Threshold, rnd)
	if err != nil {
		return nil, 0, fmt.Errorf("netbench: %w", err)
	}
	meters := n.ProducerMeters[p]
	chunk := n.Config.Producers[p].Chunk
	w := len(n.X)
	var out []bundle
	sealed := 0
	for c, lo := 0, 0; lo < len(meters); c, lo = c+1, lo+chunk {
		ms := meters[lo:min(lo+chunk, len(meters))]
		secrets := make([]sharing.Element, len(ms))
		for i, m := range ms {
			if secrets[i], err = sharing.FromInt64(reading(nw.seed, m, r)); err != nil {
				return nil, 0, fmt.Errorf("netbench: %w", err)
			}
		}
		sh := make([]sharing.Element, len(ms)*w)
		if err := sp.SplitBatch(secrets, sh); err != nil {
			return nil, 0, fmt.Errorf("netbench: %w", err)
		}
		bd := wire.Bundle{Epoch: n.Config.Epoch, Round: r, Sender: uint32(p), Chunk: uint16(c), Meters: ms}
		header := bd.AppendHeader(nil)
		nonce := seal.PartNonce(bd.Epoch, r, bd.Chunk)
		plain := make([]byte, 0, 8*len(ms))
		for j := range w {
			plain = plain[:0]
			for i := range ms {
				plain = wire.AppendElements(plain, sh[i*w+j:i*w+j+1])
			}
			aead, err := ring.AEAD(seal.PurposePart, j)
			if err != nil {
				return nil, 0, fmt.Errorf("netbench: %w", err)
			}
			aad := wire.PartAAD(nil, header, uint16(j))
			bd.Parts = append(bd.Parts, wire.Part{PPN: uint16(j), Sealed: aead.Seal(nil, nonce[:], plain, aad)})
			sealed += len(ms)
		}
		out = append(out, bundle{subject: n.BundleSubject(p), msgID: fmt.Sprintf("b.%d.%d.%d.%d", bd.Epoch, p, r, c),
			data: wire.AppendParts(header, bd.Parts), meters: len(ms)})
	}
	return out, sealed, nil
}
