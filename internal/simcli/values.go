package simcli

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// parseFloats parses a list of values and ranges, comma separated:
//
//	1e-4,1e-3          values
//	0.1:0.5:0.1        start:stop:step, linear, stop included
//	1e-9:1e-1:log      start:stop:log, 4 points per decade
//	10:1e4:log10       start:stop:logN, N points per decade
//
// The result is sorted with duplicates removed.
func parseFloats(name, s string) ([]float64, error) {
	var out []float64
	for item := range strings.SplitSeq(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			return nil, fmt.Errorf("--%s %q: empty item; separate values with single commas", name, s)
		}
		parts := strings.Split(item, ":")
		switch len(parts) {
		case 1:
			v, err := number(name, parts[0])
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		case 3:
			vs, err := expand(name, item, parts)
			if err != nil {
				return nil, err
			}
			out = append(out, vs...)
		default:
			return nil, fmt.Errorf("--%s %q: want a value or start:stop:step, start:stop:log or start:stop:logN", name, item)
		}
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

func number(name, s string) (float64, error) {
	v, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, fmt.Errorf("--%s: %q is not a finite number", name, s)
	}
	return v, nil
}

// maxPoints bounds one range's expansion, so a typo cannot exhaust memory.
const maxPoints = 10000

func expand(name, item string, parts []string) ([]float64, error) {
	lo, err := number(name, parts[0])
	if err != nil {
		return nil, err
	}
	hi, err := number(name, parts[1])
	if err != nil {
		return nil, err
	}
	if hi < lo {
		return nil, fmt.Errorf("--%s %q: stop %v is below start %v", name, item, hi, lo)
	}
	step := strings.TrimSpace(parts[2])
	if perDecade, ok := strings.CutPrefix(step, "log"); ok {
		n := 4
		if perDecade != "" {
			if n, err = strconv.Atoi(perDecade); err != nil || n < 1 || n > 1000 {
				return nil, fmt.Errorf("--%s %q: %q: want log or logN with N from 1 to 1000 points per decade", name, item, step)
			}
		}
		if lo <= 0 {
			return nil, fmt.Errorf("--%s %q: a log range needs start > 0", name, item)
		}
		fc := math.Floor(math.Log10(hi/lo)*float64(n)+1e-9) + 1
		if !(fc <= maxPoints) { // also catches +Inf and NaN
			return nil, fmt.Errorf("--%s %q: %.3g points; at most %d", name, item, fc, maxPoints)
		}
		count := int(fc)
		out := make([]float64, 0, count+1)
		for i := range count {
			out = append(out, lo*math.Pow(10, float64(i)/float64(n)))
		}
		if last := out[len(out)-1]; math.Abs(last-hi) > 1e-9*hi {
			out = append(out, hi)
		} else {
			out[len(out)-1] = hi
		}
		return out, nil
	}
	d, err := number(name, step)
	if err != nil || d <= 0 {
		return nil, fmt.Errorf("--%s %q: step %q must be a positive number, log or logN", name, item, step)
	}
	fc := math.Floor((hi-lo)/d+1e-9) + 1
	if !(fc <= maxPoints) { // also catches +Inf and NaN
		return nil, fmt.Errorf("--%s %q: %.3g points; at most %d", name, item, fc, maxPoints)
	}
	count := int(fc)
	out := make([]float64, count)
	for i := range out {
		out[i] = lo + float64(i)*d
	}
	return out, nil
}

// parseInts parses like parseFloats and rounds to integers in [lo, hi].
func parseInts(name, s string, lo, hi int64) ([]int64, error) {
	fs, err := parseFloats(name, s)
	if err != nil {
		return nil, err
	}
	var out []int64
	for _, f := range fs {
		v := math.Round(f)
		if v < float64(lo) || v > float64(hi) {
			return nil, fmt.Errorf("--%s: %v is outside %d..%d", name, f, lo, hi)
		}
		out = append(out, int64(v))
	}
	return slices.Compact(out), nil
}

// parseProbs parses like parseFloats and checks every value is in [0, 1].
func parseProbs(name, s string) ([]float64, error) {
	fs, err := parseFloats(name, s)
	if err != nil {
		return nil, err
	}
	for _, f := range fs {
		if f < 0 || f > 1 {
			return nil, fmt.Errorf("--%s: %v is not a probability; give values in [0, 1]", name, f)
		}
	}
	return fs, nil
}
