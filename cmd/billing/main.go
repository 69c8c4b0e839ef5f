// Command billing runs the billing consumer daemon: a ppnet consumer of
// per-producer rules that issues customer bills, sends notifications and
// serves the billing web UI. See internal/billingd and docs/billing.md.
// Flags: billing -h.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/ppnet/ppnet/internal/billingd"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := billingd.Main(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
