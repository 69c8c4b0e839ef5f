package billingd_test

import (
	"context"
	"os"
	"os/signal"
	"syscall"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/ppnet/ppnet/internal/billingd"
	"github.com/ppnet/ppnet/internal/devnet"
	"github.com/ppnet/ppnet/internal/natsx"
	"github.com/ppnet/ppnet/internal/ppn"
	"github.com/ppnet/ppnet/internal/producer"
)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"billing":  func() { os.Exit(billingd.Main(signalContext(), os.Args[1:], os.Stdout, os.Stderr)) },
		"devnet":   func() { os.Exit(devnet.Main(context.Background(), os.Args[1:], os.Stdout, os.Stderr)) },
		"ppn":      func() { os.Exit(ppn.Main(signalContext(), os.Args[1:], os.Stdout, os.Stderr)) },
		"producer": func() { os.Exit(producer.Main(signalContext(), os.Args[1:], os.Stdout, os.Stderr)) },
	})
}

// TestScripts runs cmd/billing as a process beside the other daemons
// (testdata/script).
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:  "testdata/script",
		Cmds: map[string]func(*testscript.TestScript, bool, []string){"natsserver": natsServer, "notifyservers": notifyServers, "notified": notified},
	})
}

func signalContext() context.Context {
	ctx, _ := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	return ctx
}

// natsServer starts an embedded NATS server on a free port for the rest of
// the script and sets $NATS to its URL.
func natsServer(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 0 {
		ts.Fatalf("usage: natsserver")
	}
	s, err := natsx.StartServer(natsx.ServerOptions{Dir: ts.MkAbs("nats-store")})
	if err != nil {
		ts.Fatalf("%v", err)
	}
	ts.Defer(func() {
		s.Shutdown()
		s.WaitForShutdown()
	})
	ts.Setenv("NATS", s.ClientURL())
}
