package devnet

import (
	"crypto/ecdh"
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/ppnet/ppnet/internal/fddm/bulletin"
	"github.com/ppnet/ppnet/internal/fddm/fedavg"
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
//
// With o.FDDM it adds the FedAvg participants f001…, consumer fedavg and the
// component rules (as the devnet does) and writes dir/fedavg.yaml: the
// fedavg: settings that consumer fedavg and every participant's producer
// must be given. It returns those settings (nil without o.FDDM).
func WriteGenerated(dir string, o Options, startIn time.Duration) (*fedavg.Settings, error) {
	o.defaults()
	c, k, err := netconfig.Generate(o.spec(time.Now().Add(startIn)), rand.Reader)
	if err != nil {
		return nil, err
	}
	var set *fedavg.Settings
	if o.FDDM != nil {
		f := *o.FDDM
		if err := f.fit(o); err != nil {
			return nil, err
		}
		if f.Participants < 1 {
			return nil, fmt.Errorf("devnet: %d FedAvg participants; fix: --fedavg-participants ≥ 1, or --fedavg-rounds 0", f.Participants)
		}
		if _, _, err := addFedAvgConfig(c, k, f, o.W); err != nil {
			return nil, err
		}
		set = &fedavg.Settings{Prefix: "fedavg", First: fedavgFirst, Stride: f.Stride, Rounds: uint64(f.Rounds), MaxSamples: uint64(f.TrainDays * 96), Bucket: bulletin.Bucket}
	}
	if err := WriteNetwork(dir, c, k); err != nil {
		return nil, err
	}
	if set != nil {
		b, err := yaml.Marshal(map[string]*fedavg.Settings{"fedavg": set})
		if err != nil {
			return nil, fmt.Errorf("devnet: %v", err)
		}
		if err := os.WriteFile(filepath.Join(dir, "fedavg.yaml"), b, 0o644); err != nil {
			return nil, fmt.Errorf("devnet: %v", err)
		}
	}
	if !o.Secure {
		return set, nil
	}
	n, err := c.Resolve()
	if err != nil {
		return nil, err
	}
	nk, err := natsauth.Generate(n, WrittenAdminID, rand.Reader)
	if err != nil {
		return nil, err
	}
	return set, nk.WriteFiles(filepath.Join(dir, "keys", "nats"))
}

// WrittenAdminID is the id of the admin whose key WriteGenerated writes
// (keys/nats/admin-admin.nkey).
const WrittenAdminID = "admin"
