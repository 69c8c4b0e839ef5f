package seal

import (
	"bytes"
	"crypto/ecdh"
	"crypto/rand"
	"errors"
	"testing"
)

func mustKey(t *testing.T) *ecdh.PrivateKey {
	t.Helper()
	k, err := GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestPairKeySymmetricAndSeparated(t *testing.T) {
	a, b, c := mustKey(t), mustKey(t), mustKey(t)
	ab, err := PairKey(a, b.PublicKey(), PurposePart, 1)
	if err != nil {
		t.Fatal(err)
	}
	ba, err := PairKey(b, a.PublicKey(), PurposePart, 1)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(ab, ba) {
		t.Fatal("the two ends derived different keys")
	}
	others := map[string][]byte{}
	others["other purpose"], _ = PairKey(a, b.PublicKey(), PurposeAggregate, 1)
	others["other epoch"], _ = PairKey(a, b.PublicKey(), PurposePart, 2)
	others["other peer"], _ = PairKey(a, c.PublicKey(), PurposePart, 1)
	for name, k := range others {
		if len(k) != KeySize || bytes.Equal(k, ab) {
			t.Errorf("%s: key %x, must differ from %x", name, k, ab)
		}
	}
}

// TestPartBinding seals a part from a producer for PPN a and checks it
// opens only at a, only under its own round/chunk nonce and header, and not
// after any single bit flip.
func TestPartBinding(t *testing.T) {
	prod, ppnA, ppnB := mustKey(t), mustKey(t), mustKey(t)
	send := NewKeyring(prod, 1)
	send.AddPeer(PurposePart, 0, ppnA.PublicKey())
	atA := NewKeyring(ppnA, 1)
	atA.AddPeer(PurposePart, 7, prod.PublicKey())
	atB := NewKeyring(ppnB, 1)
	atB.AddPeer(PurposePart, 7, prod.PublicKey())
	atAOtherEpoch := NewKeyring(ppnA, 2)
	atAOtherEpoch.AddPeer(PurposePart, 7, prod.PublicKey())

	aead, err := send.AEAD(PurposePart, 0)
	if err != nil {
		t.Fatal(err)
	}
	plain := []byte("0123456789abcdef")
	aad := []byte("header of round 5")
	nonce := PartNonce(1, 5, 0)
	sealed := aead.Seal(nil, nonce[:], plain, aad)
	if bytes.Contains(sealed, plain) {
		t.Fatal("plaintext visible in ciphertext")
	}

	open := func(k *Keyring, nonce [12]byte, ct, aad []byte) error {
		a, err := k.AEAD(PurposePart, 7)
		if err != nil {
			t.Fatal(err)
		}
		p, err := Open(a, nil, nonce, ct, aad)
		if err == nil && !bytes.Equal(p, plain) {
			t.Fatalf("opened to %q", p)
		}
		return err
	}
	if err := open(atA, nonce, sealed, aad); err != nil {
		t.Fatalf("intended PPN cannot open: %v", err)
	}
	tests := []struct {
		name  string
		k     *Keyring
		nonce [12]byte
		aad   []byte
	}{
		{"other PPN", atB, nonce, aad},
		{"other round", atA, PartNonce(1, 6, 0), aad},
		{"other chunk", atA, PartNonce(1, 5, 1), aad},
		{"other epoch keys", atAOtherEpoch, nonce, aad},
		{"other header", atA, nonce, []byte("header of round 6")},
	}
	for _, tc := range tests {
		if err := open(tc.k, tc.nonce, sealed, tc.aad); !errors.Is(err, ErrOpen) {
			t.Errorf("%s: opened (err %v)", tc.name, err)
		}
	}
	for bit := 0; bit < 8*len(sealed); bit++ {
		ct := append([]byte(nil), sealed...)
		ct[bit/8] ^= 1 << (bit % 8)
		if err := open(atA, nonce, ct, aad); !errors.Is(err, ErrOpen) {
			t.Fatalf("bit %d flipped: opened", bit)
		}
	}
}

func TestNonces(t *testing.T) {
	seen := map[[12]byte]string{}
	add := func(n [12]byte, what string) {
		if prev, ok := seen[n]; ok {
			t.Fatalf("nonce of %s equals nonce of %s", what, prev)
		}
		seen[n] = what
	}
	add(PartNonce(1, 0, 0), "p 1/0/0")
	add(PartNonce(1, 0, 1), "p 1/0/1")
	add(PartNonce(1, 1, 0), "p 1/1/0")
	add(PartNonce(2, 0, 0), "p 2/0/0")
	add(PartNonce(1, 1<<48-1, 65535), "p max")
	// Aggregates use keys of another purpose; their nonces must be distinct
	// among themselves only.
	seen = map[[12]byte]string{}
	add(AggregateNonce(1, 1, 0), "a 1/1/0")
	add(AggregateNonce(1, 0, 1), "a 1/0/1")
	add(AggregateNonce(1, 0, 2), "a 1/0/2")
}

func TestParseKeys(t *testing.T) {
	k := mustKey(t)
	pub, err := ParsePublicKey(EncodeKey(k.PublicKey().Bytes()))
	if err != nil || !pub.Equal(k.PublicKey()) {
		t.Fatalf("public key round trip: %v", err)
	}
	priv, err := ParsePrivateKey(EncodeKey(k.Bytes()) + "\n")
	if err != nil || !priv.Equal(k) {
		t.Fatalf("private key round trip: %v", err)
	}
	for _, bad := range []string{"", "not base64!", EncodeKey([]byte{1, 2, 3})} {
		if _, err := ParsePublicKey(bad); !errors.Is(err, ErrKey) {
			t.Errorf("ParsePublicKey(%q) error %v", bad, err)
		}
		if _, err := ParsePrivateKey(bad); !errors.Is(err, ErrKey) {
			t.Errorf("ParsePrivateKey(%q) error %v", bad, err)
		}
	}
	zero, _ := ecdh.X25519().NewPublicKey(make([]byte, 32))
	if _, err := PairKey(k, zero, PurposePart, 1); !errors.Is(err, ErrKey) {
		t.Errorf("low-order peer key accepted: %v", err)
	}
	ring := NewKeyring(k, 1)
	if _, err := ring.AEAD(PurposePart, 3); !errors.Is(err, ErrNoPeer) {
		t.Errorf("unknown peer: %v", err)
	}
}

// TestMAC checks that both ends of a PPN–PPN pair compute the same seal
// tag, that it verifies only for the pair, purpose, epoch and message it
// was made for, and that a PPN can tag for itself.
func TestMAC(t *testing.T) {
	a, b, c := mustKey(t), mustKey(t), mustKey(t)
	ring := func(priv *ecdh.PrivateKey, epoch uint32) *Keyring {
		r := NewKeyring(priv, epoch)
		for i, k := range []*ecdh.PrivateKey{a, b, c} {
			r.AddPeer(PurposeSeal, i, k.PublicKey())
		}
		return r
	}
	atA, atB, atC := ring(a, 1), ring(b, 1), ring(c, 1)
	msg := []byte("seal epoch 1 round 7 by a")
	tag, err := atA.MAC(nil, PurposeSeal, 1, msg) // a tags for b
	if err != nil {
		t.Fatal(err)
	}
	if len(tag) != MACSize {
		t.Fatalf("tag of %d bytes, want %d", len(tag), MACSize)
	}
	if !atB.VerifyMAC(tag, PurposeSeal, 0, msg) {
		t.Fatal("b does not verify a's tag")
	}
	self, err := atA.MAC(nil, PurposeSeal, 0, msg)
	if err != nil {
		t.Fatal(err)
	}
	if !atA.VerifyMAC(self, PurposeSeal, 0, msg) {
		t.Fatal("a does not verify its own tag")
	}
	flipped := append([]byte(nil), msg...)
	flipped[5] ^= 1
	for name, ok := range map[string]bool{
		"c with a's tag for b":      atC.VerifyMAC(tag, PurposeSeal, 0, msg),
		"b, claimed sealer c":       atB.VerifyMAC(tag, PurposeSeal, 2, msg),
		"b, other message":          atB.VerifyMAC(tag, PurposeSeal, 0, flipped),
		"b, other epoch":            ring(b, 2).VerifyMAC(tag, PurposeSeal, 0, msg),
		"b, purpose without a peer": atB.VerifyMAC(tag, PurposePart, 0, msg),
		"b, truncated tag":          atB.VerifyMAC(tag[:8], PurposeSeal, 0, msg),
	} {
		if ok {
			t.Errorf("%s: verified, must not", name)
		}
	}
}
