package ppn

import (
	"crypto/ecdh"
	"crypto/sha256"
	"fmt"

	"github.com/ppnet/ppnet/internal/netconfig"
	"github.com/ppnet/ppnet/internal/seal"
	"github.com/ppnet/ppnet/internal/wire"
)

// SealKeyring returns a keyring for key's owner holding the PPN–PPN seal
// keys of n's epoch (purpose seal, peers by PPN index), for [SealMarker].
func SealKeyring(n *netconfig.Network, key *ecdh.PrivateKey) *seal.Keyring {
	ring := seal.NewKeyring(key, n.Config.Epoch)
	addSealPeers(ring, n)
	return ring
}

func addSealPeers(ring *seal.Keyring, n *netconfig.Network) {
	for j, k := range n.PPNKeys {
		ring.AddPeer(seal.PurposeSeal, j, k)
	}
}

// SealMarker returns the seal marker by which PPN me closes every round ≤
// round of n's epoch, with one tag per PPN of the epoch, and its JetStream
// message id. ring must hold the seal keys ([SealKeyring]).
//
// The id is s.<epoch>.<round>.<ppn>.<first 8 bytes of SHA-256 of the
// marker, hex>: a retry of the same marker is deduplicated by the stream,
// but nobody without the tags can guess it, so a forged seal published
// first under a predictable id cannot make the stream drop the genuine one
// as a duplicate.
func SealMarker(n *netconfig.Network, ring *seal.Keyring, me int, round uint64) (msg []byte, id string, err error) {
	s := wire.Seal{Epoch: n.Config.Epoch, Round: round, PPN: uint16(me), Tags: make([][wire.SealTag]byte, len(n.X))}
	var in []byte
	for j := range s.Tags {
		in = s.AppendMACInput(in[:0], n.Config.Streams.Bundles, uint16(j))
		tag, err := ring.MAC(s.Tags[j][:0], seal.PurposeSeal, j, in)
		if err != nil {
			return nil, "", fmt.Errorf("ppn: seal tag for PPN %d: %v", j, err)
		}
		copy(s.Tags[j][:], tag)
	}
	msg = s.Marshal()
	sum := sha256.Sum256(msg)
	return msg, fmt.Sprintf("s.%d.%d.%d.%x", s.Epoch, s.Round, me, sum[:8]), nil
}
