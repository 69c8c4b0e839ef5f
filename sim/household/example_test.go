package household_test

import (
	"fmt"

	"github.com/ppnet/ppnet/sim/household"
)

// A day of one meter, in hourly totals, with which appliances ran.
func Example() {
	opts := household.DefaultOptions()
	pop, err := household.NewPopulation(opts, 1)
	if err != nil {
		panic(err)
	}
	names := pop.Appliances()
	m := pop.Meter(17)
	var dayWh uint64
	var ran uint64
	for r := range m.Readings(0, 96) { // 96 quarter-hours: Monday 5 January 2026
		dayWh += r.Wh
		ran |= r.On
	}
	fmt.Println("residents:", m.Household().Residents)
	fmt.Println("day total (Wh):", dayWh)
	for i, n := range names {
		if ran&(1<<i) != 0 {
			fmt.Println("ran:", n)
		}
	}
	// Output:
	// residents: 6
	// day total (Wh): 2133
	// ran: tube_light
	// ran: fridge
	// ran: tv
}
