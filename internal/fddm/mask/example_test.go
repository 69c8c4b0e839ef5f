package mask_test

import (
	"fmt"

	"github.com/ppnet/ppnet/internal/fddm/mask"
)

// A history store masks a closed period inside its write transaction: it
// loads the period's readings, scores them with the sensitivity model, calls
// Apply with the period-final signal, and writes the slice back over the
// originals.
func ExampleApply() {
	wh := []uint64{12, 240, 35, 180, 11, 95} // one meter's stored readings
	scores := []float64{0.1, 0.95, 0.3, 0.85, 0.05, 0.6}
	profile := []uint64{20, 60, 90, 40, 25, 30} // population mean per slot
	per := mask.Period{Wh: wh, Scores: scores, Profile: profile}
	p := mask.Policy{Strategy: mask.Generalise, Threshold: 0.5, MaxShare: 0.4}

	if _, err := mask.Apply(false, per, p); err != nil {
		fmt.Println(err)
	}
	res, err := mask.Apply(true, per, p)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(wh, res.Masked, res.Capped)
	// Output:
	// mask: period is not final; masking runs only after the bill for the period is issued
	// [12 60 35 40 11 95] [1 3] true
}
