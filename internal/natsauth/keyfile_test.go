package natsauth

import (
	"bytes"
	"crypto/rand"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nats-io/nkeys"
)

func TestKeyFileRoundTrip(t *testing.T) {
	id := Identity{RolePPN, "ppn1"}
	kp, err := NewUserKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "ppn-ppn1.nkey")
	if err := WriteKeyFile(path, id, kp); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if m := st.Mode().Perm(); m != 0o600 {
		t.Fatalf("key file mode %#o, want 0600", m)
	}
	got, err := ReadKeyFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := kp.PublicKey()
	if pub, _ := got.PublicKey(); pub != want {
		t.Fatalf("read key %s, wrote %s", pub, want)
	}
	// The key signs a server nonce that its public key verifies: what NKey
	// authentication does.
	sig, err := got.Sign([]byte("nonce"))
	if err != nil {
		t.Fatal(err)
	}
	if err := kp.Verify([]byte("nonce"), sig); err != nil {
		t.Fatal(err)
	}

	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadKeyFile(path); !errors.Is(err, ErrKeyFileMode) || !strings.Contains(err.Error(), "chmod 600") {
		t.Fatalf("readable key file: %v, want ErrKeyFileMode with the fix", err)
	}
	if _, err := ReadKeyFile(""); err == nil || !strings.Contains(err.Error(), "--nats-key") {
		t.Fatalf("no key file: %v", err)
	}
}

func TestParseKeyErrors(t *testing.T) {
	user, _ := NewUserKey(rand.Reader)
	userSeed, _ := user.Seed()
	userPub, _ := user.PublicKey()
	acct, _ := nkeys.CreatePairWithRand(nkeys.PrefixByteAccount, rand.Reader)
	acctSeed, _ := acct.Seed()
	corrupt := bytes.Clone(userSeed)
	corrupt[10] ^= 1
	tests := []struct {
		name, file, want string
	}{
		{"empty", "", "no seed line"},
		{"comments only", "# a key\n\n# nothing\n", "no seed line"},
		{"public key", userPub + "\n", "not hold a NATS user seed"},
		{"account seed", string(acctSeed) + "\n", "not hold a NATS user seed"},
		{"two seeds", string(userSeed) + "\n" + string(userSeed) + "\n", "a second key"},
		{"corrupt seed", string(corrupt) + "\n", "corrupt"},
		{"huge", strings.Repeat("#", MaxKeyFile+1), "bytes"},
	}
	for _, tc := range tests {
		_, err := ParseKey([]byte(tc.file))
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "natsauth: ") {
			t.Errorf("%s: %v, want a natsauth error containing %q", tc.name, err, tc.want)
		}
	}
}

func FuzzParseKey(f *testing.F) {
	kp, err := NewUserKey(rand.Reader)
	if err != nil {
		f.Fatal(err)
	}
	real, err := MarshalKey(Identity{RoleProducer, "c1"}, kp)
	if err != nil {
		f.Fatal(err)
	}
	seed, _ := kp.Seed()
	f.Add(real)
	f.Add(seed)
	f.Add([]byte("# comment\n\n  " + string(seed) + "  \r\n"))
	f.Add([]byte("SU"))
	f.Fuzz(func(t *testing.T, b []byte) {
		kp, err := ParseKey(b)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "natsauth: ") {
				t.Fatalf("error without package prefix: %v", err)
			}
			return
		}
		out, err := MarshalKey(Identity{RoleProducer, "c1"}, kp)
		if err != nil {
			t.Fatal(err)
		}
		again, err := ParseKey(out)
		if err != nil {
			t.Fatalf("re-encoded key does not parse: %v", err)
		}
		p1, _ := kp.PublicKey()
		p2, _ := again.PublicKey()
		if p1 != p2 || !strings.HasPrefix(p1, "U") {
			t.Fatalf("round trip changed the key: %s → %s", p1, p2)
		}
	})
}
