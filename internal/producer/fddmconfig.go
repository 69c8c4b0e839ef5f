package producer

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/ppnet/ppnet/internal/fddm/fedavg"
	"github.com/ppnet/ppnet/internal/fddm/mask"
	"github.com/ppnet/ppnet/internal/netconfig"
)

// MaskingConfig is the file and flag form of Masking (`masking:` in the
// producer's YAML). Zero fields take the defaults below.
type MaskingConfig struct {
	Strategy   string   `yaml:"strategy"`    // suppress (default), coarsen or generalise
	Threshold  *float64 `yaml:"threshold"`   // mask scores above this (default 0.6)
	TargetRate float64  `yaml:"target_rate"` // if > 0, mask this share of a period instead, highest scores first
	MaxShare   float64  `yaml:"max_share"`   // never mask more than this share of a meter's period (default 0.5)
	CoarsenWh  uint64   `yaml:"coarsen_wh"`  // coarsen step (default 100 Wh)
	Bucket     string   `yaml:"bucket"`      // FDDM bulletin bucket (default ppnet_fddm)
	// Profile is the population's mean reading per round of the day, for
	// generalise (an aggregate the network releases, e.g. a feeder sum
	// divided by its meters).
	Profile []uint64 `yaml:"profile"`
	// Interval and Start are the readings' clock when it is not the
	// rounds' (a fast-clock network standing for 15-minute readings).
	Interval time.Duration `yaml:"interval"`
	Start    time.Time     `yaml:"start"`
}

// Masking returns the masking job c configures, defaults applied and
// policy checked.
func (c *MaskingConfig) Masking() (*Masking, error) {
	p := mask.DefaultPolicy()
	if c.Strategy != "" {
		st, err := mask.ParseStrategy(c.Strategy)
		if err != nil {
			return nil, fmt.Errorf("producer: masking.strategy: %w", err)
		}
		p.Strategy = st
	}
	if c.Threshold != nil {
		p.Threshold = *c.Threshold
	}
	p.TargetRate = c.TargetRate
	if c.MaxShare != 0 {
		p.MaxShare = c.MaxShare
	}
	if c.CoarsenWh != 0 {
		p.CoarsenWh = c.CoarsenWh
	}
	if err := p.Validate(); err != nil {
		return nil, fmt.Errorf("producer: masking: %w", err)
	}
	return &Masking{Bucket: c.Bucket, Policy: p, Profile: c.Profile, Interval: c.Interval, Start: c.Start}, nil
}

// addMaskingFlags adds the --mask-* flags; any of them turns the masking
// job on (with the file's settings, if any, under them).
func addMaskingFlags(fs *flag.FlagSet, cfg *Config) {
	mc := func() *MaskingConfig {
		if cfg.MaskingFile == nil {
			cfg.MaskingFile = &MaskingConfig{}
		}
		return cfg.MaskingFile
	}
	fs.BoolFunc("mask", "run the FDDM masking job: mask each billing period's stored history once its close is published (docs/fddm.md)", func(string) error {
		mc()
		return nil
	})
	fs.Func("mask-strategy", "masking: suppress (default), coarsen or generalise (implies --mask)", func(v string) error {
		mc().Strategy = v
		return nil
	})
	fs.Func("mask-threshold", "masking: mask readings scoring above this (default 0.6; implies --mask)", func(v string) error {
		var x float64
		if _, err := fmt.Sscan(v, &x); err != nil {
			return errors.New("give a number in [0, 1]")
		}
		mc().Threshold = &x
		return nil
	})
	fs.Func("mask-max-share", "masking: never mask more than this share of a period (default 0.5; implies --mask)", func(v string) error {
		_, err := fmt.Sscan(v, &mc().MaxShare)
		return err
	})
}

// FedAvg configures the producer's part in training the FDDM sensitivity
// model by federated averaging (docs/fddm.md): the network gives it the
// component meters <id>-c<j> of the rules <prefix>-c<j>, whose readings,
// in the rounds that carry FedAvg rounds, are its encoded model update.
type FedAvg struct {
	fedavg.Settings `yaml:",inline"`
	// TrainReadings is a meterdata CSV (meter,start,wh) of the household's
	// own past readings, of meter TrainMeter (default: the producer's id),
	// to train on: at most MaxSamples of them, the latest. Without it the
	// producer trains on TrainDays (default 7) days of synthetic household
	// Household of the household model with the producer's seed.
	TrainReadings string `yaml:"train_readings"`
	TrainMeter    string `yaml:"train_meter"`
	TrainDays     int    `yaml:"train_days"`
	Household     uint64 `yaml:"household"`
}

// Participant is what a Participate function gets from the producer.
type Participant struct {
	Net      *netconfig.Network
	ID       string // producer id
	Index    int    // producer index
	JS       jetstream.JetStream
	FedAvg   FedAvg
	Seed     uint64
	Readings Source // the producer's readings for its other meters
	Create   bool   // the producer declares the streams: it may create the bulletin bucket
	Logger   *slog.Logger
	Now      func() time.Time
}

// Participate returns the source of a FedAvg participant, reading p's
// update for the component meters and p.Readings for the others, and a
// function that releases it. internal/fddm/fednet implements it
// (fednet.Participate); it is a hook because fednet builds on this package.
type Participate func(ctx context.Context, p Participant) (Source, func(), error)

// startFedAvg replaces the readings source by the FedAvg participant's
// when the producer takes part in FedAvg.
func (p *Producer) startFedAvg(ctx context.Context) error {
	if p.cfg.FedAvg == nil {
		return nil
	}
	if p.cfg.Participate == nil {
		return errors.New("producer: fedavg is configured but this program cannot train (embedders set Config.Participate to fednet.Participate)")
	}
	src, stop, err := p.cfg.Participate(ctx, Participant{Net: p.net, ID: p.cfg.ID, Index: p.idx, JS: p.js, FedAvg: *p.cfg.FedAvg,
		Seed: p.cfg.Seed, Readings: p.cfg.Source, Create: p.declares(), Logger: p.log, Now: p.now})
	if err != nil {
		return err
	}
	p.cfg.Source, p.fedStop = src, stop
	return nil
}

// declares reports whether the producer declares the streams itself (and
// so may create the FDDM bucket beside them).
func (p *Producer) declares() bool { return !p.cfg.SkipStreams && !p.nats.StreamsDeclared }
