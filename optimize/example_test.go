package optimize_test

import (
	"context"
	"fmt"
	"strings"

	"github.com/ppnet/ppnet/optimize"
)

// Four consumers on twelve meters, two shares each, PPNs of 10 sums.
func ExamplePack() {
	in, err := optimize.ReadInstance(strings.NewReader(`{
	  "w": 2, "L": 10, "producers": 12, "ppns": 6,
	  "consumers": [
	    {"id": "feeder-F1", "producers": [0, 1, 2, 3, 4, 5]},
	    {"id": "feeder-F2", "producers": [6, 7, 8, 9, 10, 11]},
	    {"id": "billing", "producers": [0, 2, 4, 6]},
	    {"id": "research", "producers": [1, 3, 5, 7, 9]}]}`))
	if err != nil {
		fmt.Println(err)
		return
	}
	r, err := optimize.Pack(in, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := optimize.Check(in, r); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("pack: active PPNs:", r.NumActive(), "lower bound:", r.LowerBound, "optimal:", r.Optimal)
	for c, ns := range r.Consumers {
		fmt.Println(in.Consumers[c].ID, ns, "load of first PPN:", r.Load[ns[0]])
	}
	// The lower bound already proves 6 optimal: the 5-producer consumer
	// cannot join two 6-producer copies (L = 10), which forces a sixth PPN.
	// The exact search agrees.
	e, err := optimize.Exact(context.Background(), in, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("exact: active PPNs:", e.NumActive(), "lower bound:", e.LowerBound, "optimal:", e.Optimal)
	// Output:
	// pack: active PPNs: 6 lower bound: 6 optimal: true
	// feeder-F1 [0 1] load of first PPN: 6
	// feeder-F2 [2 3] load of first PPN: 6
	// billing [4 5] load of first PPN: 9
	// research [4 5] load of first PPN: 9
	// exact: active PPNs: 6 lower bound: 6 optimal: true
}
