package devnet

import (
	"context"
	"os"
	"os/signal"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/ppnet/ppnet/internal/consumer"
	"github.com/ppnet/ppnet/internal/natsauth"
	"github.com/ppnet/ppnet/internal/natsx"
	"github.com/ppnet/ppnet/internal/netconfig"
	"github.com/ppnet/ppnet/internal/ppn"
	"github.com/ppnet/ppnet/internal/producer"
)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"devnet":   func() { os.Exit(Main(context.Background(), os.Args[1:], os.Stdout, os.Stderr)) },
		"ppn":      func() { os.Exit(ppn.Main(signalContext(), os.Args[1:], os.Stdout, os.Stderr)) },
		"producer": func() { os.Exit(producer.Main(signalContext(), os.Args[1:], os.Stdout, os.Stderr)) },
		"consumer": func() { os.Exit(consumer.Main(signalContext(), os.Args[1:], os.Stdout, os.Stderr)) },
	})
}

// TestScripts runs the command end to end (testdata/script).
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:  "testdata/script",
		Cmds: map[string]func(*testscript.TestScript, bool, []string){"natsserver": natsServer},
	})
}

// signalContext ends on SIGINT or SIGTERM, as the commands' mains do.
func signalContext() context.Context {
	ctx, _ := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	return ctx
}

// natsServer starts an embedded NATS server on a free port for the rest of
// the script and sets $NATS to its URL. With a network file, a users file
// and an admin key file (natsserver NETWORK USERS ADMINKEY) it is secured
// with those users, as an operator would run it, and the admin declares the
// streams, so every role runs with --skip-streams.
func natsServer(ts *testscript.TestScript, neg bool, args []string) {
	if neg || (len(args) != 0 && len(args) != 3) {
		ts.Fatalf("usage: natsserver [NETWORK USERS ADMINKEY]")
	}
	so := natsx.ServerOptions{Dir: ts.MkAbs("nats-store")}
	var n *netconfig.Network
	if len(args) == 3 {
		var err error
		if n, err = netconfig.Load(ts.MkAbs(args[0])); err != nil {
			ts.Fatalf("%v", err)
		}
		if so.Configure, err = (natsauth.ServerFiles{Users: ts.MkAbs(args[1])}).Configure(n); err != nil {
			ts.Fatalf("%v", err)
		}
	}
	s, err := natsx.StartServer(so)
	if err != nil {
		ts.Fatalf("%v", err)
	}
	ts.Defer(func() {
		s.Shutdown()
		s.WaitForShutdown()
	})
	ts.Setenv("NATS", s.ClientURL())
	if n == nil {
		return
	}
	admin := natsauth.Identity{Role: natsauth.RoleAdmin, ID: WrittenAdminID}
	opts, err := (natsauth.ClientFiles{Key: ts.MkAbs(args[2])}).Options(admin, s.ClientURL())
	if err != nil {
		ts.Fatalf("%v", err)
	}
	nc, err := nats.Connect(s.ClientURL(), opts...)
	if err != nil {
		ts.Fatalf("admin connect: %v", err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		ts.Fatalf("%v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := natsx.EnsureStreams(ctx, js, n); err != nil {
		ts.Fatalf("%v", err)
	}
}
