package web

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// HistoryReading is one stored reading of a meter as its producer serves it
// at GET /history (internal/producer): after FDDM masking, a masked reading
// holds its masked value, or no value when suppressed; the original is gone.
type HistoryReading struct {
	Round  uint64    `json:"round"`
	Start  time.Time `json:"start"`
	Wh     *int64    `json:"wh"`             // nil when suppressed
	Masked bool      `json:"masked"`         // rewritten by dynamic masking
	Mask   string    `json:"mask,omitempty"` // generalise, coarsen or suppress
}

// History is a meter's stored history.
type History struct {
	Meter    string           `json:"meter"`
	From     uint64           `json:"from"`
	To       uint64           `json:"to"`
	Readings []HistoryReading `json:"readings"`
}

// HistorySource fetches a meter's residual (masked) history from the
// producer that holds it.
type HistorySource interface {
	History(ctx context.Context, meter string) (*History, error)
}

// HistoryFunc adapts a function to HistorySource.
type HistoryFunc func(ctx context.Context, meter string) (*History, error)

// History implements HistorySource.
func (f HistoryFunc) History(ctx context.Context, meter string) (*History, error) {
	return f(ctx, meter)
}

// HTTPHistory fetches GET /history from the meter's producer: URL is a
// template in which {meter} is replaced by the query-escaped meter id, e.g.
// "http://producer-c1:9101/history?meter={meter}".
type HTTPHistory struct {
	URL    string
	Client *http.Client // default: 10 s timeout
}

// maxHistoryBody bounds a /history answer (100 000 readings of ~90 bytes).
const maxHistoryBody = 16 << 20

// History implements HistorySource.
func (h HTTPHistory) History(ctx context.Context, meter string) (*History, error) {
	if !strings.Contains(h.URL, "{meter}") {
		return nil, fmt.Errorf("web: history URL %q has no {meter}; write e.g. http://HOST:PORT/history?meter={meter}", h.URL)
	}
	c := h.Client
	if c == nil {
		c = &http.Client{Timeout: 10 * time.Second}
	}
	u := strings.ReplaceAll(h.URL, "{meter}", url.QueryEscape(meter))
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, fmt.Errorf("web: history of %s: %v", meter, err)
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, fmt.Errorf("web: history of %s: %v", meter, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxHistoryBody+1))
	if err != nil {
		return nil, fmt.Errorf("web: history of %s: %v", meter, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("web: history of %s: %s: %s", meter, resp.Status, strings.TrimSpace(string(b)))
	}
	if len(b) > maxHistoryBody {
		return nil, fmt.Errorf("web: history of %s exceeds %d bytes", meter, maxHistoryBody)
	}
	var hist History
	if err := json.Unmarshal(b, &hist); err != nil {
		return nil, fmt.Errorf("web: history of %s: %v", meter, err)
	}
	return &hist, nil
}

// historyChart is the customer page's chart of a residual history: one
// bar per reading, classed by how it is stored, drawn as server-side SVG.
type historyChart struct {
	Err                                          string
	N, Exact, Coarsened, Generalised, Suppressed int
	From, To                                     uint64
	Width, Height, PlotH                         int
	MaxWh                                        int64
	Bars                                         []chartBar
	Ticks                                        []chartTick
}

type chartBar struct {
	X, Y, W, H float64
	Class      string // exact, coarsen, generalise, suppress
	Title      string
}

type chartTick struct {
	X     float64
	Label string
}

// maxBars bounds the chart: longer histories show their last maxBars readings.
const maxBars = 2880

func newHistoryChart(h *History) *historyChart {
	c := &historyChart{Width: 900, Height: 240, PlotH: 200, From: h.From, To: h.To}
	rs := h.Readings
	if len(rs) > maxBars {
		rs = rs[len(rs)-maxBars:]
	}
	c.N = len(rs)
	if c.N == 0 {
		return c
	}
	c.From, c.To = rs[0].Round, rs[len(rs)-1].Round
	for _, r := range rs {
		if r.Wh != nil && *r.Wh > c.MaxWh {
			c.MaxWh = *r.Wh
		}
	}
	scale := float64(c.PlotH-10) / float64(max(1, c.MaxWh))
	w := float64(c.Width) / float64(c.N)
	for i, r := range rs {
		b := chartBar{X: float64(i) * w, W: max(w-0.5, 0.5), Class: "exact"}
		at := r.Start.Format("02 Jan 15:04")
		switch {
		case r.Wh == nil || r.Mask == "suppress":
			c.Suppressed++
			b.Class, b.Y, b.H = "suppress", 0, float64(c.PlotH)
			b.Title = fmt.Sprintf("round %d, %s: suppressed by FDDM masking (no value stored)", r.Round, at)
		default:
			b.H = float64(*r.Wh) * scale
			b.Y = float64(c.PlotH) - b.H
			b.Title = fmt.Sprintf("round %d, %s: %d Wh", r.Round, at, *r.Wh)
			switch {
			case r.Masked && r.Mask == "coarsen":
				c.Coarsened++
				b.Class = "coarsen"
				b.Title += " (coarsened by FDDM masking)"
			case r.Masked:
				c.Generalised++
				b.Class = "generalise"
				b.Title += " (generalised to the population profile by FDDM masking)"
			default:
				c.Exact++
			}
		}
		c.Bars = append(c.Bars, b)
	}
	step := max(1, c.N/6)
	for i := 0; i < c.N; i += step {
		c.Ticks = append(c.Ticks, chartTick{X: float64(i) * w, Label: fmt.Sprintf("r%d", rs[i].Round)})
	}
	return c
}

// customerHistory fetches and charts a meter's residual history, or
// explains why it cannot.
func (u *ui) customerHistory(ctx context.Context, meter string) *historyChart {
	if u.history == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	h, err := u.history.History(ctx, meter)
	if err != nil {
		u.log.Warn("meter history unavailable", "meter", meter, "err", err)
		return &historyChart{Err: err.Error()}
	}
	return newHistoryChart(h)
}
