package configurator

import (
	"context"
	"fmt"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/nats-io/nkeys"

	"github.com/ppnet/ppnet/internal/natsauth"
	"github.com/ppnet/ppnet/internal/netconfig"
	"github.com/ppnet/ppnet/internal/registry"
)

func nkeysCommand() command {
	return command{"enrol the NATS user keys (NKeys) of producers, PPNs and consumers (registry)", group("nkeys", map[string]command{
		"set":  {"enrol or rotate the NKey public key of a producer, PPN or consumer", runNKeysSet},
		"list": {"list the enrolled NKeys", runNKeysList},
	})}
}

func runNKeysSet(_ context.Context, args []string, env *Env) error {
	fs, rf := newRegFlagSet("nkeys set", "Enrols (or replaces) the NATS user public key of an enrolled party; the party keeps the seed.", env, false)
	kind := fs.String("role", "", "producer, ppn or consumer")
	id := fs.String("id", "", "the party's id")
	key := fs.String("nkey", "", "NATS user public key, \"U…\" (never the seed)")
	if err := parseFlags(fs, args, env); err != nil {
		return err
	}
	if err := need(fs, env, "role", "id", "nkey"); err != nil {
		return err
	}
	return withRegistry(rf, func(r *registry.Registry) error { return r.SetNKey(*kind, *id, *key) })
}

func runNKeysList(_ context.Context, args []string, env *Env) error {
	fs, rf := newRegFlagSet("nkeys list", "Lists the enrolled NKeys by holder.", env, true)
	if err := parseFlags(fs, args, env); err != nil {
		return err
	}
	return withRegistry(rf, func(r *registry.Registry) error {
		ks, err := r.NKeys()
		if err != nil {
			return err
		}
		if rf.jsonOut {
			return writeJSON(env.Stdout, ks)
		}
		for _, h := range slices.Sorted(maps.Keys(ks)) {
			fmt.Fprintf(env.Stdout, "%-40s %s\n", h, ks[h])
		}
		return nil
	})
}

// epochList collects repeated --epoch flags.
type epochList []uint32

func (e *epochList) String() string { return fmt.Sprint([]uint32(*e)) }

func (e *epochList) Set(s string) error {
	n, err := strconv.ParseUint(s, 10, 32)
	if err != nil || n == 0 {
		return fmt.Errorf("epoch %q; give an epoch number ≥ 1 (epoch show lists them)", s)
	}
	*e = append(*e, uint32(n))
	return nil
}

func runNATSConfig(_ context.Context, args []string, env *Env) error {
	fs, rf := newRegFlagSet("nats-config",
		"Renders the authorization block of a standalone nats-server: one NKey user per producer, PPN and consumer of the epoch, "+
			"with the permissions of docs/security.md (their own subjects, the ppnet_config watch), from the keys enrolled with "+
			"'nkeys set' and the epoch's assignment. Include it from the server's configuration (include \"ppnet-auth.conf\"). "+
			"Give --epoch twice across an epoch switch: users get the union of both epochs' permissions.", env, false)
	var epochs epochList
	var admins listFlag
	fs.Var(&epochs, "epoch", "`N`: the epoch whose assignment decides the permissions (repeatable: the union)")
	fs.Var(&admins, "admin-nkey", "NKey public `key`s of admin users (the configurator publishing epochs, whoever declares the streams), comma-separated")
	out := fs.String("out", "", "write to this `file` (mode 0644; it holds public keys only) instead of stdout")
	prefix := fs.String("prefix", "ppnet", "subject prefix, as given to epoch publish")
	if err := parseFlags(fs, args, env); err != nil {
		return err
	}
	if len(epochs) == 0 {
		return usageErr(fs, env, "--epoch is required: the epoch whose assignment decides the permissions")
	}
	var conf []byte
	err := withRegistry(rf, func(r *registry.Registry) error {
		var nets []*netconfig.Network
		for _, num := range epochs {
			e, next, err := r.Epoch(num)
			if err != nil {
				return err
			}
			c, err := e.Render(next, &registry.RenderOptions{Prefix: *prefix})
			if err != nil {
				return err
			}
			n, err := c.Resolve()
			if err != nil {
				return err
			}
			nets = append(nets, n)
		}
		ks, err := r.NKeys()
		if err != nil {
			return err
		}
		var users []natsauth.ServerUser
		for i, k := range admins {
			if !nkeys.IsValidPublicUserKey(k) {
				return fmt.Errorf("configurator: --admin-nkey %q is not a NATS user public key (\"U…\"); give the public key of the admin's seed", k)
			}
			users = append(users, natsauth.ServerUser{Identity: natsauth.Identity{Role: natsauth.RoleAdmin, ID: "admin" + strconv.Itoa(i+1)}, NKey: k})
		}
		seen := map[natsauth.Identity]bool{}
		var missing []string
		for _, n := range nets {
			for _, id := range natsauth.Identities(n) {
				if seen[id] {
					continue
				}
				seen[id] = true
				k, ok := ks[string(id.Role)+" "+id.ID]
				if !ok {
					missing = append(missing, id.String())
					continue
				}
				users = append(users, natsauth.ServerUser{Identity: id, NKey: k})
			}
		}
		if len(missing) > 0 {
			more := ""
			if len(missing) > 5 {
				more, missing = fmt.Sprintf(" and %d more", len(missing)-5), missing[:5]
			}
			return fmt.Errorf("configurator: no NKey enrolled for %s%s; enrol each with 'configurator nkeys set --role ROLE --id ID --nkey U…'", strings.Join(missing, ", "), more)
		}
		if len(admins) == 0 {
			fmt.Fprintln(env.Stderr, "configurator nats-config: warning: no --admin-nkey; nobody can declare streams or publish epochs with this file")
		}
		conf, err = natsauth.ServerAuthorization(nets, users)
		return err
	})
	if err != nil {
		return err
	}
	if *out == "" {
		_, err = env.Stdout.Write(conf)
		return err
	}
	if err := os.WriteFile(*out, conf, 0o644); err != nil {
		return fmt.Errorf("configurator: %v; check --out", err)
	}
	return nil
}
