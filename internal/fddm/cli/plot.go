package cli

import (
	"fmt"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// panel is one attack's success against utility loss.
type panel struct {
	title, ylabel string
	y             func(row) float64
	chance        func(row) float64 // reference line; from the exact row
	chanceLabel   string
}

var panels = []panel{
	{"Occupancy attack (trained on masked data)", "balanced accuracy (0.5: blind guess)",
		func(r row) float64 { return r.occ.BalancedAccuracy }, func(row) float64 { return 0.5 }, "chance 0.5"},
	{"Re-identification", "top-1 accuracy",
		func(r row) float64 { return r.reid.Value }, func(r row) float64 { return r.reid.Chance }, "chance 1/N"},
	{"Billing linkage", "top-1 accuracy",
		func(r row) float64 { return r.link.Value }, func(r row) float64 { return r.link.Chance }, "chance 1/N"},
}

// plotRows draws, side by side, each attack's success against the relative
// error of households' hourly energies: one curve per masking strategy
// (points: thresholds), static rounding (points: steps), and the exact and
// suppress-all ends. It writes prefix.png and prefix.svg.
func plotRows(prefix string, rows []row, env *Env) error {
	var plots [1][]*plot.Plot
	for i, pn := range panels {
		p, err := attackPlot(pn, rows, i == 0)
		if err != nil {
			return err
		}
		plots[0] = append(plots[0], p)
	}
	for _, format := range []string{"png", "svg"} {
		if err := saveTiles(plots[:], prefix+"."+format, format, env); err != nil {
			return err
		}
	}
	return nil
}

func attackPlot(pn panel, rows []row, legend bool) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = pn.title
	p.X.Label.Text = "relative error of households' hourly energy"
	p.Y.Label.Text = pn.ylabel
	p.Y.Min, p.Y.Max = 0, 1.02
	p.Add(plotter.NewGrid())
	// Curves in order of first appearance: static rounding, then strategies.
	type curve struct {
		label string
		pts   plotter.XYs
	}
	var curves []*curve
	find := func(label string) *curve {
		for _, c := range curves {
			if c.label == label {
				return c
			}
		}
		c := &curve{label: label}
		curves = append(curves, c)
		return c
	}
	var ends plotter.XYs
	var endNames []string
	for _, r := range rows {
		pt := plotter.XY{X: r.util.HouseholdError, Y: pn.y(r)}
		switch r.kind {
		case "static":
			c := find("static rounding (paper)")
			c.pts = append(c.pts, pt)
		case "dynamic":
			c := find("FDDM " + r.strategy.String())
			c.pts = append(c.pts, pt)
		default:
			ends = append(ends, pt)
			endNames = append(endNames, r.name)
		}
	}
	maxX := 0.0
	for _, r := range rows {
		maxX = max(maxX, r.util.HouseholdError)
	}
	for i, c := range curves {
		l, s, err := plotter.NewLinePoints(c.pts)
		if err != nil {
			return nil, fmt.Errorf("plotting %s: %w", c.label, err)
		}
		l.Color = plotutil.Color(i)
		s.Color = plotutil.Color(i)
		s.Shape = plotutil.Shape(i)
		p.Add(l, s)
		if legend {
			p.Legend.Add(c.label, l, s)
		}
	}
	for i, pt := range ends {
		s, err := plotter.NewScatter(plotter.XYs{pt})
		if err != nil {
			return nil, err
		}
		s.Shape = plotutil.Shape(len(curves) + i)
		s.Radius = vg.Points(4)
		p.Add(s)
		if legend {
			p.Legend.Add(endNames[i], s)
		}
	}
	if len(rows) > 0 {
		y := pn.chance(rows[0])
		l, err := plotter.NewLine(plotter.XYs{{X: 0, Y: y}, {X: maxX, Y: y}})
		if err != nil {
			return nil, err
		}
		l.LineStyle.Dashes = []vg.Length{vg.Points(6), vg.Points(3)}
		p.Add(l)
		if legend {
			p.Legend.Add("chance (dashed)", l)
		}
	}
	if legend {
		// Below the chance line the occupancy panel is empty.
		p.Legend.Top = false
		p.Legend.Left = false
		p.Legend.YOffs = vg.Points(12)
	}
	return p, nil
}

func saveTiles(plots [][]*plot.Plot, file, format string, env *Env) (err error) {
	cols := len(plots[0])
	w, h := vg.Length(cols)*4.2*vg.Inch, 4.2*vg.Inch
	c, err := draw.NewFormattedCanvas(w, h, format)
	if err != nil {
		return fmt.Errorf("rendering %s: %w", file, err)
	}
	t := draw.Tiles{Rows: 1, Cols: cols, PadX: vg.Points(12), PadY: vg.Points(6), PadTop: vg.Points(6), PadBottom: vg.Points(6), PadLeft: vg.Points(6), PadRight: vg.Points(6)}
	canvases := plot.Align(plots, t, draw.New(c))
	for j, p := range plots[0] {
		p.Draw(canvases[0][j])
	}
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
