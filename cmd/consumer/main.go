// Command consumer runs the ppnet consumer daemon; see internal/consumer and
// docs/network.md. Flags: consumer -h.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/ppnet/ppnet/internal/consumer"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := consumer.Main(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
