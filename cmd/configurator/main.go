// Command configurator plans and configures a ppnet deployment. Its
// subcommands (plan, plan-bench, …) are implemented in
// internal/configurator; run `configurator -h` for the list.
package main

import (
	"context"
	"os"
	"os/signal"

	"github.com/ppnet/ppnet/internal/configurator"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := configurator.Main(ctx, os.Args[1:], &configurator.Env{Stdout: os.Stdout, Stderr: os.Stderr})
	stop()
	os.Exit(code)
}
