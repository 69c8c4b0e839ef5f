// Command consumer runs the ppnet consumer daemon; see internal/consumer and
// docs/network.md. Flags: consumer -h.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/ppnet/ppnet/internal/consumer"
	"github.com/ppnet/ppnet/internal/fddm/fednet"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := consumer.MainWith(ctx, os.Args[1:], os.Stdout, os.Stderr, consumer.Hooks{Coordinate: fednet.Coordinate})
	stop()
	os.Exit(code)
}
