package billingd

import (
	"crypto/ecdh"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/ppnet/ppnet/internal/consumer"
	"github.com/ppnet/ppnet/internal/netconfig"
)

func consumerConfig(url string, n *netconfig.Network, key *ecdh.PrivateKey, dir string) consumer.Config {
	return consumer.Config{ID: "utility", NATS: url, DataDir: dir, Settle: 500 * time.Millisecond, Net: n, Key: key}
}

func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", url, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
}
