// Package notifytest runs the local counterparts of a notification
// provider for tests: a DLT SMS HTTP gateway (Gateway, served with
// net/http/httptest) and a minimal SMTP server (StartSMTP) on 127.0.0.1 at
// an ephemeral port. Both record what they received.
package notifytest

import (
	"bufio"
	"encoding/base64"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
)

// Gateway is a fake DLT SMS gateway: it fails the first FailN requests
// with 503, refuses (400) a request without a template id or an Indian
// number, and records the references it accepted with the last accepted
// request's headers and form. Read the fields once requests are done.
type Gateway struct {
	mu       sync.Mutex
	FailN    int
	Requests int
	Accepted map[string]int // reference → times accepted
	Last     http.Header
	Form     map[string]string
}

// NewGateway returns a gateway that fails the first failN requests.
func NewGateway(failN int) *Gateway { return &Gateway{FailN: failN, Accepted: map[string]int{}} }

// ServeHTTP implements http.Handler.
func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.Requests++
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	if g.Requests <= g.FailN {
		http.Error(w, "busy", http.StatusServiceUnavailable)
		return
	}
	if r.FormValue("template_id") == "" || !strings.HasPrefix(r.FormValue("to"), "+91") {
		http.Error(w, "template or number missing", http.StatusBadRequest)
		return
	}
	g.Last, g.Form = r.Header.Clone(), map[string]string{}
	for k := range r.PostForm {
		g.Form[k] = r.PostForm.Get(k)
	}
	g.Accepted[r.FormValue("reference")]++
	w.WriteHeader(http.StatusAccepted)
}

// Snapshot returns the accepted count per reference and the last accepted
// request's headers and form, safely while requests may still arrive.
func (g *Gateway) Snapshot() (accepted map[string]int, last http.Header, form map[string]string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	accepted = map[string]int{}
	for k, v := range g.Accepted {
		accepted[k] = v
	}
	return accepted, g.Last.Clone(), g.Form
}

// Total returns the number of messages accepted.
func (g *Gateway) Total() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	n := 0
	for _, c := range g.Accepted {
		n += c
	}
	return n
}

// SMTP is a minimal SMTP server: it speaks enough of RFC 5321 (EHLO/HELO,
// AUTH PLAIN, MAIL, RCPT, DATA, RSET, NOOP, QUIT) to accept mail and keeps
// what it received.
type SMTP struct {
	ln   net.Listener
	mu   sync.Mutex
	msgs []Received
	wg   sync.WaitGroup
	// RejectRcpt is a recipient refused with 550.
	RejectRcpt string
	// User and Password, when User is set, are the only credentials AUTH
	// PLAIN accepts, and MAIL is refused (530) before a successful AUTH.
	User, Password string
}

// Received is one message the server accepted.
type Received struct {
	From string
	To   []string
	Data string
	Auth string // the user that authenticated, "" without AUTH
}

// StartSMTP listens on 127.0.0.1 at an ephemeral port until the test ends.
func StartSMTP(t testing.TB) *SMTP {
	t.Helper()
	s, err := NewSMTP()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// NewSMTP listens on 127.0.0.1 at an ephemeral port until Close.
func NewSMTP() (*SMTP, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &SMTP{ln: ln}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.wg.Add(1)
			go func() { defer s.wg.Done(); s.serve(c) }()
		}
	}()
	return s, nil
}

// Close stops the server and waits for its connections to end.
func (s *SMTP) Close() {
	s.ln.Close()
	s.wg.Wait()
}

// Port is the server's TCP port.
func (s *SMTP) Port() int { return s.ln.Addr().(*net.TCPAddr).Port }

// Messages returns what the server accepted so far.
func (s *SMTP) Messages() []Received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Received{}, s.msgs...)
}

func (s *SMTP) serve(c net.Conn) {
	defer c.Close()
	r := bufio.NewReader(c)
	say := func(line string) { _, _ = c.Write([]byte(line + "\r\n")) }
	say("220 localhost test smtpd")
	var cur Received
	var user string
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		cmd := strings.ToUpper(strings.TrimSpace(line))
		switch {
		case strings.HasPrefix(cmd, "EHLO"):
			say("250-localhost")
			if s.User != "" {
				say("250-AUTH PLAIN")
			}
			say("250 8BITMIME")
		case strings.HasPrefix(cmd, "HELO"):
			say("250 localhost")
		case strings.HasPrefix(cmd, "AUTH PLAIN"):
			resp := strings.TrimSpace(strings.TrimSpace(line)[len("AUTH PLAIN"):])
			if resp == "" {
				say("334 ")
				l, err := r.ReadString('\n')
				if err != nil {
					return
				}
				resp = strings.TrimSpace(l)
			}
			b, err := base64.StdEncoding.DecodeString(resp)
			parts := strings.Split(string(b), "\x00")
			if err != nil || len(parts) != 3 || s.User == "" || parts[1] != s.User || parts[2] != s.Password {
				say("535 authentication failed")
				continue
			}
			user = parts[1]
			say("235 ok")
		case strings.HasPrefix(cmd, "MAIL FROM:"):
			if s.User != "" && user == "" {
				say("530 authentication required")
				continue
			}
			cur = Received{From: strings.TrimSpace(line[10:]), Auth: user}
			say("250 ok")
		case strings.HasPrefix(cmd, "RCPT TO:"):
			to := strings.Trim(strings.TrimSpace(line[8:]), "<>")
			if s.RejectRcpt != "" && to == s.RejectRcpt {
				say("550 no such user")
				continue
			}
			cur.To = append(cur.To, to)
			say("250 ok")
		case cmd == "DATA":
			say("354 end with .")
			var b strings.Builder
			for {
				l, err := r.ReadString('\n')
				if err != nil {
					return
				}
				if l == ".\r\n" {
					break
				}
				b.WriteString(strings.TrimPrefix(l, "."))
			}
			cur.Data = b.String()
			s.mu.Lock()
			s.msgs = append(s.msgs, cur)
			s.mu.Unlock()
			say("250 queued")
		case cmd == "RSET" || cmd == "NOOP":
			say("250 ok")
		case cmd == "QUIT":
			say("221 bye")
			return
		default:
			say("502 not implemented")
		}
	}
}
