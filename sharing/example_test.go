package sharing_test

import (
	"crypto/rand"
	"errors"
	"fmt"

	"github.com/ppnet/ppnet/sharing"
)

// ppns are the public x-coordinates of four Privacy Preserving Nodes.
var ppns = []sharing.Element{sharing.NewElement(1), sharing.NewElement(2), sharing.NewElement(3), sharing.NewElement(4)}

// A meter splits one reading for four nodes, any three of which recover it.
func ExampleSplitter() {
	sp, err := sharing.NewSplitter(ppns, 3, rand.Reader)
	if err != nil {
		panic(err)
	}
	reading, err := sharing.FromUint64(1234) // Wh
	if err != nil {
		panic(err)
	}
	shares := make([]sharing.Element, len(ppns))
	if err := sp.Split(reading, shares); err != nil {
		panic(err)
	}
	// Nodes 2, 3 and 4 answer; node 1 is down.
	var c sharing.Combiner
	got, err := c.Recover([]sharing.Share{
		{X: ppns[1], Y: shares[1]}, {X: ppns[2], Y: shares[2]}, {X: ppns[3], Y: shares[3]},
	}, 3)
	if err != nil {
		panic(err)
	}
	fmt.Println(got.Int64(), "Wh")
	// Output: 1234 Wh
}

// Two meters — one importing, one exporting rooftop solar — share their
// readings; each node adds the shares it holds; the consumer recovers only
// the sum.
func ExampleAddVec() {
	sp, err := sharing.NewSplitter(ppns, 4, rand.Reader)
	if err != nil {
		panic(err)
	}
	node := make([]sharing.Element, len(ppns)) // node i's running sum is node[i]
	for _, wh := range []int64{1500, -300} {
		reading, err := sharing.FromInt64(wh)
		if err != nil {
			panic(err)
		}
		shares := make([]sharing.Element, len(ppns))
		if err := sp.Split(reading, shares); err != nil {
			panic(err)
		}
		if err := sharing.AddVec(node, shares); err != nil {
			panic(err)
		}
	}
	rec, err := sharing.NewRecoverer(ppns)
	if err != nil {
		panic(err)
	}
	sum, err := rec.Recover(node)
	if err != nil {
		panic(err)
	}
	fmt.Println("feeder total:", sum.Int64(), "Wh")
	// Output: feeder total: 1200 Wh
}

// Six nodes hold shares with threshold four; the node at x = 5 lies. Robust
// recovery still finds the reading and names the faulty node. With only
// five shares the lie is detected but cannot be corrected.
func ExampleCombiner_RobustRecover() {
	xs := []sharing.Element{
		sharing.NewElement(1), sharing.NewElement(2), sharing.NewElement(3),
		sharing.NewElement(4), sharing.NewElement(5), sharing.NewElement(6),
	}
	sp, err := sharing.NewSplitter(xs, 4, rand.Reader)
	if err != nil {
		panic(err)
	}
	ys := make([]sharing.Element, len(xs))
	if err := sp.Split(sharing.NewElement(4321), ys); err != nil {
		panic(err)
	}
	shares := make([]sharing.Share, len(xs))
	for i := range xs {
		shares[i] = sharing.Share{X: xs[i], Y: ys[i]}
	}
	shares[4].Y = shares[4].Y.Add(sharing.NewElement(1000)) // the lie

	var c sharing.Combiner
	res, err := c.RobustRecover(shares, 4)
	if err != nil {
		panic(err)
	}
	fmt.Println("reading:", res.Secret, "faulty nodes:", res.Faulty)

	_, err = c.RobustRecover(shares[:5], 4)
	fmt.Println("with five shares:", errors.Is(err, sharing.ErrInconsistent))
	// Output:
	// reading: 4321 faulty nodes: [5]
	// with five shares: true
}
