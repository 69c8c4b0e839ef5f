package billingd_test

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/ppnet/ppnet/internal/billingd"
	"github.com/ppnet/ppnet/internal/consumer"
	"github.com/ppnet/ppnet/internal/devnet"
	"github.com/ppnet/ppnet/internal/fddm/fednet"
	"github.com/ppnet/ppnet/internal/natsx"
	"github.com/ppnet/ppnet/internal/ppn"
	"github.com/ppnet/ppnet/internal/producer"
)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"billing": func() { os.Exit(billingd.Main(signalContext(), os.Args[1:], os.Stdout, os.Stderr)) },
		"devnet":  func() { os.Exit(devnet.Main(context.Background(), os.Args[1:], os.Stdout, os.Stderr)) },
		"ppn":     func() { os.Exit(ppn.Main(signalContext(), os.Args[1:], os.Stdout, os.Stderr)) },
		"producer": func() {
			os.Exit(producer.MainWith(signalContext(), os.Args[1:], os.Stdout, os.Stderr, producer.Hooks{Participate: fednet.Participate}))
		},
		"consumer": func() {
			os.Exit(consumer.MainWith(signalContext(), os.Args[1:], os.Stdout, os.Stderr, consumer.Hooks{Coordinate: fednet.Coordinate}))
		},
	})
}

// TestScripts runs cmd/billing as a process beside the other daemons
// (testdata/script).
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:  "testdata/script",
		Cmds: map[string]func(*testscript.TestScript, bool, []string){"natsserver": natsServer, "notifyservers": notifyServers, "notified": notified, "history": history},
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

// history prints the counts of a stopped producer's stored readings by
// kind: history FILE → "readings=N exact=E suppressed=S coarsened=C
// generalised=G".
func history(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: history FILE")
	}
	h, err := producer.OpenHistory(ts.MkAbs(args[0]))
	if err != nil {
		ts.Fatalf("%v", err)
	}
	defer h.Close()
	n := map[byte]int{}
	total := 0
	for e, err := range h.All() {
		if err != nil {
			ts.Fatalf("%v", err)
		}
		n[e.Mask]++
		total++
	}
	fmt.Fprintf(ts.Stdout(), "readings=%d exact=%d suppressed=%d coarsened=%d generalised=%d\n", total,
		n[producer.MaskNone], n[producer.MaskSuppressed], n[producer.MaskCoarsened], n[producer.MaskGeneralised])
}
