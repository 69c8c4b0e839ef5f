package faulttest

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/ppnet/ppnet/internal/wire"
)

// logBuffer collects every daemon's log lines; slog writes from many
// goroutines.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// ppnMetric sums metric name over the running PPNs' registries (counters
// and gauges), keeping only series whose labels include every pair of
// labels ("reason", "forged", ...); only, if not nil, lists the PPN
// indexes to read.
func (n *Net) ppnMetric(t *testing.T, name string, only []int, labels ...string) float64 {
	t.Helper()
	var sum float64
	for i, p := range n.ppns {
		if p == nil || (only != nil && !slices.Contains(only, i)) {
			continue
		}
		mfs, err := p.Registry().Gather()
		if err != nil {
			t.Fatal(err)
		}
		for _, mf := range mfs {
			if mf.GetName() != name {
				continue
			}
		series:
			for _, m := range mf.GetMetric() {
				for k := 0; k+1 < len(labels); k += 2 {
					found := false
					for _, lp := range m.GetLabel() {
						if lp.GetName() == labels[k] && lp.GetValue() == labels[k+1] {
							found = true
						}
					}
					if !found {
						continue series
					}
				}
				sum += m.GetCounter().GetValue() + m.GetGauge().GetValue()
			}
		}
	}
	return sum
}

// TestBadInputOverNATS publishes bad messages with js.Publish into the
// bundle stream of a running network on a real nats-server — garbage, a
// truncated bundle, an oversized message, a forged part, a genuine bundle
// re-headed into another round, the same bundle under a new message id
// (duplicate), a genuine bundle after its round's seal (late), and a
// forged seal for the last round published before round 0 — and checks
// every PPN's metric for each, a log line naming each reason, and that
// every result is exact and complete against the meters' own records (so
// the forged seal closed nothing: it would have made honest bundles late).
func TestBadInputOverNATS(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	logs := &logBuffer{}
	srv, n := startNet(ctx, t, Options{Rounds: 8, Round: 200 * time.Millisecond, Grace: time.Second,
		Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelInfo}))})
	js := jetStream(t, srv, "attacker")
	ppns := len(n.Cfg.PPNs) // every meter serves every PPN (w = N): each PPN judges each message
	subj := n.Net.BundleSubject(0)
	pub := func(subject string, msg []byte, id string) {
		t.Helper()
		if _, err := js.Publish(ctx, subject, msg, jetstream.WithMsgID(id)); err != nil {
			t.Fatalf("publish %s: %v", id, err)
		}
	}

	// Before round 0 ends: a forged seal closing every round, and garbage.
	forged := wire.Seal{Epoch: n.Cfg.Epoch, Round: n.Opts.Rounds - 1, PPN: 1, Tags: make([][wire.SealTag]byte, ppns)}
	for i := range forged.Tags {
		rand.Read(forged.Tags[i][:])
	}
	pub(n.Net.SealSubject(), forged.Marshal(), "forged-seal")
	pub(subj, []byte("hello, ppnet"), "garbage")
	// Oversized: the server's max_payload (and the stream's max_msg_size)
	// is wire.MaxMessage, so it never reaches a PPN; the PPN's own check
	// ("oversized") is covered in internal/ppn.
	if _, err := js.Publish(ctx, subj, make([]byte, wire.MaxMessage+1), jetstream.WithMsgID("oversized")); !errors.Is(err, nats.ErrMaxPayload) {
		t.Fatalf("oversized publish: %v, want %v", err, nats.ErrMaxPayload)
	}

	// A genuine bundle of producer 0 for round 1 or later, taken from the
	// stream while its round is still open (its seal is a grace away).
	stream, err := js.Stream(ctx, n.Cfg.Streams.Bundles)
	if err != nil {
		t.Fatal(err)
	}
	var genuine wire.Bundle
	var raw []byte
	waitUntil(t, 30*time.Second, "a round ≥ 1 bundle of "+n.Cfg.Producers[0].ID, func() bool {
		m, err := stream.GetLastMsgForSubject(ctx, subj)
		if err != nil {
			return false
		}
		b, err := wire.DecodeBundle(m.Data)
		if err != nil || b.Round < 1 {
			return false
		}
		genuine, raw = b, m.Data
		return true
	})
	r := genuine.Round
	if r+1 >= n.Opts.Rounds {
		t.Fatalf("first bundle seen is of round %d; too late to re-head it into round %d", r, r+1)
	}
	t.Logf("genuine bundle of %s round %d (%d meters)", n.Cfg.Producers[0].ID, r, len(genuine.Meters))
	pub(subj, raw, "duplicate")
	pub(subj, raw[:len(raw)-5], "truncated")
	flipped := genuine
	flipped.Parts = nil
	for _, p := range genuine.Parts {
		s := append([]byte(nil), p.Sealed...)
		s[len(s)/2] ^= 0x20
		flipped.Parts = append(flipped.Parts, wire.Part{PPN: p.PPN, Sealed: s})
	}
	pub(subj, flipped.Marshal(), "forged-part")
	reheaded := genuine
	reheaded.Round = r + 1
	pub(subj, reheaded.Marshal(), "reheaded")

	// Late: the same genuine bundle again once every PPN has sealed round r.
	waitUntil(t, 30*time.Second, fmt.Sprintf("round %d sealed at every PPN", r), func() bool {
		for i := range n.ppns {
			if n.ppnMetric(t, "ppnet_ppn_seals_total", []int{i}, "result", "applied") == 0 ||
				n.ppnMetric(t, "ppnet_ppn_sealed_round", []int{i}) < float64(r) {
				return false
			}
		}
		return true
	})
	pub(subj, raw, "late")

	if err := n.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	// The stream is idle after the last seal: every PPN has applied
	// everything once its last aggregate is out (Wait saw every result).
	rep, err := n.Check(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d/%d results, %d exact, %d complete, %d readings", rep.Results, rep.Want, rep.Exact, rep.Complete, rep.Readings)
	for _, p := range rep.Problems {
		t.Error(p)
	}

	// One rejection per PPN per bad message, and nothing else rejected.
	want := map[string]float64{"magic": 1, "truncated": 1, "forged": 2, "forged_seal": 1}
	var wantAll float64
	for reason, per := range want {
		wantAll += per * float64(ppns)
		if got := n.ppnMetric(t, "ppnet_ppn_rejected_total", nil, "reason", reason); got != per*float64(ppns) {
			t.Errorf("rejected_total{reason=%q} = %v, want %v", reason, got, per*float64(ppns))
		}
		if !strings.Contains(logs.String(), "reason="+reason) {
			t.Errorf("no log line naming reason %q", reason)
		}
	}
	if got := n.ppnMetric(t, "ppnet_ppn_rejected_total", nil); got != wantAll {
		t.Errorf("rejected_total over all reasons = %v, want %v", got, wantAll)
	}
	// Duplicate: each of the bundle's meters once per rule it is in.
	perPPN := 0
	for _, m := range genuine.Meters {
		for _, rule := range n.Net.Rules {
			if slices.Contains(rule.Meters, m) {
				perPPN++
			}
		}
	}
	if got := n.ppnMetric(t, "ppnet_ppn_shares_duplicate_total", nil); got != float64(perPPN*ppns) {
		t.Errorf("shares_duplicate_total = %v, want %d (%d meter-rule slots at %d PPNs)", got, perPPN*ppns, perPPN, ppns)
	}
	if got := n.ppnMetric(t, "ppnet_ppn_bundles_late_total", nil); got != float64(ppns) {
		t.Errorf("bundles_late_total = %v, want %d (the one replay after the seal, at every PPN)", got, ppns)
	}
	if got := n.ppnMetric(t, "ppnet_ppn_shares_late_total", nil); got != float64(len(genuine.Meters)*ppns) {
		t.Errorf("shares_late_total = %v, want %d", got, len(genuine.Meters)*ppns)
	}
	for _, line := range []string{"duplicate shares counted once", "late bundle counted, not added"} {
		if !strings.Contains(logs.String(), line) {
			t.Errorf("no log line %q", line)
		}
	}
}
