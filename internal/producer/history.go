package producer

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"

	bolt "go.etcd.io/bbolt"
)

// HistoryReading is one stored reading as GET /history serves it.
type HistoryReading struct {
	Round  uint64    `json:"round"`
	Start  time.Time `json:"start"`          // start of the round's interval
	Wh     *int64    `json:"wh"`             // null when suppressed
	Masked bool      `json:"masked"`         // rewritten by dynamic masking
	Mask   string    `json:"mask,omitempty"` // generalise, coarsen or suppress
}

// HistoryResponse is the body of GET /history.
type HistoryResponse struct {
	Meter    string           `json:"meter"`
	From     uint64           `json:"from"`
	To       uint64           `json:"to"`
	Readings []HistoryReading `json:"readings"`
}

var maskNames = map[byte]string{MaskGeneralised: "generalise", MaskCoarsened: "coarsen", MaskSuppressed: "suppress"}

// maxHistory is the most readings one /history request returns.
const maxHistory = 100_000

// HistoryHandler serves GET /history?meter=ID&from=R&to=R: the stored
// (after a period close, masked) readings of one of this producer's meters
// for rounds from..to inclusive (default: all), as JSON, each with a masked
// flag. An epoch supervisor serving its own HTTP mounts it itself.
func (p *Producer) HistoryHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet {
			http.Error(w, "producer: GET only", http.StatusMethodNotAllowed)
			return
		}
		q := r.URL.Query()
		id := q.Get("meter")
		m, err := p.net.MeterIndex(id)
		if err != nil || int(p.net.MeterProducer[m]) != p.idx {
			http.Error(w, fmt.Sprintf("producer: meter %q is not one of this producer's meters", id), http.StatusNotFound)
			return
		}
		from, to := uint64(0), uint64(1<<48)
		for _, b := range []struct {
			name string
			v    *uint64
		}{{"from", &from}, {"to", &to}} {
			if s := q.Get(b.name); s != "" {
				if *b.v, err = strconv.ParseUint(s, 10, 64); err != nil {
					http.Error(w, fmt.Sprintf("producer: %s=%q: want a round number", b.name, s), http.StatusBadRequest)
					return
				}
			}
		}
		if from > to {
			http.Error(w, fmt.Sprintf("producer: from %d after to %d", from, to), http.StatusBadRequest)
			return
		}
		resp, err := p.history(uint32(m), from, to)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		resp.Meter = id
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(resp)
	})
}

func (p *Producer) history(meter uint32, from, to uint64) (HistoryResponse, error) {
	resp := HistoryResponse{From: from, To: to, Readings: []HistoryReading{}}
	p.masker.dbMu.RLock()
	defer p.masker.dbMu.RUnlock()
	err := p.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketReadings).Cursor()
		for k, v := c.Seek(readingKey(meter, from)); k != nil && binary.BigEndian.Uint32(k) == meter; k, v = c.Next() {
			r := binary.BigEndian.Uint64(k[4:])
			if r > to {
				break
			}
			if len(resp.Readings) == maxHistory {
				return fmt.Errorf("producer: more than %d readings in rounds %d..%d; ask for a shorter range", maxHistory, from, to)
			}
			wh, kind, err := decodeReading(v)
			if err != nil {
				return err
			}
			hr := HistoryReading{Round: r, Start: p.net.RoundStart(r), Masked: kind != MaskNone, Mask: maskNames[kind]}
			if kind != MaskSuppressed {
				hr.Wh = &wh
			}
			resp.Readings = append(resp.Readings, hr)
		}
		return nil
	})
	return resp, err
}
