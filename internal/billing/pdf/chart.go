package pdf

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"

	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"
)

// Point is one month of a usage chart.
type Point struct {
	Period    string // YYYY-MM
	Wh        int64
	Estimated bool // drawn hatched-light: contains estimated energy
}

var (
	colBar     = color.RGBA{0x1f, 0x5f, 0x99, 0xff}
	colCurrent = color.RGBA{0xe0, 0x7a, 0x1f, 0xff}
	colEst     = color.RGBA{0xb8, 0xc8, 0xd8, 0xff}
	colAxis    = color.RGBA{0x40, 0x40, 0x40, 0xff}
)

// chartPNG draws a bar chart of monthly kWh, the last point highlighted,
// with month and kWh labels, w×h pixels.
func chartPNG(points []Point, w, h int) ([]byte, error) {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.Draw(img, img.Bounds(), image.White, image.Point{}, draw.Src)
	const top, bottom, left = 18, 18, 4
	var maxWh int64 = 1
	for _, p := range points {
		maxWh = max(maxWh, p.Wh)
	}
	label := func(x, y int, s string) {
		d := font.Drawer{Dst: img, Src: image.NewUniform(colAxis), Face: basicfont.Face7x13, Dot: fixed.P(x, y)}
		d.DrawString(s)
	}
	draw.Draw(img, image.Rect(left, h-bottom, w-left, h-bottom+1), image.NewUniform(colAxis), image.Point{}, draw.Src)
	if len(points) == 0 {
		return encode(img)
	}
	slot := (w - 2*left) / len(points)
	for i, p := range points {
		bh := int(int64(h-top-bottom) * p.Wh / maxWh)
		x0 := left + i*slot + slot/6
		x1 := left + (i+1)*slot - slot/6
		c := colBar
		switch {
		case i == len(points)-1:
			c = colCurrent
		case p.Estimated:
			c = colEst
		}
		draw.Draw(img, image.Rect(x0, h-bottom-bh, x1, h-bottom), image.NewUniform(c), image.Point{}, draw.Src)
		kwh := fmt.Sprintf("%d", (p.Wh+500)/1000)
		label(x0+(x1-x0-7*len(kwh))/2, h-bottom-bh-4, kwh)
		mon := p.Period
		if len(mon) == 7 {
			mon = mon[2:] // "26-03"
		}
		label(x0+(x1-x0-7*len(mon))/2, h-4, mon)
	}
	return encode(img)
}

func encode(img image.Image) ([]byte, error) {
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, fmt.Errorf("pdf: chart: %w", err)
	}
	return buf.Bytes(), nil
}
