package natsauth

import (
	"crypto/rand"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/nats-io/nats-server/v2/server"
)

func TestGenerateWriteFilesAndServe(t *testing.T) {
	n := testNetwork(t)
	k, err := Generate(n, "admin", rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(k.Users.Users), 1+2+3+2; got != want {
		t.Fatalf("%d users, want %d (admin, 2 producers, 3 PPNs, 2 consumers)", got, want)
	}
	dir := filepath.Join(t.TempDir(), "nats")
	if err := k.WriteFiles(dir); err != nil {
		t.Fatal(err)
	}
	u, err := ReadUsersFile(filepath.Join(dir, "users.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(u.Users, k.Users.Users) {
		t.Fatalf("users file read back as %v", u.Users)
	}
	for _, x := range u.Users {
		kp, err := ReadKeyFile(KeyFileName(dir, x.Identity()))
		if err != nil {
			t.Fatal(err)
		}
		if pub, _ := kp.PublicKey(); pub != x.NKey {
			t.Fatalf("%s: key file holds %s, users file %s", x.Identity(), pub, x.NKey)
		}
	}
	users, err := NkeyUsers(n, u)
	if err != nil {
		t.Fatal(err)
	}
	for i, su := range users {
		if su.Nkey != u.Users[i].NKey || su.Permissions == nil || len(su.Permissions.Publish.Allow) == 0 {
			t.Fatalf("server user %d: %+v", i, su)
		}
	}
}

func TestNkeyUsersUnknownIdentity(t *testing.T) {
	n := testNetwork(t)
	kp, _ := NewUserKey(rand.Reader)
	pub, _ := kp.PublicKey()
	for _, id := range []Identity{{RolePPN, "ppn9"}, {RoleProducer, "m00001"}, {RoleConsumer, "billing"}} {
		u := &Users{Users: []User{{Role: id.Role, ID: id.ID, NKey: pub}}}
		_, err := NkeyUsers(n, u)
		if !errors.Is(err, ErrUnknownIdentity) {
			t.Errorf("%s: %v, want ErrUnknownIdentity", id, err)
		}
		if err := ConfigureServer(&server.Options{Host: "127.0.0.1"}, n, u, nil); err == nil {
			t.Errorf("%s: server configured", id)
		}
	}
}

func TestParseUsersErrors(t *testing.T) {
	a, _ := NewUserKey(rand.Reader)
	b, _ := NewUserKey(rand.Reader)
	pa, _ := a.PublicKey()
	pb, _ := b.PublicKey()
	seed, _ := a.Seed()
	tests := []struct{ name, file, want string }{
		{"unknown field", "users:\n  - {role: ppn, id: ppn1, nkey: " + pa + ", secret: x}\n", "secret"},
		{"unknown role", "users:\n  - {role: meter, id: m1, nkey: " + pa + "}\n", "unknown role"},
		{"bad id", "users:\n  - {role: ppn, id: 'a.b', nkey: " + pa + "}\n", "ids are"},
		{"seed instead of key", "users:\n  - {role: ppn, id: ppn1, nkey: " + string(seed) + "}\n", "never the seed"},
		{"twice", "users:\n  - {role: ppn, id: ppn1, nkey: " + pa + "}\n  - {role: ppn, id: ppn1, nkey: " + pb + "}\n", "twice"},
		{"shared key", "users:\n  - {role: ppn, id: ppn1, nkey: " + pa + "}\n  - {role: ppn, id: ppn2, nkey: " + pa + "}\n", "share one nkey"},
		{"not yaml", "users: [", "users file"},
	}
	for _, tc := range tests {
		_, err := ParseUsers([]byte(tc.file))
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "natsauth: ") {
			t.Errorf("%s: %v, want a natsauth error containing %q", tc.name, err, tc.want)
		}
	}
	path := filepath.Join(t.TempDir(), "users.yaml")
	if err := os.WriteFile(path, []byte(tests[0].file), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadUsersFile(path); err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("ReadUsersFile: %v, want the file named", err)
	}
}

func FuzzParseUsers(f *testing.F) {
	k, err := Generate(testNetworkF(f), "admin", rand.Reader)
	if err != nil {
		f.Fatal(err)
	}
	real, err := k.Users.Marshal()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(real)
	f.Add([]byte("users: []\n"))
	f.Add([]byte("users:\n  - {role: ppn, id: ppn1, nkey: U}\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		u, err := ParseUsers(b)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "natsauth: ") {
				t.Fatalf("error without package prefix: %v", err)
			}
			return
		}
		out, err := u.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		again, err := ParseUsers(out)
		if err != nil {
			t.Fatalf("re-encoded users file does not parse: %v\n%s", err, out)
		}
		if !slices.Equal(u.Users, again.Users) {
			t.Fatalf("round trip changed the users: %v → %v", u.Users, again.Users)
		}
	})
}
