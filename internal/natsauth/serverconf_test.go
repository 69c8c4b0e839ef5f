package natsauth

import (
	"strings"
	"testing"

	"github.com/nats-io/nkeys"

	"github.com/ppnet/ppnet/internal/netconfig"
)

func TestServerAuthorizationErrors(t *testing.T) {
	n := testNetwork(t)
	key := func() string {
		kp, err := nkeys.CreateUser()
		if err != nil {
			t.Fatal(err)
		}
		pub, _ := kp.PublicKey()
		return pub
	}
	shared := key()
	for _, tc := range []struct {
		name  string
		users []ServerUser
		want  string
	}{
		{"seed", []ServerUser{{Identity{RolePPN, "ppn1"}, "SUAIBDPBAUTWCWBKIO6XHQNINK5FWJW4OHLXC3HQ2KFE4PEJUA44CNHTC4"}}, "not a public user key"},
		{"shared", []ServerUser{{Identity{RolePPN, "ppn1"}, shared}, {Identity{RolePPN, "ppn2"}, shared}}, "share nkey"},
		{"unknown", []ServerUser{{Identity{RolePPN, "ppn9"}, key()}}, "ppn/ppn9 is in none of the epochs"},
	} {
		if _, err := ServerAuthorization([]*netconfig.Network{n}, tc.users); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want %q", tc.name, err, tc.want)
		}
	}
	if _, err := ServerAuthorization(nil, nil); err == nil || !strings.Contains(err.Error(), "give at least one epoch") {
		t.Errorf("no network: err = %v", err)
	}
	b, err := ServerAuthorization([]*netconfig.Network{n, n}, []ServerUser{{Identity{RolePPN, "ppn1"}, key()}})
	if err != nil {
		t.Fatal(err)
	}
	if s := string(b); strings.Count(s, `"ppnet.seal"`) != 1 || !strings.Contains(s, `"ppnet.agg.dso"`) || strings.Contains(s, `\u`) {
		t.Errorf("rendered:\n%s", s)
	}
}
