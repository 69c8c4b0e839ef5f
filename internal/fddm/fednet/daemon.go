package fednet

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"time"

	"github.com/ppnet/ppnet/internal/consumer"
	"github.com/ppnet/ppnet/internal/fddm/bulletin"
	"github.com/ppnet/ppnet/internal/fddm/fedavg"
	"github.com/ppnet/ppnet/internal/fddm/model"
	"github.com/ppnet/ppnet/internal/netconfig"
	"github.com/ppnet/ppnet/internal/producer"
	"github.com/ppnet/ppnet/sim/household"
	"github.com/ppnet/ppnet/sim/meterdata"
)

// Participants returns the producers that send the component rule
// <prefix>-c0 of n: the N that the coordinator's and every participant's
// codec are built for.
func Participants(n *netconfig.Network, prefix string) []string {
	id := RuleID(prefix, 0)
	var out []string
	for _, r := range n.Rules {
		if r.ID != id {
			continue
		}
		for _, m := range r.Meters {
			p := n.Config.Producers[n.MeterProducer[m]].ID
			if !slices.Contains(out, p) {
				out = append(out, p)
			}
		}
	}
	return out
}

// settingsCodec fills in s's defaults and builds the codec for the
// participants n has: the same on the coordinator and every participant.
func settingsCodec(n *netconfig.Network, s fedavg.Settings) (fedavg.Settings, *fedavg.Codec, error) {
	set, err := s.WithDefaults()
	if err != nil {
		return set, nil, err
	}
	codec, err := set.Codec(len(Participants(n, set.Prefix)))
	return set, codec, err
}

// NewLocal returns producer k's FedAvg client over its own readings s:
// the model's features against the household's own baseline and the
// labels the meter computes itself (model.DefaultLabels), trained with
// model.DefaultTrain.
func NewLocal(k uint64, s model.Series, codec *fedavg.Codec) (*fedavg.Local, error) {
	b := model.NewBaseline(s.Wh)
	X, err := model.Features(nil, s, b)
	if err != nil {
		return nil, err
	}
	return &fedavg.Local{Producer: k, X: X, Y: model.DefaultLabels().Label(nil, s.Wh, b), Train: model.DefaultTrain(), Codec: codec}, nil
}

// Participate implements producer.Participate: the producer's FedAvg
// source, training on the readings producer.FedAvg names, watching the
// bulletin bucket for the global models.
func Participate(ctx context.Context, p producer.Participant) (producer.Source, func(), error) {
	set, codec, err := settingsCodec(p.Net, p.FedAvg.Settings)
	if err != nil {
		return nil, nil, fmt.Errorf("producer: %w", err)
	}
	series, err := trainingSeries(p.FedAvg, p.ID, p.Seed, set.MaxSamples)
	if err != nil {
		return nil, nil, err
	}
	local, err := NewLocal(uint64(p.Index), series, codec)
	if err != nil {
		return nil, nil, fmt.Errorf("producer: fedavg training data: %w", err)
	}
	bctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	kv, err := bulletin.Bind(bctx, p.JS, set.Bucket, p.Create)
	cancel()
	if err != nil {
		return nil, nil, fmt.Errorf("producer: fedavg: %w", err)
	}
	board, err := bulletin.WatchModels(ctx, kv)
	if err != nil {
		return nil, nil, fmt.Errorf("producer: fedavg: %w", err)
	}
	src, err := NewSource(SourceConfig{Net: p.Net, Producer: p.ID, Client: local, Models: board, Readings: p.Readings, Now: p.Now,
		Rounds: Rounds{First: set.First, Stride: set.Stride, Count: set.Rounds}})
	if err != nil {
		board.Close()
		return nil, nil, err
	}
	p.Logger.Info("fedavg participant", "samples", len(series.Wh), "rounds", set.Rounds, "first", set.First, "stride", set.Stride, "participants", codec.Producers())
	return src, func() { src.Close(); board.Close() }, nil
}

// trainingSeries reads the participant's own readings: the latest max of
// meter TrainMeter in TrainReadings, or TrainDays of a synthetic household.
func trainingSeries(f producer.FedAvg, id string, seed, max uint64) (model.Series, error) {
	if f.TrainReadings == "" {
		days := f.TrainDays
		if days == 0 {
			days = 7
		}
		pop, err := household.NewPopulation(nil, seed)
		if err != nil {
			return model.Series{}, fmt.Errorf("producer: fedavg: %v", err)
		}
		perDay := int64(24 * time.Hour / pop.Interval())
		n := min(uint64(days)*uint64(perDay), max)
		s := model.Series{Start: pop.IntervalStart(0), Interval: pop.Interval()}
		for r := range pop.Meter(f.Household).Readings(0, int(n)) {
			s.Wh = append(s.Wh, r.Wh)
		}
		return s, nil
	}
	meter := f.TrainMeter
	if meter == "" {
		meter = id
	}
	fh, err := os.Open(f.TrainReadings)
	if err != nil {
		return model.Series{}, fmt.Errorf("producer: fedavg.train_readings: %v", err)
	}
	defer fh.Close()
	rd, err := meterdata.NewReader(fh)
	if err != nil {
		return model.Series{}, fmt.Errorf("producer: fedavg.train_readings %s: %w", f.TrainReadings, err)
	}
	var recs []meterdata.Record
	for {
		rec, err := rd.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return model.Series{}, fmt.Errorf("producer: fedavg.train_readings %s: %w", f.TrainReadings, err)
		}
		if rec.Meter == meter {
			recs = append(recs, rec)
		}
	}
	if len(recs) < 2 {
		return model.Series{}, fmt.Errorf("producer: fedavg.train_readings %s has %d readings of meter %q; give the household's own history (fedavg.train_meter names its meter)", f.TrainReadings, len(recs), meter)
	}
	slices.SortFunc(recs, func(a, b meterdata.Record) int { return a.Start.Compare(b.Start) })
	if uint64(len(recs)) > max {
		recs = recs[uint64(len(recs))-max:]
	}
	s := model.Series{Start: recs[0].Start, Interval: recs[1].Start.Sub(recs[0].Start)}
	for i, r := range recs {
		if r.Start != s.Start.Add(time.Duration(i)*s.Interval) {
			return model.Series{}, fmt.Errorf("producer: fedavg.train_readings %s: meter %q has a gap or an irregular interval at %s; give a gap-free series", f.TrainReadings, meter, r.Start.Format(time.RFC3339))
		}
		if r.Wh < 0 {
			return model.Series{}, fmt.Errorf("producer: fedavg.train_readings %s: meter %q exports at %s (%d Wh); train on import readings", f.TrainReadings, meter, r.Start.Format(time.RFC3339), r.Wh)
		}
		s.Wh = append(s.Wh, uint64(r.Wh))
	}
	return s, nil
}

// Coordinate implements consumer.Coordinate: the FedAvg coordinator of
// the consumer's component rules, publishing global models to the
// bulletin bucket.
func Coordinate(ctx context.Context, c consumer.Coordination) (io.Writer, error) {
	set, codec, err := settingsCodec(c.Net, c.Settings)
	if err != nil {
		return nil, fmt.Errorf("consumer: %w", err)
	}
	bctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	kv, err := bulletin.Bind(bctx, c.JS, set.Bucket, c.Create)
	cancel()
	if err != nil {
		return nil, fmt.Errorf("consumer: fedavg: %w", err)
	}
	co, err := NewCoordinator(CoordinatorConfig{Net: c.Net, Prefix: set.Prefix, Codec: codec, KV: kv, Logger: c.Logger, Now: c.Now,
		Rounds: Rounds{First: set.First, Stride: set.Stride, Count: set.Rounds}})
	if err != nil {
		return nil, err
	}
	c.Logger.Info("fedavg coordinator", "rounds", set.Rounds, "first", set.First, "stride", set.Stride, "participants", codec.Producers())
	return co, nil
}
