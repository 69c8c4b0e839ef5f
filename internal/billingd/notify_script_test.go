package billingd_test

import (
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/ppnet/ppnet/internal/billing/notify/notifytest"
)

// servers holds each running script's notification servers.
var servers sync.Map // *testscript.TestScript → notifyPair

type notifyPair struct {
	gateway *notifytest.Gateway
	smtp    *notifytest.SMTP
}

func serversOf(ts *testscript.TestScript) notifyPair {
	v, ok := servers.Load(ts)
	if !ok {
		ts.Fatalf("notified: run notifyservers first")
	}
	return v.(notifyPair)
}

// notifyServers starts the local DLT SMS gateway and the SMTP server (AUTH
// PLAIN as user "bills", password "s3cret-smtp") on 127.0.0.1 for the rest
// of the script and sets $SMS_URL and $SMTP_PORT.
func notifyServers(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 0 {
		ts.Fatalf("usage: notifyservers")
	}
	g := notifytest.NewGateway(0)
	srv := httptest.NewServer(g)
	smtp, err := notifytest.NewSMTP()
	if err != nil {
		ts.Fatalf("%v", err)
	}
	smtp.User, smtp.Password = "bills", "s3cret-smtp"
	ts.Defer(func() { srv.Close(); smtp.Close() })
	servers.Store(ts, notifyPair{g, smtp})
	ts.Defer(func() { servers.Delete(ts) })
	ts.Setenv("SMS_URL", srv.URL+"/send")
	ts.Setenv("SMTP_PORT", strconv.Itoa(smtp.Port()))
}

// notified checks what the servers of notifyservers received:
//
//	notified sms N [header:Name=value | form:key=value ...]
//	notified email N [auth=user | substring ...]
//
// N messages accepted; for SMS the last request carried each header and
// form value; for e-mail every message was sent after AUTH as user and
// contains each substring.
func notified(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: notified sms|email N [checks...]")
	}
	want, err := strconv.Atoi(args[1])
	if err != nil {
		ts.Fatalf("notified: count %q", args[1])
	}
	switch args[0] {
	case "sms":
		g := serversOf(ts).gateway
		accepted, last, form := g.Snapshot()
		n := 0
		for ref, c := range accepted {
			if c != 1 {
				ts.Fatalf("gateway accepted reference %s %d times", ref, c)
			}
			n += c
		}
		if n != want {
			ts.Fatalf("gateway accepted %d messages, want %d", n, want)
		}
		for _, c := range args[2:] {
			kind, kv, _ := strings.Cut(c, ":")
			k, v, _ := strings.Cut(kv, "=")
			got := form[k]
			if kind == "header" {
				got = last.Get(k)
			}
			if got != v {
				ts.Fatalf("gateway request %s %s = %q, want %q", kind, k, got, v)
			}
		}
	case "email":
		msgs := serversOf(ts).smtp.Messages()
		if len(msgs) != want {
			ts.Fatalf("smtp server received %d messages, want %d", len(msgs), want)
		}
		for _, m := range msgs {
			for _, c := range args[2:] {
				if user, ok := strings.CutPrefix(c, "auth="); ok {
					if m.Auth != user {
						ts.Fatalf("message to %v sent as %q, want AUTH as %q", m.To, m.Auth, user)
					}
				} else if !strings.Contains(m.Data, c) {
					ts.Fatalf("message to %v lacks %q:\n%s", m.To, c, m.Data)
				}
			}
		}
	default:
		ts.Fatalf("notified: channel %q", args[0])
	}
}
