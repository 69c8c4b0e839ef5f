package natsauth

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/nats-io/nkeys"
)

// MaxKeyFile bounds the size of a key file read by [ReadKeyFile].
const MaxKeyFile = 4096

// ErrKeyFileMode is returned for a key file others may read.
var ErrKeyFileMode = errors.New("natsauth: key file readable by group or others")

// NewUserKey draws a fresh NKey user key pair (Ed25519) from rnd.
func NewUserKey(rnd io.Reader) (nkeys.KeyPair, error) {
	kp, err := nkeys.CreatePairWithRand(nkeys.PrefixByteUser, rnd)
	if err != nil {
		return nil, fmt.Errorf("natsauth: new user key: %v", err)
	}
	return kp, nil
}

// MarshalKey renders the key file of kp for identity i:
//
//	# ppnet NATS user key for ppn/ppn1 (public UD…). Secret: keep mode 0600.
//	SUAM…
//
// Lines starting with '#' and blank lines are comments; exactly one other
// line holds the NKey user seed (the "SU" string of the nkeys encoding).
func MarshalKey(i Identity, kp nkeys.KeyPair) ([]byte, error) {
	seed, err := kp.Seed()
	if err != nil {
		return nil, fmt.Errorf("natsauth: key for %s: %v", i, err)
	}
	pub, err := kp.PublicKey()
	if err != nil {
		return nil, fmt.Errorf("natsauth: key for %s: %v", i, err)
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "# ppnet NATS user key for %s (public %s). Secret: keep mode 0600.\n%s\n", i, pub, seed)
	return b.Bytes(), nil
}

// ParseKey reads the key file format of [MarshalKey] and returns the user
// key pair.
func ParseKey(b []byte) (nkeys.KeyPair, error) {
	if len(b) > MaxKeyFile {
		return nil, fmt.Errorf("natsauth: key file of %d bytes; a key file is one seed line of 58 characters", len(b))
	}
	var seed string
	sc := bufio.NewScanner(bytes.NewReader(b))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if seed != "" {
			return nil, fmt.Errorf("natsauth: key file line %d: a second key; keep exactly one seed line", n)
		}
		seed = line
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("natsauth: key file: %v", err)
	}
	if seed == "" {
		return nil, errors.New("natsauth: key file holds no seed line; write one with devnet --write-network or natsauth.WriteKeyFile")
	}
	if !strings.HasPrefix(seed, "SU") {
		return nil, errors.New("natsauth: key file does not hold a NATS user seed (it must start with \"SU\"); use the user key written for this role, not a public key or an account/operator key")
	}
	kp, err := nkeys.FromSeed([]byte(seed))
	if err != nil {
		return nil, fmt.Errorf("natsauth: key file seed: %v; the seed is corrupt, write the key again", err)
	}
	return kp, nil
}

// WriteKeyFile writes kp's key file for i at path with mode 0600, replacing
// any file there atomically.
func WriteKeyFile(path string, i Identity, kp nkeys.KeyPair) error {
	b, err := MarshalKey(i, kp)
	if err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(path), ".nkey-*")
	if err != nil {
		return fmt.Errorf("natsauth: %v", err)
	}
	defer os.Remove(f.Name())
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return fmt.Errorf("natsauth: %v", err)
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return fmt.Errorf("natsauth: write %s: %v", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("natsauth: write %s: %v", path, err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("natsauth: %v", err)
	}
	return nil
}

// ReadKeyFile reads a key file written by [WriteKeyFile]. It refuses a file
// that group or others may read, as ssh does, since the seed is the user's
// password.
func ReadKeyFile(path string) (nkeys.KeyPair, error) {
	if path == "" {
		return nil, errors.New("natsauth: no NATS key file given; set --nats-key to the role's .nkey file")
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("natsauth: %v", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("natsauth: %v", err)
	}
	if m := st.Mode().Perm(); m&0o077 != 0 {
		return nil, fmt.Errorf("%w: %s has mode %#o; run chmod 600 %s", ErrKeyFileMode, path, m, path)
	}
	b, err := io.ReadAll(io.LimitReader(f, MaxKeyFile+1))
	if err != nil {
		return nil, fmt.Errorf("natsauth: %s: %v", path, err)
	}
	kp, err := ParseKey(b)
	if err != nil {
		return nil, fmt.Errorf("%w (file %s)", err, path)
	}
	return kp, nil
}
