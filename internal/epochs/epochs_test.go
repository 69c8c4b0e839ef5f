package epochs

import (
	"strings"
	"testing"
)

func TestCheckFlags(t *testing.T) {
	tests := []struct {
		name, network, kv, nats, want string
	}{
		{"static file", "net.yaml", "", "", ""},
		{"follow", "", "ppnet_config", "nats://127.0.0.1:4222", ""},
		{"both", "net.yaml", "ppnet_config", "nats://x", "ppn: both --network net.yaml and --kv ppnet_config given; use --network FILE"},
		{"neither", "", "", "", "ppn: no network configuration; pass --network FILE (one static epoch) or --kv ppnet_config with --nats URL"},
		{"kv without nats", "", "ppnet_config", "", "ppn: --kv ppnet_config needs --nats URL"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckFlags("ppn", tc.network, tc.kv, tc.nats)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("got %v; want %q", err, tc.want)
			}
		})
	}
}
