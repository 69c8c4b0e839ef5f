// Command ppn runs the ppnet ppn daemon; see internal/ppn and
// docs/network.md. Flags: ppn -h.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/ppnet/ppnet/internal/ppn"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := ppn.Main(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
