package tariff_test

import (
	"fmt"

	"github.com/ppnet/ppnet/internal/billing/tariff"
)

// A Karnataka LT-2(a) household on 1.5 kW sanctioned load using 250 kWh in
// a month.
func ExampleSchedule_Compute() {
	s, err := tariff.Load(tariff.DefaultID)
	if err != nil {
		panic(err)
	}
	c, err := s.Compute(tariff.Usage{Wh: 250_000, SanctionedLoadW: 1500})
	if err != nil {
		panic(err)
	}
	for _, l := range c.Lines {
		fmt.Printf("%-30s %-14s %8s\n", l.Label, l.Quantity, tariff.Rupees(l.AmountPaise))
	}
	fmt.Printf("%-45s %8s\n", "Total", tariff.Rupees(c.TotalPaise))
	// Output:
	// Fixed charge                   2 kW (of 1.500)   290.00
	// Energy charge                  250.000 kWh     1450.00
	// Pension & gratuity surcharge   250.000 kWh       90.00
	// Electricity tax 9.00%          on Rs 1740.00    156.60
	// Rounding to the rupee                             0.40
	// Total                                          1987.00
}
