package ppn

import (
	"errors"
	"fmt"
	"testing"

	"github.com/nats-io/nats.go/jetstream"
)

func TestSealRace(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		// jetstream.Publish wraps the server's answer as "nats: %w".
		{"duplicate in process", fmt.Errorf("nats: %w", &jetstream.APIError{Code: 409, ErrorCode: 10158, Description: "duplicate message id is in process"}), true},
		{"other API error", fmt.Errorf("nats: %w", &jetstream.APIError{Code: 503, ErrorCode: 10008, Description: "jetstream temporarily unavailable"}), false},
		{"timeout", errors.New("context deadline exceeded"), false},
	}
	for _, tc := range tests {
		if got := sealRace(tc.err); got != tc.want {
			t.Errorf("%s: sealRace = %v, want %v", tc.name, got, tc.want)
		}
	}
}
