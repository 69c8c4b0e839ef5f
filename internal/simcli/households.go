package simcli

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"iter"
	"math"
	"runtime"
	"strconv"
	"sync"
	"time"

	"github.com/ppnet/ppnet/sim/household"
	"github.com/ppnet/ppnet/sim/meterdata"
)

type householdsConfig struct {
	meters, firstMeter uint64
	days, firstDay     int64
	model              string
	interval           time.Duration
	seed               uint64
	out, plot, prefix  string
	truth, print       bool
	workers            int
	quiet              bool
}

func parseHouseholds(args []string, env *Env) (*householdsConfig, error) {
	fs := flag.NewFlagSet("households", flag.ContinueOnError)
	c := &householdsConfig{}
	fs.Uint64Var(&c.meters, "meters", 10, "number of meters")
	fs.Uint64Var(&c.firstMeter, "first-meter", 0, "id of the first meter")
	fs.Int64Var(&c.days, "days", 1, "days per meter")
	fs.Int64Var(&c.firstDay, "first-day", 0, "first day, counted from the model's start")
	fs.StringVar(&c.model, "model", "", "household model YAML file (default: built-in Indian urban household)")
	fs.DurationVar(&c.interval, "interval", 0, "reading interval, a multiple of 1m (default: the model's, 15m)")
	fs.Uint64Var(&c.seed, "seed", 1, "population seed: meter m of seed s is always the same household")
	fs.StringVar(&c.out, "out", "-", "CSV output file (- for stdout)")
	fs.StringVar(&c.plot, "plot", "", "write the mean daily load profile to PREFIX.png and PREFIX.svg")
	fs.StringVar(&c.prefix, "id-prefix", "", "prefix of meter ids in the CSV (id = prefix + number)")
	fs.BoolVar(&c.truth, "truth", true, "include ground-truth columns (active_occupants, occupied, appliances)")
	fs.BoolVar(&c.print, "print-model", false, "print the model as YAML (a starting point for --model) and exit")
	fs.IntVar(&c.workers, "workers", 0, "goroutines (0: all cores)")
	fs.BoolVar(&c.quiet, "quiet", false, "no progress bar or summary")
	if err := parseFlags(fs, args, env); err != nil {
		return nil, err
	}
	switch {
	case c.meters < 1 || c.meters > 1e9:
		return nil, usageError{fmt.Sprintf("--meters %d: give 1 to 10^9", c.meters)}
	case c.days < 1 || c.days > 36600:
		return nil, usageError{fmt.Sprintf("--days %d: give 1 to 36600", c.days)}
	case c.firstDay < 0 || c.firstDay > 1e6:
		return nil, usageError{fmt.Sprintf("--first-day %d: give 0 to 10^6", c.firstDay)}
	case c.firstMeter > math.MaxUint64-c.meters:
		return nil, usageError{fmt.Sprintf("--first-meter %d + --meters %d overflows 64 bits", c.firstMeter, c.meters)}
	case c.workers < 0:
		return nil, usageError{fmt.Sprintf("--workers %d: give 0 (all cores) or more", c.workers)}
	}
	if c.workers == 0 {
		c.workers = runtime.GOMAXPROCS(0)
	}
	return c, nil
}

func loadModel(path string, interval time.Duration) (*household.Options, error) {
	opts := household.DefaultOptions()
	if path != "" {
		var err error
		if opts, err = household.LoadOptions(path); err != nil {
			return nil, err
		}
	}
	if interval != 0 {
		opts.Interval = interval
		if err := opts.Validate(); err != nil {
			return nil, usageError{"--interval: " + err.Error()}
		}
	}
	return opts, nil
}

// hhStats summarises generated readings and collects the load profile.
type hhStats struct {
	wh, intervals, occupied uint64
	profile                 [2][]float64 // [weekday, weekend][interval of day] total Wh
	count                   [2][]float64
}

func (s *hhStats) add(o *hhStats) {
	s.wh += o.wh
	s.intervals += o.intervals
	s.occupied += o.occupied
	for k := range s.profile {
		for i := range s.profile[k] {
			s.profile[k][i] += o.profile[k][i]
			s.count[k][i] += o.count[k][i]
		}
	}
}

func runHouseholds(ctx context.Context, args []string, env *Env) (err error) {
	c, err := parseHouseholds(args, env)
	if err != nil {
		return err
	}
	opts, err := loadModel(c.model, c.interval)
	if err != nil {
		return err
	}
	if c.print {
		data, err := opts.YAML()
		if err != nil {
			return err
		}
		_, err = env.Stdout.Write(data)
		return err
	}
	if c.plot != "" && (24*time.Hour)%opts.Interval != 0 {
		return usageError{fmt.Sprintf("--plot: the interval %v does not divide a day, so there is no daily profile", opts.Interval)}
	}
	pop, err := household.NewPopulation(opts, c.seed)
	if err != nil {
		return err
	}
	out, closeOut, err := env.output(c.out)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := closeOut(); err == nil {
			err = cerr
		}
	}()
	hw := meterdata.NewWriter(out, c.truth)
	if err := hw.Flush(); err != nil {
		return err
	}
	start := time.Now()
	total, err := generate(ctx, c, opts, pop, out, env)
	if err != nil {
		return err
	}
	if !c.quiet {
		days := float64(c.meters) * float64(c.days)
		fmt.Fprintf(env.Stderr, "%d meters × %d days in %v: mean %.2f kWh per household-day, occupied %.1f%% of intervals\n",
			c.meters, c.days, time.Since(start).Round(time.Millisecond), float64(total.wh)/1000/days,
			100*float64(total.occupied)/float64(max(total.intervals, 1)))
	}
	if c.plot != "" {
		from := opts.Start.AddDate(0, 0, int(c.firstDay))
		sub := fmt.Sprintf("%d meters, %s to %s, seed %d", c.meters, from.Format(time.DateOnly), from.AddDate(0, 0, int(c.days)-1).Format(time.DateOnly), c.seed)
		return plotProfile(c.plot, sub, opts.Interval, total, env)
	}
	return nil
}

// generate writes the CSV rows of every meter to out, in meter order, from
// waves of chunks generated in parallel, and returns the statistics.
func generate(ctx context.Context, c *householdsConfig, opts *household.Options, pop *household.Population, out io.Writer, env *Env) (*hhStats, error) {
	g := &hhGen{c: c, pop: pop, names: pop.Appliances()}
	day := int64(24 * time.Hour)
	if day%int64(opts.Interval) == 0 {
		g.perDay = day / int64(opts.Interval)
	} // else intervals straddle days: no daily profile
	g.first = c.firstDay * day / int64(opts.Interval)
	g.n = int(c.days * day / int64(opts.Interval))
	total := newHHStats(g.perDay)
	bar := newProgress(env.Stderr, c.quiet, int64(c.meters), "meters")
	defer bar.Finish()
	for wave := range g.waves() {
		if err := g.run(ctx, wave); err != nil {
			return nil, err
		}
		for _, ch := range wave {
			if _, err := out.Write(ch.buf.Bytes()); err != nil {
				return nil, fmt.Errorf("writing CSV: %w", err)
			}
			total.add(ch.stats)
		}
		last := wave[len(wave)-1]
		bar.Set(int64(last.hi - c.firstMeter))
	}
	return total, nil
}

func newHHStats(perDay int64) *hhStats {
	s := &hhStats{}
	for k := range s.profile {
		s.profile[k] = make([]float64, perDay)
		s.count[k] = make([]float64, perDay)
	}
	return s
}

type hhGen struct {
	c      *householdsConfig
	pop    *household.Population
	names  []string
	perDay int64 // intervals per day; 0 if the interval does not divide a day
	first  int64 // first interval
	n      int   // intervals per meter
}

// chunkRows is about how many rows a chunk holds, so memory stays bounded
// (a few MB per wave) however many meters and days are asked for.
const chunkRows = 16384

// hhChunk is a unit of work: meters [lo, hi), intervals [from, from+n).
type hhChunk struct {
	lo, hi uint64
	from   int64
	n      int
	buf    bytes.Buffer
	stats  *hhStats
	err    error
}

// waves yields the chunks in output order (meter, then time), a few per
// worker at a time: several whole meters per chunk when a meter's series is
// short, a stretch of one meter's series when it is long.
func (g *hhGen) waves() iter.Seq[[]*hhChunk] {
	return func(yield func([]*hhChunk) bool) {
		c := g.c
		wave := make([]*hhChunk, 0, 4*c.workers)
		add := func(ch *hhChunk) bool {
			ch.stats = newHHStats(g.perDay)
			wave = append(wave, ch)
			if len(wave) < cap(wave) {
				return true
			}
			ok := yield(wave)
			wave = make([]*hhChunk, 0, 4*c.workers)
			return ok
		}
		perChunk := max(1, uint64(chunkRows/max(g.n, 1)))
		for lo := uint64(0); lo < c.meters; {
			hi := min(lo+perChunk, c.meters)
			for from := 0; from < g.n; from += chunkRows {
				ch := &hhChunk{lo: c.firstMeter + lo, hi: c.firstMeter + hi, from: g.first + int64(from), n: min(chunkRows, g.n-from)}
				if perChunk > 1 || g.n <= chunkRows {
					ch.from, ch.n = g.first, g.n
					from = g.n
				}
				if !add(ch) {
					return
				}
			}
			lo = hi
		}
		if len(wave) > 0 {
			yield(wave)
		}
	}
}

func (g *hhGen) run(ctx context.Context, wave []*hhChunk) error {
	var wg sync.WaitGroup
	jobs := make(chan *hhChunk)
	for range g.c.workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ch := range jobs {
				ch.err = g.chunk(ctx, ch)
			}
		}()
	}
	for _, ch := range wave {
		jobs <- ch
	}
	close(jobs)
	wg.Wait()
	for _, ch := range wave {
		if ch.err != nil {
			return ch.err
		}
	}
	return ctx.Err()
}

func (g *hhGen) chunk(ctx context.Context, ch *hhChunk) error {
	w := meterdata.NewRowWriter(&ch.buf, g.c.truth)
	m := g.pop.Meter(ch.lo)
	var names []string
	for id := ch.lo; id < ch.hi; id++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		m.Reset(id)
		meter := g.c.prefix + strconv.FormatUint(id, 10)
		for r := range m.Readings(ch.from, ch.n) {
			rec := meterdata.Record{Meter: meter, Start: g.pop.IntervalStart(r.Interval), Wh: int64(r.Wh)}
			if g.c.truth {
				names = names[:0]
				for a, name := range g.names {
					if r.On&(1<<a) != 0 {
						names = append(names, name)
					}
				}
				rec.Truth = &meterdata.Truth{ActiveOccupants: r.ActiveOccupants, Occupied: r.Occupied, Appliances: names}
			}
			if err := w.Write(rec); err != nil {
				return err
			}
			s := ch.stats
			s.wh += r.Wh
			s.intervals++
			if r.Occupied {
				s.occupied++
			}
			if g.perDay > 0 {
				k := 0
				if wd := rec.Start.Weekday(); wd == time.Saturday || wd == time.Sunday {
					k = 1
				}
				s.profile[k][r.Interval%g.perDay] += float64(r.Wh)
				s.count[k][r.Interval%g.perDay]++
			}
		}
	}
	return w.Flush()
}
