package natsauth

import (
	"bytes"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nkeys"
	"gopkg.in/yaml.v3"

	"github.com/ppnet/ppnet/internal/netconfig"
)

// MaxUsersFile bounds the size of a users file read by [ParseUsers].
const MaxUsersFile = 16 << 20

// User binds an identity to its NKey public key. It holds no secret.
type User struct {
	Role Role   `yaml:"role"`
	ID   string `yaml:"id"`
	NKey string `yaml:"nkey"` // public user key, "U…"
}

// Identity returns u's identity.
func (u User) Identity() Identity { return Identity{u.Role, u.ID} }

// Users is the users file: the public keys the NATS server accepts.
//
//	users:
//	  - {role: admin, id: admin, nkey: UB…}
//	  - {role: ppn, id: ppn1, nkey: UD…}
type Users struct {
	Users []User `yaml:"users"`
}

// ParseUsers decodes and checks a users file (unknown fields are errors).
func ParseUsers(b []byte) (*Users, error) {
	if len(b) > MaxUsersFile {
		return nil, fmt.Errorf("natsauth: users file of %d bytes exceeds %d", len(b), MaxUsersFile)
	}
	var u Users
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&u); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("natsauth: users file: %v", err)
	}
	if err := u.check(); err != nil {
		return nil, err
	}
	return &u, nil
}

func (u *Users) check() error {
	ids, keys := map[Identity]bool{}, map[string]Identity{}
	for k, x := range u.Users {
		i := x.Identity()
		if err := i.check(); err != nil {
			return fmt.Errorf("%w (users entry %d)", err, k+1)
		}
		if ids[i] {
			return fmt.Errorf("natsauth: users file names %s twice; keep one key per identity", i)
		}
		if !nkeys.IsValidPublicUserKey(x.NKey) {
			return fmt.Errorf("natsauth: users file: %s nkey %q is not a public user key (\"U…\", 56 characters); copy the public key, never the seed", i, x.NKey)
		}
		if o, dup := keys[x.NKey]; dup {
			return fmt.Errorf("natsauth: users file: %s and %s share one nkey; every identity needs its own key", o, i)
		}
		ids[i], keys[x.NKey] = true, i
	}
	return nil
}

// Marshal renders u as YAML.
func (u *Users) Marshal() ([]byte, error) {
	b, err := yaml.Marshal(u)
	if err != nil {
		return nil, fmt.Errorf("natsauth: users file: %v", err)
	}
	return append([]byte("# ppnet NATS users: public NKeys per role identity (no secrets).\n"), b...), nil
}

// ReadUsersFile reads and checks a users file.
func ReadUsersFile(path string) (*Users, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("natsauth: %v", err)
	}
	u, err := ParseUsers(b)
	if err != nil {
		return nil, fmt.Errorf("%w (file %s)", err, path)
	}
	return u, nil
}

// Keys are the key pairs of every identity of a network, as [Generate]
// makes them for a devnet or an enrolment.
type Keys struct {
	Users Users
	Pairs map[Identity]nkeys.KeyPair
}

// Generate draws a key pair from rnd for the admin identity (id admin) and
// every producer, PPN and consumer of n.
func Generate(n *netconfig.Network, admin string, rnd io.Reader) (*Keys, error) {
	k := &Keys{Pairs: map[Identity]nkeys.KeyPair{}}
	for _, i := range append([]Identity{{RoleAdmin, admin}}, Identities(n)...) {
		if err := i.check(); err != nil {
			return nil, err
		}
		kp, err := NewUserKey(rnd)
		if err != nil {
			return nil, err
		}
		pub, err := kp.PublicKey()
		if err != nil {
			return nil, fmt.Errorf("natsauth: %v", err)
		}
		k.Pairs[i] = kp
		k.Users.Users = append(k.Users.Users, User{Role: i.Role, ID: i.ID, NKey: pub})
	}
	return k, nil
}

// WriteFiles writes dir/users.yaml and one key file per identity,
// dir/<role>-<id>.nkey (mode 0600).
func (k *Keys) WriteFiles(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("natsauth: %v", err)
	}
	for _, u := range k.Users.Users {
		if err := WriteKeyFile(KeyFileName(dir, u.Identity()), u.Identity(), k.Pairs[u.Identity()]); err != nil {
			return err
		}
	}
	b, err := k.Users.Marshal()
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "users.yaml"), b, 0o644); err != nil {
		return fmt.Errorf("natsauth: %v", err)
	}
	return nil
}

// KeyFileName is where [Keys.WriteFiles] puts i's key file under dir.
func KeyFileName(dir string, i Identity) string {
	return filepath.Join(dir, string(i.Role)+"-"+i.ID+".nkey")
}

// NkeyUsers returns the server-side users for u in network n, each with the
// permissions of its identity. Every non-admin identity must exist in n.
func NkeyUsers(n *netconfig.Network, u *Users) ([]*server.NkeyUser, error) {
	return NkeyUsersAcross([]*netconfig.Network{n}, u)
}

// NkeyUsersAcross is NkeyUsers with each user's permissions over several
// epochs' networks ([PermissionsAcross]): the embedded server's users
// while an epoch switch runs two epochs side by side (reload the server
// with them before the new epoch is published).
func NkeyUsersAcross(nets []*netconfig.Network, u *Users) ([]*server.NkeyUser, error) {
	if err := u.check(); err != nil {
		return nil, err
	}
	var out []*server.NkeyUser
	for _, x := range u.Users {
		p, err := PermissionsAcross(nets, x.Identity())
		if err != nil {
			return nil, fmt.Errorf("%w; remove it from the users file or add it to the network", err)
		}
		out = append(out, &server.NkeyUser{Nkey: x.NKey, Permissions: p,
			AllowedConnectionTypes: map[string]struct{}{"STANDARD": {}}})
	}
	return out, nil
}

// ConfigureServer secures o for network n: NKey users with their
// permissions (anonymous clients are then refused) and, with tlsConf, TLS
// required of every client. A server listening beyond loopback without TLS
// is refused.
func ConfigureServer(o *server.Options, n *netconfig.Network, u *Users, tlsConf *tls.Config) error {
	users, err := NkeyUsers(n, u)
	if err != nil {
		return err
	}
	if tlsConf == nil && !isLoopbackHost(o.Host) {
		return fmt.Errorf("natsauth: server listens on %q without TLS; give a certificate (ServerTLS) or listen on 127.0.0.1", o.Host)
	}
	o.Nkeys = users
	if tlsConf != nil {
		o.TLSConfig = tlsConf
		o.TLS = true
		o.TLSTimeout = 5
	}
	return nil
}
