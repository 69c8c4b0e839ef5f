package configurator

import (
	"context"
	"os"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

// TestMain lets the scripts under testdata/script run `configurator` as a
// real subprocess: the test binary re-executes itself as the command.
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"configurator": func() {
			os.Exit(Main(context.Background(), os.Args[1:], &Env{Stdout: os.Stdout, Stderr: os.Stderr}))
		},
	})
}

// TestScripts runs the end-to-end CLI scripts (testdata/script/*.txtar),
// with the real CBC for the ilp solver.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{Dir: "testdata/script"})
}
