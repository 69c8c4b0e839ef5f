// Package seal holds ppnet's pairwise keys and the AEAD that seals every
// share on the wire.
//
// # Construction
//
// Every producer, PPN and consumer has a static X25519 key pair, enrolled
// in the network configuration. Two parties a and b that need a channel
// derive
//
//	k_ab = HKDF-SHA256(secret = X25519(sk_a, pk_b), salt = "ppnet/seal v1",
//	                   info = purpose ‖ epoch ‖ pk_lo ‖ pk_hi)[:16]
//
// where pk_lo, pk_hi are the two public keys in byte order, so both ends
// derive the same key, a new epoch gets new keys, and the part and
// aggregate purposes never share one. The AEAD is AES-128-GCM (what
// DLMS/COSEM meters already implement). Nonces are never random:
//
//	part:      epoch (4 bytes) ‖ round (6 bytes) ‖ chunk (2 bytes)
//	aggregate: epoch (4 bytes) ‖ rule (2 bytes)  ‖ window (6 bytes)
//
// Each (epoch, round, chunk) is sealed once per sender key, and the
// associated data is the message's clear header (package wire), so a
// ciphertext replayed into another round, epoch, chunk, sender or PPN slot
// fails to open. A producer that must resend a round resends the stored
// bytes, never a fresh encryption under the same nonce.
//
// Keys are derived once per pair and the AEAD cached ([Keyring]); sealing
// then costs one AES-GCM pass over 8 bytes per share.
//
// Seal markers carry no secret, only authority: the PPN that appends one
// attaches, for every PPN j of the epoch, a tag HMAC-SHA256(k_ij, marker)
// truncated to 128 bits under the PPN–PPN key of purpose seal
// ([Keyring.MAC]); each PPN checks its own tag, so only a PPN of the epoch
// can close a round.
//
// # Threat model
//
// The NATS server, its operator, eavesdroppers and other PPNs see only
// ciphertext; an active attacker without k_ab cannot forge or move a part,
// and one without a PPN–PPN key cannot make a seal marker that PPN accepts.
// Compromise of a party's static key exposes that party's channels for the
// epoch (no forward secrecy within an epoch).
//
// # References
//
//   - RFC 7748 (X25519), RFC 5869 (HKDF), NIST SP 800-38D (GCM).
package seal

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdh"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
)

// Purpose separates the keys of the two channels a party may hold.
type Purpose byte

// Purposes of a pairwise key.
const (
	PurposePart      Purpose = 1 // producer → PPN share parts
	PurposeAggregate Purpose = 2 // PPN → consumer aggregated shares
	PurposeSeal      Purpose = 3 // PPN → PPN seal marker tags (HMAC, see [Keyring.MAC])
)

// KeySize is the AES-128 key length.
const KeySize = 16

// MACSize is the length of a tag made by [Keyring.MAC]: HMAC-SHA256
// truncated to 128 bits.
const MACSize = 16

// Errors returned by this package.
var (
	ErrOpen   = errors.New("seal: ciphertext does not open (wrong key, nonce, header or tampered bytes)")
	ErrKey    = errors.New("seal: invalid key")
	ErrNoPeer = errors.New("seal: unknown peer")
)

var salt = []byte("ppnet/seal v1")

// GenerateKey returns a fresh X25519 key pair read from rnd
// (crypto/rand.Reader in production).
func GenerateKey(rnd io.Reader) (*ecdh.PrivateKey, error) {
	k, err := ecdh.X25519().GenerateKey(rnd)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrKey, err)
	}
	return k, nil
}

// EncodeKey returns the standard base64 of a public or private key's bytes,
// the form used in configuration and key files.
func EncodeKey(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

// ParsePublicKey parses a base64 X25519 public key.
func ParsePublicKey(s string) (*ecdh.PublicKey, error) {
	b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(s))
	if err != nil {
		return nil, fmt.Errorf("%w: public key is not base64: %v", ErrKey, err)
	}
	k, err := ecdh.X25519().NewPublicKey(b)
	if err != nil {
		return nil, fmt.Errorf("%w: public key has %d bytes, want 32", ErrKey, len(b))
	}
	return k, nil
}

// ParsePrivateKey parses a base64 X25519 private key.
func ParsePrivateKey(s string) (*ecdh.PrivateKey, error) {
	b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(s))
	if err != nil {
		return nil, fmt.Errorf("%w: private key is not base64: %v", ErrKey, err)
	}
	k, err := ecdh.X25519().NewPrivateKey(b)
	if err != nil {
		return nil, fmt.Errorf("%w: private key has %d bytes, want 32", ErrKey, len(b))
	}
	return k, nil
}

// PairKey derives the 16-byte key between priv's owner and peer for a
// purpose and epoch. Both ends get the same key.
func PairKey(priv *ecdh.PrivateKey, peer *ecdh.PublicKey, purpose Purpose, epoch uint32) ([]byte, error) {
	shared, err := priv.ECDH(peer)
	if err != nil { // all-zero output: a low-order peer key
		return nil, fmt.Errorf("%w: key agreement with peer failed: %v", ErrKey, err)
	}
	a, b := priv.PublicKey().Bytes(), peer.Bytes()
	if string(a) > string(b) {
		a, b = b, a
	}
	info := make([]byte, 0, 5+len(a)+len(b))
	info = append(info, byte(purpose))
	info = binary.BigEndian.AppendUint32(info, epoch)
	info = append(append(info, a...), b...)
	k, err := hkdf.Key(sha256.New, shared, salt, string(info), KeySize)
	if err != nil {
		return nil, fmt.Errorf("%w: hkdf: %v", ErrKey, err)
	}
	return k, nil
}

// NewAEAD returns AES-128-GCM under key.
func NewAEAD(key []byte) (cipher.AEAD, error) {
	blk, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrKey, err)
	}
	return cipher.NewGCM(blk)
}

// PartNonce is the nonce of a bundle part: epoch ‖ round (48 bits) ‖ chunk.
func PartNonce(epoch uint32, round uint64, chunk uint16) [12]byte {
	var n [12]byte
	binary.BigEndian.PutUint32(n[0:], epoch)
	binary.BigEndian.PutUint64(n[4:], round<<16|uint64(chunk))
	return n
}

// AggregateNonce is the nonce of an aggregated share: epoch ‖ rule ‖ window
// (48 bits).
func AggregateNonce(epoch uint32, rule uint16, window uint64) [12]byte {
	var n [12]byte
	binary.BigEndian.PutUint32(n[0:], epoch)
	binary.BigEndian.PutUint64(n[4:], uint64(rule)<<48|window&(1<<48-1))
	return n
}

// Open opens a sealed payload, appending the plaintext to dst.
func Open(aead cipher.AEAD, dst []byte, nonce [12]byte, sealed, aad []byte) ([]byte, error) {
	p, err := aead.Open(dst, nonce[:], sealed, aad)
	if err != nil {
		return nil, ErrOpen
	}
	return p, nil
}

// Keyring derives and caches the AEADs between one party and its peers,
// for one epoch. It is safe for concurrent use.
type Keyring struct {
	priv  *ecdh.PrivateKey
	epoch uint32

	mu    sync.RWMutex
	peers map[peerKey]*ecdh.PublicKey
	cache map[peerKey]cipher.AEAD
	macs  map[peerKey][]byte // raw pairwise keys for MAC
}

type peerKey struct {
	purpose Purpose
	id      int
}

// NewKeyring returns an empty keyring for priv's owner in epoch.
func NewKeyring(priv *ecdh.PrivateKey, epoch uint32) *Keyring {
	return &Keyring{priv: priv, epoch: epoch, peers: map[peerKey]*ecdh.PublicKey{}, cache: map[peerKey]cipher.AEAD{},
		macs: map[peerKey][]byte{}}
}

// AddPeer registers peer id's public key for a purpose.
func (k *Keyring) AddPeer(purpose Purpose, id int, pub *ecdh.PublicKey) {
	k.mu.Lock()
	k.peers[peerKey{purpose, id}] = pub
	k.mu.Unlock()
}

// AEAD returns the cached AEAD with peer id for purpose, deriving it on
// first use.
func (k *Keyring) AEAD(purpose Purpose, id int) (cipher.AEAD, error) {
	pk := peerKey{purpose, id}
	k.mu.RLock()
	a := k.cache[pk]
	pub := k.peers[pk]
	k.mu.RUnlock()
	if a != nil {
		return a, nil
	}
	if pub == nil {
		return nil, fmt.Errorf("%w: no public key for peer %d (purpose %d)", ErrNoPeer, id, purpose)
	}
	key, err := PairKey(k.priv, pub, purpose, k.epoch)
	if err != nil {
		return nil, err
	}
	a, err = NewAEAD(key)
	if err != nil {
		return nil, err
	}
	k.mu.Lock()
	k.cache[pk] = a
	k.mu.Unlock()
	return a, nil
}

// MAC appends to dst the tag of msg under the pairwise key with peer id
// for purpose: HMAC-SHA256(k, msg) truncated to [MACSize] bytes. It
// authenticates a message that carries nothing secret (a seal marker) to
// one peer; both ends compute the same tag. The key is derived on first use
// and cached.
func (k *Keyring) MAC(dst []byte, purpose Purpose, id int, msg []byte) ([]byte, error) {
	pk := peerKey{purpose, id}
	k.mu.RLock()
	key := k.macs[pk]
	pub := k.peers[pk]
	k.mu.RUnlock()
	if key == nil {
		if pub == nil {
			return nil, fmt.Errorf("%w: no public key for peer %d (purpose %d)", ErrNoPeer, id, purpose)
		}
		var err error
		if key, err = PairKey(k.priv, pub, purpose, k.epoch); err != nil {
			return nil, err
		}
		k.mu.Lock()
		k.macs[pk] = key
		k.mu.Unlock()
	}
	h := hmac.New(sha256.New, key)
	h.Write(msg)
	return append(dst, h.Sum(nil)[:MACSize]...), nil
}

// VerifyMAC reports whether tag is the [Keyring.MAC] tag of msg with peer
// id for purpose, in constant time. An unknown peer does not verify.
func (k *Keyring) VerifyMAC(tag []byte, purpose Purpose, id int, msg []byte) bool {
	var buf [MACSize]byte
	want, err := k.MAC(buf[:0], purpose, id, msg)
	return err == nil && hmac.Equal(want, tag)
}
