package netbench

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/ppnet/ppnet/internal/natsx"
)

// env is one fresh embedded server (file storage, as the daemons run it)
// and a plain client connection to it.
type env struct {
	dir string
	srv *server.Server
	nc  *nats.Conn
	js  jetstream.JetStream
}

func newEnv(parent string) (*env, error) {
	dir, err := os.MkdirTemp(parent, "netbench-")
	if err != nil {
		return nil, fmt.Errorf("netbench: %v", err)
	}
	srv, err := natsx.StartServer(natsx.ServerOptions{Dir: dir, Name: "netbench"})
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	nc, err := nats.Connect(srv.ClientURL())
	if err != nil {
		srv.Shutdown()
		os.RemoveAll(dir)
		return nil, fmt.Errorf("netbench: connect: %v", err)
	}
	js, err := jetstream.New(nc, jetstream.WithPublishAsyncMaxPending(4096))
	if err != nil {
		nc.Close()
		srv.Shutdown()
		os.RemoveAll(dir)
		return nil, fmt.Errorf("netbench: jetstream: %v", err)
	}
	return &env{dir: dir, srv: srv, nc: nc, js: js}, nil
}

func (e *env) close() {
	e.nc.Close()
	e.srv.Shutdown()
	e.srv.WaitForShutdown()
	os.RemoveAll(e.dir)
}

// stream creates a file-storage stream name on subject subj.
func (e *env) stream(ctx context.Context, name, subj string) error {
	_, err := e.js.CreateStream(ctx, jetstream.StreamConfig{Name: name, Subjects: []string{subj}, Storage: jetstream.FileStorage,
		Duplicates: natsx.DedupWindow})
	if err != nil {
		return fmt.Errorf("netbench: stream %s: %v", name, err)
	}
	return nil
}

// publishAsync publishes msgs on subj (message ids if ids is set) with
// asynchronous acknowledgements and waits for all of them.
func (e *env) publishAsync(ctx context.Context, msgs []bundle) error {
	for _, m := range msgs {
		opts := []jetstream.PublishOpt{jetstream.WithStallWait(time.Minute)}
		if m.msgID != "" {
			opts = append(opts, jetstream.WithMsgID(m.msgID))
		}
		if _, err := e.js.PublishAsync(m.subject, m.data, opts...); err != nil {
			return fmt.Errorf("netbench: publish: %v", err)
		}
	}
	select {
	case <-e.js.PublishAsyncComplete():
	case <-ctx.Done():
		return fmt.Errorf("netbench: %d acknowledgements outstanding: %w", e.js.PublishAsyncPending(), ctx.Err())
	}
	return nil
}

// consumeAll reads n messages from cons and acks each one if ack is set.
func consumeAll(ctx context.Context, cons jetstream.Consumer, n int, ack bool) error {
	it, err := cons.Messages(jetstream.PullMaxMessages(1024))
	if err != nil {
		return fmt.Errorf("netbench: consume: %v", err)
	}
	defer it.Stop()
	for i := 0; i < n; i++ {
		if ctx.Err() != nil {
			return fmt.Errorf("netbench: %d of %d messages read: %w", i, n, ctx.Err())
		}
		m, err := it.Next()
		if err != nil {
			return fmt.Errorf("netbench: after %d of %d messages: %v", i, n, err)
		}
		if ack {
			if err := m.Ack(); err != nil {
				return fmt.Errorf("netbench: ack: %v", err)
			}
		}
	}
	return nil
}

// RawResult is the plain nats.go baseline on 64-byte messages.
type RawResult struct {
	Messages                          int
	Publish, Ordered, Durable         time.Duration
	DurableCPU                        time.Duration // process CPU time of the durable consume
	PublishRate, OrderedRate, DurRate float64       // messages per second
}

// Raw measures async publish, ordered consume and durable pull consume
// with explicit acks of n 64-byte messages on a fresh server.
func Raw(ctx context.Context, dir string, n int) (*RawResult, error) {
	e, err := newEnv(dir)
	if err != nil {
		return nil, err
	}
	defer e.close()
	if err := e.stream(ctx, "RAW", "raw.>"); err != nil {
		return nil, err
	}
	payload := make([]byte, 64)
	msgs := make([]bundle, n)
	for i := range msgs {
		msgs[i] = bundle{subject: "raw.x", data: payload}
	}
	res := &RawResult{Messages: n}
	t0 := time.Now()
	if err := e.publishAsync(ctx, msgs); err != nil {
		return nil, err
	}
	res.Publish = time.Since(t0)

	oc, err := e.js.OrderedConsumer(ctx, "RAW", jetstream.OrderedConsumerConfig{})
	if err != nil {
		return nil, fmt.Errorf("netbench: ordered consumer: %v", err)
	}
	t0 = time.Now()
	if err := consumeAll(ctx, oc, n, false); err != nil {
		return nil, err
	}
	res.Ordered = time.Since(t0)

	dc, err := e.js.CreateConsumer(ctx, "RAW", jetstream.ConsumerConfig{Durable: "bench", AckPolicy: jetstream.AckExplicitPolicy,
		MaxAckPending: 4096})
	if err != nil {
		return nil, fmt.Errorf("netbench: durable consumer: %v", err)
	}
	t0, c0 := time.Now(), processCPU()
	if err := consumeAll(ctx, dc, n, true); err != nil {
		return nil, err
	}
	res.Durable, res.DurableCPU = time.Since(t0), processCPU()-c0
	res.PublishRate = rate(n, res.Publish)
	res.OrderedRate = rate(n, res.Ordered)
	res.DurRate = rate(n, res.Durable)
	return res, nil
}

func rate(n int, d time.Duration) float64 { return float64(n) / d.Seconds() }
