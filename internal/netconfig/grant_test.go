package netconfig

import (
	"crypto/rand"
	"strings"
	"testing"
)

func TestGrantRoundTripAndCheck(t *testing.T) {
	c, _, err := Generate(testSpec(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	c.Consumers[0].Grant = &Grant{Kinds: []string{KindSum}, MinWindow: 1, MinCohort: 5}
	y, err := c.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	c2, err := Parse(y)
	if err != nil {
		t.Fatal(err)
	}
	n, err := c2.Resolve()
	if err != nil {
		t.Fatal(err)
	}
	if g := n.Config.Consumers[0].Grant; g == nil || g.MinCohort != 5 || !g.Allows(KindSum) || g.Allows(KindPerProducer) {
		t.Errorf("grant after round trip: %+v", g)
	}
	if n.Config.Consumers[1].Grant != nil {
		t.Error("a consumer without grant got one")
	}
	for _, tc := range []struct {
		g    Grant
		want string
	}{
		{Grant{Kinds: []string{KindSum}, MinWindow: 0, MinCohort: 5}, "min_window 0"},
		{Grant{Kinds: []string{"avg"}, MinWindow: 1, MinCohort: 1}, `kind "avg"`},
	} {
		c2.Consumers[0].Grant = &tc.g
		if _, err := c2.Resolve(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("grant %+v: err = %v, want %q", tc.g, err, tc.want)
		}
	}
}
