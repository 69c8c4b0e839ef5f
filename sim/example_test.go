package sim_test

import (
	"fmt"

	"github.com/ppnet/ppnet/sim"
)

// A feeder of 1000 meters aggregated over a day of 15-minute rounds, in the
// paper's setting (w = t = 4), against this design with one PPN of five
// allowed to be down and two bundle retries.
func ExamplePaperModel() {
	paper := sim.PaperModel{W: 4, T: 4, K: 96, M: 1000, Pe: 1e-6}
	design := sim.DesignModel{W: 5, T: 4, K: 96, M: 1000, Pb: 1e-6, Retries: 2, Pf: 1e-3}
	fmt.Printf("paper:  P = %.4f, failure %.3g\n", paper.Success(), paper.Failure())
	fmt.Printf("design: P = %.6f, failure %.3g, producers covered %.4f of 1000\n",
		design.Success(), design.Failure(), design.ExpectedProducers())
	// Output:
	// paper:  P = 0.6811, failure 0.319
	// design: P = 0.999990, failure 9.98e-06, producers covered 999.9900 of 1000
}

// Wilson score interval of 9 successes in 10 trials at 95%.
func ExampleWilson() {
	lo, hi := sim.Wilson(9, 10, 0.95)
	fmt.Printf("[%.4f, %.4f]\n", lo, hi)
	// Output:
	// [0.5958, 0.9821]
}
