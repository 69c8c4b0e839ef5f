// Command devnet runs a whole ppnet network in one process — embedded NATS,
// PPNs, a concentrator of synthetic meters, three consumers — on a fast
// clock, and prints every result beside the plain sum of the readings it
// covers. See internal/devnet and docs/network.md.
//
//	go run ./cmd/devnet [--meters 1000] [--ppns 5] [--t 3] [--w 5] [--rounds 96] [--out DIR]
package main

import (
	"context"
	"os"
	"os/signal"

	"github.com/ppnet/ppnet/internal/devnet"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := devnet.Main(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
