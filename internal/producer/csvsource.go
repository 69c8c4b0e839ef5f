package producer

import (
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"time"

	"github.com/ppnet/ppnet/sim/meterdata"
)

// NoReading in a Source's output marks a meter without a reading for the
// round: it is left out of the round (not stored, not sent) and shows up as
// missing in every result that would have covered it.
const NoReading int64 = math.MinInt64

// CSVSource replays interval data in the meterdata CSV format (package
// sim/meterdata: meter,start,wh): the interval starting at origin + τ·step
// is round τ. Meters are matched by id; readings of meters this producer
// does not have are ignored, and a meter without a row for a round gives
// NoReading.
type CSVSource struct {
	meters []string // meter id by meter index (the network's)
	wh     map[string]map[uint64]int64
}

// LoadCSVSource reads path. meterIDs are the network's meter ids by index;
// origin is the start of the interval that is round 0 (zero: the earliest
// start in the file) and step the interval length (zero: 15 minutes).
func LoadCSVSource(path string, meterIDs []string, origin time.Time, step time.Duration) (*CSVSource, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("producer: readings file: %v", err)
	}
	defer f.Close()
	r, err := meterdata.NewReader(f)
	if err != nil {
		return nil, fmt.Errorf("producer: readings file %s: %w", path, err)
	}
	if step <= 0 {
		step = 15 * time.Minute
	}
	var recs []meterdata.Record
	var first time.Time
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("producer: readings file %s: %w", path, err)
		}
		if len(recs) == 0 || rec.Start.Before(first) {
			first = rec.Start
		}
		recs = append(recs, rec)
	}
	if origin.IsZero() {
		origin = first
	}
	s := &CSVSource{meters: meterIDs, wh: map[string]map[uint64]int64{}}
	for _, rec := range recs {
		d := rec.Start.Sub(origin)
		if d < 0 || d%step != 0 {
			return nil, fmt.Errorf("producer: readings file %s: meter %s interval %s is not origin %s plus a whole number of %v; set the readings start and interval",
				path, rec.Meter, rec.Start.Format(time.RFC3339), origin.Format(time.RFC3339), step)
		}
		round := uint64(d / step)
		m := s.wh[rec.Meter]
		if m == nil {
			m = map[uint64]int64{}
			s.wh[rec.Meter] = m
		}
		if _, dup := m[round]; dup {
			return nil, fmt.Errorf("producer: readings file %s: meter %s has two rows for %s; keep one", path, rec.Meter, rec.Start.Format(time.RFC3339))
		}
		m[round] = rec.Wh
	}
	return s, nil
}

// Read implements Source.
func (s *CSVSource) Read(round uint64, ids []uint64, dst []int64) error {
	if len(ids) != len(dst) {
		return fmt.Errorf("producer: %d meters, %d slots", len(ids), len(dst))
	}
	for i, id := range ids {
		dst[i] = NoReading
		if id < uint64(len(s.meters)) {
			if v, ok := s.wh[s.meters[id]][round]; ok {
				dst[i] = v
			}
		}
	}
	return nil
}
