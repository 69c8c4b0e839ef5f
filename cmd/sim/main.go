// Command sim runs ppnet's simulations: the loss analysis (sim loss),
// synthetic smart-meter readings (sim households) and the in-process scale
// simulation (sim scale). See docs/simulation.md.
package main

import (
	"context"
	"os"
	"os/signal"

	"github.com/ppnet/ppnet/internal/simcli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := simcli.Main(ctx, os.Args[1:], &simcli.Env{Stdout: os.Stdout, Stderr: os.Stderr})
	stop()
	os.Exit(code)
}
