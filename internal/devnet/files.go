package devnet

import (
	"crypto/ecdh"
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/ppnet/ppnet/internal/natsauth"
	"github.com/ppnet/ppnet/internal/netconfig"
	"github.com/ppnet/ppnet/internal/seal"
)

// WriteNetwork writes a generated network for running the daemons
// separately: dir/network.yaml, and each party's private key in
// dir/keys/<id>.key (mode 0600). Any key file already there is an error:
// keys are never overwritten.
func WriteNetwork(dir string, c *netconfig.Config, k *netconfig.Keys) error {
	y, err := c.Marshal()
	if err != nil {
		return fmt.Errorf("devnet: %v", err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "keys"), 0o700); err != nil {
		return fmt.Errorf("devnet: %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "network.yaml"), y, 0o644); err != nil {
		return fmt.Errorf("devnet: %v", err)
	}
	write := func(id string, key *ecdh.PrivateKey) error {
		f, err := os.OpenFile(filepath.Join(dir, "keys", id+".key"), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return fmt.Errorf("devnet: %v; remove old keys first", err)
		}
		if _, err := fmt.Fprintln(f, seal.EncodeKey(key.Bytes())); err != nil {
			f.Close()
			return fmt.Errorf("devnet: %v", err)
		}
		return f.Close()
	}
	for i, p := range c.PPNs {
		if err := write(p.ID, k.PPNs[i]); err != nil {
			return err
		}
	}
	for i, p := range c.Consumers {
		if err := write(p.ID, k.Consumers[i]); err != nil {
			return err
		}
	}
	for i, p := range c.Producers {
		if err := write(p.ID, k.Producers[i]); err != nil {
			return err
		}
	}
	return nil
}

// WriteGenerated generates the devnet's network for o, with round 0
// starting after startIn, and writes it with WriteNetwork. With o.Secure it
// also writes the NATS users file and one NKey user key per role identity
// (and the admin, id "admin", who declares the streams) to dir/keys/nats:
// users.yaml and <role>-<id>.nkey (mode 0600; docs/security.md).
func WriteGenerated(dir string, o Options, startIn time.Duration) error {
	o.defaults()
	c, k, err := netconfig.Generate(o.spec(time.Now().Add(startIn)), rand.Reader)
	if err != nil {
		return err
	}
	if err := WriteNetwork(dir, c, k); err != nil {
		return err
	}
	if !o.Secure {
		return nil
	}
	n, err := c.Resolve()
	if err != nil {
		return err
	}
	nk, err := natsauth.Generate(n, WrittenAdminID, rand.Reader)
	if err != nil {
		return err
	}
	return nk.WriteFiles(filepath.Join(dir, "keys", "nats"))
}

// WrittenAdminID is the id of the admin whose key WriteGenerated writes
// (keys/nats/admin-admin.nkey).
const WrittenAdminID = "admin"
