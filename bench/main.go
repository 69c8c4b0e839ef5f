// Command bench prints one table comparing package sharing with peer
// Shamir implementations — HashiCorp Vault's shamir (GF(2^8), byte-wise),
// Cloudflare CIRCL's secretsharing (Ristretto255 scalars) and a plain
// math/big implementation over the same field — on the same work: one 64-bit
// reading, w = 4/t = 4 and w = 5/t = 3. Every figure is measured in this
// process with testing.Benchmark; the rows of an operation are run
// round-robin -count times and each row's fastest run is kept, to damp noise
// from other load on the machine.
//
//	cd bench && go run .                 # the table
//	cd bench && go run . -count 5 -benchtime 1s   # fewer, longer runs
package main

import (
	"flag"
	"fmt"
	"os"
	"testing"
	"time"
)

func main() {
	testing.Init()
	benchtime := flag.Duration("benchtime", 50*time.Millisecond, "target running time of each measurement")
	count := flag.Int("count", 20, "measurements per row; the fastest is reported")
	flag.Parse()
	if err := flag.Set("test.benchtime", benchtime.String()); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(2)
	}
	if *count < 1 {
		fmt.Fprintln(os.Stderr, "bench: -count must be at least 1")
		os.Exit(2)
	}
	groups, err := buildGroups()
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
	printTable(os.Stdout, measure(groups, *count))
}
