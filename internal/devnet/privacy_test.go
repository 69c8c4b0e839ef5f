package devnet

import (
	"bytes"
	"context"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/ppnet/ppnet/internal/seal"
	"github.com/ppnet/ppnet/internal/wire"
)

// TestEavesdropperSeesOnlyCiphertext subscribes to every subject of the
// NATS server for a whole run, then — using the keys an eavesdropper does
// not have — opens every part and every aggregated share it captured, and
// checks that none of those plaintext 8-byte shares appears in any
// captured message.
func TestEavesdropperSeesOnlyCiphertext(t *testing.T) {
	o := small(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	d, err := Start(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	nc, err := nats.Connect(d.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	var mu sync.Mutex
	var captured [][]byte
	sub, err := nc.Subscribe(">", func(m *nats.Msg) {
		mu.Lock()
		captured = append(captured, append([]byte(nil), m.Data...))
		mu.Unlock()
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := d.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	_ = sub.Unsubscribe()
	mu.Lock()
	defer mu.Unlock()

	var secrets [][]byte // plaintext shares, 8 bytes each
	bundles, aggregates := 0, 0
	for _, msg := range captured {
		typ, err := wire.PeekType(msg)
		if err != nil {
			continue
		}
		switch typ {
		case wire.TypeBundle:
			b, err := wire.DecodeBundle(msg)
			if err != nil {
				t.Fatal(err)
			}
			bundles++
			for _, part := range b.Parts {
				ring := seal.NewKeyring(d.Keys.PPNs[part.PPN], b.Epoch)
				ring.AddPeer(seal.PurposePart, int(b.Sender), d.Net.ProducerKeys[b.Sender])
				aead, _ := ring.AEAD(seal.PurposePart, int(b.Sender))
				p, err := seal.Open(aead, nil, seal.PartNonce(b.Epoch, b.Round, b.Chunk), part.Sealed, wire.PartAAD(nil, b.Header, part.PPN))
				if err != nil {
					t.Fatalf("captured part does not open with its PPN's key: %v", err)
				}
				for i := 0; i+8 <= len(p); i += 8 {
					secrets = append(secrets, p[i:i+8])
				}
			}
		case wire.TypeAggregate:
			a, err := wire.DecodeAggregate(msg)
			if err != nil {
				t.Fatal(err)
			}
			aggregates++
			ring := seal.NewKeyring(d.Keys.Consumers[a.Consumer], a.Epoch)
			ring.AddPeer(seal.PurposeAggregate, int(a.PPN), d.Net.PPNKeys[a.PPN])
			aead, _ := ring.AEAD(seal.PurposeAggregate, int(a.PPN))
			p, err := seal.Open(aead, nil, seal.AggregateNonce(a.Epoch, a.Rule, a.Window), a.Sealed, a.Header)
			if err != nil {
				t.Fatalf("captured aggregate does not open with its consumer's key: %v", err)
			}
			for i := 0; i+8 <= len(p); i += 8 {
				secrets = append(secrets, p[i:i+8])
			}
		}
	}
	if bundles == 0 || aggregates == 0 || len(secrets) < 100 {
		t.Fatalf("captured %d messages: %d bundles, %d aggregates, %d shares; the test saw too little", len(captured), bundles, aggregates, len(secrets))
	}
	leaks := 0
	for _, s := range secrets {
		if s[0] == 0 && s[1] == 0 && s[2] == 0 { // a zero or tiny share (e.g. of an empty window) is not a secret
			continue
		}
		for _, msg := range captured {
			if bytes.Contains(msg, s) {
				leaks++
				break
			}
		}
	}
	if leaks > 0 {
		t.Fatalf("%d of %d plaintext shares appear in captured traffic", leaks, len(secrets))
	}
	t.Logf("captured %d messages (%d bundles, %d aggregates); none contains any of %d plaintext shares", len(captured), bundles, aggregates, len(secrets))
}
