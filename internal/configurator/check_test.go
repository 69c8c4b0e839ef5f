package configurator

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ppnet/ppnet/internal/policy"
)

// runCheckCode runs `configurator check args…` in-process through Main
// and returns the exit code, stdout and stderr.
func runCheckCode(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := Main(context.Background(), append([]string{"check"}, args...), &Env{Stdout: &out, Stderr: &errOut})
	return code, out.String(), errOut.String()
}

func policyTestdata(name string) string { return filepath.Join("..", "policy", "testdata", name) }

func TestCheckCommand(t *testing.T) {
	t.Run("accepted", func(t *testing.T) {
		code, out, _ := runCheckCode(t, policyTestdata("accepted.yaml"))
		if code != 0 {
			t.Fatalf("exit %d, want 0; stdout %s", code, out)
		}
		var rep policy.Report
		if err := json.Unmarshal([]byte(out), &rep); err != nil || !rep.Accepted {
			t.Fatalf("report %q: %v", out, err)
		}
	})
	t.Run("refused subtraction", func(t *testing.T) {
		code, out, _ := runCheckCode(t, policyTestdata("subtraction.yaml"))
		if code != 3 {
			t.Fatalf("exit %d, want 3", code)
		}
		var rep policy.Report
		if err := json.Unmarshal([]byte(out), &rep); err != nil {
			t.Fatal(err)
		}
		if rep.Accepted || len(rep.Leaks) == 0 {
			t.Fatalf("report %s", out)
		}
		l := rep.Leaks[0]
		if len(l.Producers) != 1 || l.Producers[0] != "h7" || len(l.Combination) != 2 || !l.Verified {
			t.Errorf("leak %+v, want h7 by f12 − f12-minus-7", l)
		}
	})
	t.Run("refused windows json", func(t *testing.T) {
		if code, out, _ := runCheckCode(t, policyTestdata("windows.json")); code != 3 || !strings.Contains(out, `"extent": 1`) {
			t.Fatalf("exit %d, stdout %s", code, out)
		}
	})
	t.Run("effective sets", func(t *testing.T) {
		eff := filepath.Join(t.TempDir(), "eff.json")
		// h7 misses this round: f12's effective set equals f12-minus-7's,
		// so the difference isolates nobody.
		if err := os.WriteFile(eff, []byte(`{"f12": ["h1","h2","h3","h4","h5","h6"]}`), 0o600); err != nil {
			t.Fatal(err)
		}
		if code, out, _ := runCheckCode(t, "-effective", eff, policyTestdata("subtraction.yaml")); code != 0 {
			t.Fatalf("exit %d, want 0 with h7 missing from f12: %s", code, out)
		}
	})
	t.Run("bad input", func(t *testing.T) {
		bad := filepath.Join(t.TempDir(), "bad.yaml")
		if err := os.WriteFile(bad, []byte("horizon: 4\nproducers: [{id: a, max: 1}]\nconsumers: []\nrules: [{id: r, consumer: nobody, producers: {ids: [a]}, window: 1, kind: sum}]\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		tests := []struct {
			args []string
			want string
		}{
			{[]string{bad}, `unknown consumer "nobody"`},
			{[]string{filepath.Join(t.TempDir(), "missing.yaml")}, "give the path of a rule-set file"},
			{[]string{}, "need exactly one rule-set FILE"},
			{[]string{"-max-union", "0", bad}, "must be at least 1"},
			{[]string{"-effective", bad, policyTestdata("subtraction.yaml")}, "not a JSON object"},
		}
		for _, tc := range tests {
			code, out, errOut := runCheckCode(t, tc.args...)
			if code != 2 || out != "" || !strings.Contains(errOut, tc.want) {
				t.Errorf("%v: exit %d, stdout %q, stderr %q; want 2 and %q", tc.args, code, out, errOut, tc.want)
			}
		}
	})
}
