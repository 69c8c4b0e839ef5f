// Command fddm trains the FDDM sensitivity model by federated averaging over
// secret-shared sums (fddm train) and measures the privacy and utility of
// dynamic masking on synthetic households (fddm eval). See docs/fddm.md.
package main

import (
	"context"
	"os"
	"os/signal"

	"github.com/ppnet/ppnet/internal/fddm/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := cli.Main(ctx, os.Args[1:], &cli.Env{Stdout: os.Stdout, Stderr: os.Stderr})
	stop()
	os.Exit(code)
}
