package devnet

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
)

// TestSecured runs the network with one NKey user per role (the default of
// cmd/devnet): every result exact and from all five PPNs — so the
// permissions of internal/natsauth allow everything the roles do — also
// across a PPN restart and a NATS server restart (clients re-authenticate),
// while an anonymous client is refused.
func TestSecured(t *testing.T) {
	tests := []struct {
		name   string
		rounds uint64
		script func(t *testing.T, ctx context.Context, d *Net)
	}{
		{"steady", 8, nil},
		{"PPN restart", 8, func(t *testing.T, ctx context.Context, d *Net) {
			waitFor(t, func() bool { return time.Now().After(d.Net.RoundStart(2)) })
			if err := d.StopPPN(ctx, 2); err != nil {
				t.Fatal(err)
			}
			if err := d.StartPPN(ctx, 2, false); err != nil {
				t.Fatal(err)
			}
		}},
		{"NATS restart", 12, func(t *testing.T, ctx context.Context, d *Net) {
			waitFor(t, func() bool { return time.Now().After(d.Net.RoundStart(3)) })
			if err := d.RestartNATS(3 * d.Opts.Round); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := small(t)
			o.Secure, o.Rounds = true, tc.rounds
			rep := run(t, o, func(ctx context.Context, d *Net) {
				if d.auth == nil {
					t.Fatal("network not secured")
				}
				if nc, err := nats.Connect(d.URL); err == nil {
					nc.Close()
					t.Fatal("anonymous client connected to the secured server")
				} else if !errors.Is(err, nats.ErrAuthorization) {
					t.Fatalf("anonymous client: %v, want an authorization violation", err)
				}
				if tc.script != nil {
					tc.script(t, ctx, d)
				}
			})
			for _, r := range rep.Rows {
				if len(r.PPNs) != 5 || !slices.Contains(r.PPNs, "ppn3") || len(r.Faulty) != 0 || len(r.Mismatched) != 0 {
					t.Errorf("%s window %d: combined %v faulty %v mismatched %v; want all 5 PPNs agreeing",
						r.Rule, r.WindowStart, r.PPNs, r.Faulty, r.Mismatched)
				}
			}
		})
	}
}
