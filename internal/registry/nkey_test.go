package registry

import (
	"errors"
	"strings"
	"testing"

	"github.com/nats-io/nkeys"
)

func TestNKeys(t *testing.T) {
	r, _ := fixture(t)
	user := func() string {
		kp, err := nkeys.CreateUser()
		if err != nil {
			t.Fatal(err)
		}
		pub, _ := kp.PublicKey()
		return pub
	}
	k1 := user()
	key := keyGen(t, 99)
	if err := r.AddProducer(Producer{ID: "h99", Max: 1, PublicKey: key(), NKey: "UNOTAKEY"}); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), `producer "h99" nkey`) {
		t.Fatalf("bad nkey at enrolment: %v", err)
	}
	must(t, r.AddProducer(Producer{ID: "h99", Max: 1, PublicKey: key(), NKey: k1}))
	must(t, r.SetNKey("ppn", "ppn1", user()))
	if err := r.SetNKey("ppn", "ppn2", k1); !errors.Is(err, ErrExists) || !strings.Contains(err.Error(), "producer h99") {
		t.Errorf("shared nkey: %v", err)
	}
	if err := r.SetNKey("consumer", "nobody", user()); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown consumer: %v", err)
	}
	if err := r.SetNKey("meter", "h1", user()); !errors.Is(err, ErrInvalid) {
		t.Errorf("unknown kind: %v", err)
	}
	ks, err := r.NKeys()
	must(t, err)
	if len(ks) != 2 || ks["producer h99"] != k1 || ks["ppn ppn1"] == "" {
		t.Errorf("NKeys = %v", ks)
	}
}
