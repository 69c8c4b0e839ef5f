// Command producer runs the ppnet producer daemon; see internal/producer and
// docs/network.md. Flags: producer -h.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/ppnet/ppnet/internal/fddm/fednet"
	"github.com/ppnet/ppnet/internal/producer"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := producer.MainWith(ctx, os.Args[1:], os.Stdout, os.Stderr, producer.Hooks{Participate: fednet.Participate})
	stop()
	os.Exit(code)
}
