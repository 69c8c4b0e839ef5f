package consumer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/ppnet/ppnet/internal/fddm/fedavg"
	"github.com/ppnet/ppnet/internal/netconfig"
)

// Coordination is what a Coordinate function gets from the consumer.
type Coordination struct {
	Net      *netconfig.Network
	JS       jetstream.JetStream
	Settings fedavg.Settings
	Create   bool // the consumer declares the streams: it may create the bulletin bucket
	Logger   *slog.Logger
	Now      func() time.Time
}

// Coordinate returns a writer that takes the consumer's final results as
// JSON lines and runs the FedAvg coordinator on them. internal/fddm/fednet
// implements it (fednet.Coordinate); it is a hook because fednet builds on
// this package.
type Coordinate func(ctx context.Context, c Coordination) (io.Writer, error)

// startCoordinator plugs the FedAvg coordinator into the consumer's output
// and replays the final results stored before a restart to it, so the
// rounds recovered before the restart are published (again, idempotently).
func (c *Consumer) startCoordinator(ctx context.Context) error {
	if c.cfg.FedAvg == nil {
		return nil
	}
	if c.cfg.Coordinate == nil {
		return errors.New("consumer: fedavg is configured but this program cannot coordinate (embedders set Config.Coordinate to fednet.Coordinate)")
	}
	w, err := c.cfg.Coordinate(ctx, Coordination{Net: c.net, JS: c.js, Settings: *c.cfg.FedAvg,
		Create: c.Declares(), Logger: c.log, Now: c.now})
	if err != nil {
		return err
	}
	stored, err := results(c.db)
	if err != nil {
		return err
	}
	for _, r := range stored {
		if !r.Final {
			continue
		}
		b, err := json.Marshal(r)
		if err != nil {
			return fmt.Errorf("consumer: %v", err)
		}
		if _, err := w.Write(append(b, '\n')); err != nil {
			return fmt.Errorf("consumer: fedavg coordinator: %v", err)
		}
	}
	if c.cfg.Out != nil {
		w = io.MultiWriter(c.cfg.Out, w)
	}
	c.cfg.Out = w
	return nil
}

// JetStream returns the consumer's JetStream context (nil before Start),
// for an embedder that publishes beside it (the billing daemon's period
// closes).
func (c *Consumer) JetStream() jetstream.JetStream { return c.js }

// Declares reports whether the consumer declares the streams itself (and
// so may create the buckets beside them): not with SkipStreams nor on a
// secured embedded server whose admin declared them.
func (c *Consumer) Declares() bool {
	return !c.cfg.SkipStreams && (c.nats == nil || !c.nats.StreamsDeclared)
}
