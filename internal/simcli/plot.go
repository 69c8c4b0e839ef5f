package simcli

import (
	"fmt"
	"image/color"
	"math"
	"slices"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/ppnet/ppnet/sim"
)

// errPoints are Monte Carlo estimates with their Wilson intervals.
type errPoints struct {
	plotter.XYs
	plotter.YErrors
}

// plotLoss writes, for each (w, t), the success probability against M
// (one curve per p_e and k: the paper's eq. 13 as a line, Monte Carlo as
// points with Wilson intervals; this design as a dashed line per p_f) and
// the failure probability on a log scale, as PNG and SVG.
func plotLoss(c *lossConfig, rows []lossRow, env *Env) error {
	type wt struct{ w, t int }
	groups := map[wt][]lossRow{}
	var keys []wt
	for _, r := range rows {
		key := wt{r.paper.W, r.paper.T}
		if _, ok := groups[key]; !ok {
			keys = append(keys, key)
		}
		groups[key] = append(groups[key], r)
	}
	for _, key := range keys {
		name := c.plot
		if len(keys) > 1 {
			name = fmt.Sprintf("%s-w%d-t%d", c.plot, key.w, key.t)
		}
		for _, failure := range []bool{false, true} {
			p, err := lossPlot(groups[key], failure)
			if err != nil {
				return err
			}
			file := name
			if failure {
				file += "-failure"
			}
			for _, format := range []string{"png", "svg"} {
				if err := savePlot(p, file+"."+format, format, env); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// legendWidth is the strip right of the plot that holds its legend, so the
// legend never hides a curve.
const legendWidth = 2.2 * vg.Inch

func savePlot(p *plot.Plot, file, format string, env *Env) (err error) {
	w, h := 7*vg.Inch+legendWidth, 4.5*vg.Inch
	c, err := draw.NewFormattedCanvas(w, h, format)
	if err != nil {
		return fmt.Errorf("rendering %s: %w", file, err)
	}
	dc := draw.New(c)
	legend := p.Legend
	p.Legend = plot.NewLegend()
	p.Draw(draw.Crop(dc, 0, -legendWidth, 0, 0))
	p.Legend = legend
	legend.Top, legend.Left = true, true
	legend.YOffs = -vg.Points(30)
	legend.Draw(draw.Crop(dc, w-legendWidth+vg.Points(8), 0, 0, 0))
	f, err := env.create(file)
	if err != nil {
		return fmt.Errorf("creating plot file: %w", err)
	}
	defer func() {
		if cerr := f.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("writing %s: %w", file, cerr)
		}
	}()
	if _, err := c.WriteTo(f); err != nil {
		return fmt.Errorf("writing %s: %w", file, err)
	}
	return nil
}

func lossPlot(rows []lossRow, failure bool) (*plot.Plot, error) {
	first := rows[0]
	p := plot.New()
	w, t := first.paper.W, first.paper.T
	p.X.Label.Text = "M, producers per rule"
	p.X.Scale = plot.LogScale{}
	p.X.Tick.Marker = plot.LogTicks{Prec: -1}
	const note = "paper's eq. 13 (lines), Monte Carlo with Wilson intervals (points)"
	if failure {
		// No Y label: gonum/plot places it at the linear midpoint of the
		// range, which on a log axis pushes the plot down (its FIXME).
		p.Title.Text = fmt.Sprintf("Probability the aggregate is lost, 1 - P_T|M, w = %d, t = %d\n%s", w, t, note)
		p.Y.Scale = plot.LogScale{}
		p.Y.Tick.Marker = powerTicks{}
	} else {
		p.Title.Text = fmt.Sprintf("Success probability P_T|M, w = %d, t = %d\n%s", w, t, note)
		p.Y.Label.Text = "probability the consumer recovers the aggregate"
		p.Y.Min, p.Y.Max = 0, 1.02
	}
	// The paper's curves are keyed by (p_e, k), in sweep order: its success
	// does not depend on this design's parameters or on the rules.
	type curve struct {
		pe float64
		k  int
	}
	var curves []curve
	var ms []float64
	for _, r := range rows {
		c := curve{r.paper.Pe, r.paper.K}
		if !slices.Contains(curves, c) {
			curves = append(curves, c)
		}
		ms = append(ms, float64(r.paper.M))
	}
	lo, hi := slices.Min(ms), slices.Max(ms)
	ymin := math.Inf(1)
	for i, cv := range curves {
		col := plotutil.Color(i)
		var line plotter.XYs
		for _, m := range denseLog(lo, hi, 24) {
			pm := sim.PaperModel{W: w, T: t, K: cv.k, M: int64(math.Round(m)), Pe: cv.pe}
			y := pm.Success()
			if failure {
				y = pm.Failure()
			}
			if failure && !(y > 0) {
				continue
			}
			ymin = min(ymin, y)
			line = append(line, plotter.XY{X: m, Y: y})
		}
		label := fmt.Sprintf("p_e = %g, k = %d", cv.pe, cv.k)
		if len(line) > 0 {
			l, err := plotter.NewLine(line)
			if err != nil {
				return nil, fmt.Errorf("plotting %s: %w", label, err)
			}
			l.LineStyle.Color, l.LineStyle.Width = col, vg.Points(1.5)
			p.Add(l)
			p.Legend.Add(label, l)
		}
		if err := addEstimates(p, rows, cv.pe, cv.k, col, failure); err != nil {
			return nil, err
		}
	}
	// This design: success does not depend on M, p_e or k, only on p_f
	// (for this w and t): one dashed line per p_f.
	var pfs []float64
	for _, r := range rows {
		if !slices.Contains(pfs, r.design.Pf) {
			pfs = append(pfs, r.design.Pf)
		}
	}
	for i, pf := range pfs {
		d := sim.DesignModel{W: w, T: t, K: 1, M: 1, Pf: pf}
		y := d.Success()
		if failure {
			y = d.Failure()
		}
		if failure && !(y > 0) {
			continue
		}
		ymin = min(ymin, y)
		l, err := plotter.NewLine(plotter.XYs{{X: lo, Y: y}, {X: hi, Y: y}})
		if err != nil {
			return nil, err
		}
		gray := uint8(min(160, 60*i))
		l.LineStyle.Color, l.LineStyle.Width = color.Gray{Y: gray}, vg.Points(2)
		l.LineStyle.Dashes = []vg.Length{vg.Points(float64(6 + 3*i)), vg.Points(3)}
		p.Add(l)
		p.Legend.Add(fmt.Sprintf("this design, p_f = %g", pf), l)
	}
	if failure && !math.IsInf(ymin, 1) {
		p.Y.Min, p.Y.Max = math.Pow(10, math.Floor(math.Log10(max(ymin, 1e-300)))), 1
	}
	p.Add(plotter.NewGrid())
	return p, nil
}

// addEstimates adds the Monte Carlo points of curve (pe, k), if simulated.
func addEstimates(p *plot.Plot, rows []lossRow, pe float64, k int, col color.Color, failure bool) error {
	var pts errPoints
	seen := map[int64]bool{} // rows differing only in this design's parameters share the paper's point
	for _, r := range rows {
		if r.pmc == nil || r.paper.Pe != pe || r.paper.K != k || seen[r.paper.M] {
			continue
		}
		seen[r.paper.M] = true
		e := r.pmc.Success
		y, lo, hi := e.P, e.Low, e.High
		if failure {
			y, lo, hi = 1-e.P, 1-e.High, 1-e.Low
			if !(y > 0) {
				continue // no failure seen: nothing to draw on a log scale
			}
		}
		pts.XYs = append(pts.XYs, plotter.XY{X: float64(r.paper.M), Y: y})
		pts.YErrors = append(pts.YErrors, struct{ Low, High float64 }{y - lo, hi - y})
	}
	if len(pts.XYs) == 0 {
		return nil
	}
	s, err := plotter.NewScatter(pts.XYs)
	if err != nil {
		return err
	}
	s.GlyphStyle.Color, s.GlyphStyle.Radius = col, vg.Points(2.5)
	s.GlyphStyle.Shape = plotutil.Shape(0)
	eb, err := plotter.NewYErrorBars(pts)
	if err != nil {
		return err
	}
	eb.LineStyle.Color = col
	p.Add(s, eb)
	return nil
}

// denseLog returns points from lo to hi, n per decade, for smooth curves.
func denseLog(lo, hi float64, n int) []float64 {
	if hi <= lo {
		return []float64{lo}
	}
	count := int(math.Ceil(math.Log10(hi/lo)*float64(n))) + 1
	out := make([]float64, count)
	for i := range out {
		out[i] = lo * math.Pow(hi/lo, float64(i)/float64(count-1))
	}
	return out
}

// plotProfile writes the mean load by time of day, weekdays and weekends.
func plotProfile(prefix, subtitle string, interval time.Duration, s *hhStats, env *Env) error {
	if len(s.profile[0]) == 0 {
		return usageError{fmt.Sprintf("--plot: the interval %v does not divide a day, so there is no daily profile", interval)}
	}
	p := plot.New()
	p.Title.Text = "Mean household load by time of day (synthetic)\n" + subtitle
	p.X.Label.Text = "hour of day"
	p.Y.Label.Text = "mean power, W"
	p.X.Min, p.X.Max = 0, 24
	p.Y.Min = 0
	perHour := float64(time.Hour) / float64(interval)
	for k, label := range []string{"weekdays", "weekends"} {
		var xy plotter.XYs
		for i, wh := range s.profile[k] {
			if n := s.count[k][i]; n > 0 {
				h := float64(i) / perHour
				xy = append(xy, plotter.XY{X: h, Y: wh / n * perHour}, plotter.XY{X: h + 1/perHour, Y: wh / n * perHour})
			}
		}
		if len(xy) == 0 {
			continue
		}
		l, err := plotter.NewLine(xy)
		if err != nil {
			return err
		}
		l.LineStyle.Color, l.LineStyle.Width = plotutil.Color(k), vg.Points(1.5)
		p.Add(l)
		p.Legend.Add(label, l)
	}
	p.Add(plotter.NewGrid())
	for _, format := range []string{"png", "svg"} {
		if err := savePlot(p, prefix+"."+format, format, env); err != nil {
			return err
		}
	}
	return nil
}

// powerTicks labels the powers of ten in a log axis's range.
type powerTicks struct{}

// Ticks implements plot.Ticker.
func (powerTicks) Ticks(lo, hi float64) []plot.Tick {
	var ts []plot.Tick
	for e := math.Ceil(math.Log10(lo)); e <= math.Floor(math.Log10(hi)); e++ {
		label := fmt.Sprintf("1e%d", int(e))
		if e == 0 {
			label = "1"
		}
		ts = append(ts, plot.Tick{Value: math.Pow(10, e), Label: label})
	}
	return ts
}
