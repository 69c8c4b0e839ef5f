package policy

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestTestdataFiles(t *testing.T) {
	for _, tc := range []struct {
		file     string
		accepted bool
	}{{"accepted.yaml", true}, {"subtraction.yaml", false}, {"windows.json", false}} {
		t.Run(tc.file, func(t *testing.T) {
			fh, err := os.Open(filepath.Join("testdata", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			defer fh.Close()
			f, err := Decode(fh)
			if err != nil {
				t.Fatal(err)
			}
			p, err := Resolve(f)
			if err != nil {
				t.Fatal(err)
			}
			rep, err := Check(p, nil)
			if err != nil {
				t.Fatal(err)
			}
			if rep.Accepted != tc.accepted {
				t.Fatalf("accepted = %v, want %v: %+v", rep.Accepted, tc.accepted, rep)
			}
		})
	}
}

func TestDecodeAndResolveErrors(t *testing.T) {
	ok := `horizon: 4
producers: [{id: a, max: 1, labels: {f: x}}]
consumers: [{id: c, grant: {kinds: [sum], min_window: 1, min_cohort: 1}}]
rules: [{id: r, consumer: c, producers: {selector: f=x}, window: 1, kind: sum}]
`
	if f, err := Decode(strings.NewReader(ok)); err != nil {
		t.Fatal(err)
	} else if _, err := Resolve(f); err != nil {
		t.Fatal(err)
	}
	tests := []struct{ name, from, to, want string }{
		{"unknown field", "horizon: 4", "horizon: 4\nhorizont: 5", "field horizont not found"},
		{"negative horizon", "horizon: 4", "horizon: -1", "horizon -1 rounds is outside"},
		{"huge horizon", "horizon: 4", "horizon: 100000", "outside [1, 8192]"},
		{"duplicate producer", "[{id: a, max: 1, labels: {f: x}}]", "[{id: a, max: 1}, {id: a, max: 2}]", `producer id "a" appears twice`},
		{"negative max", "max: 1", "max: -1", "cannot unmarshal"},
		{"unknown consumer", "consumer: c", "consumer: d", `unknown consumer "d"`},
		{"unknown kind", "kind: sum", "kind: average", `unknown kind "average"`},
		{"bad grant kind", "kinds: [sum]", "kinds: [mean]", `unknown kind "mean" in grant`},
		{"zero window", "window: 1", "window: 0", "window 0 must be at least 1"},
		{"zero min window", "min_window: 1", "min_window: 0", "min_window 0 must be at least 1"},
		{"bad selector", "selector: f=x", "selector: fx", `term "fx" is not label=value`},
		{"unknown id", "{selector: f=x}", "{ids: [zz]}", `unknown producer "zz" in ids`},
		{"no selection", "{selector: f=x}", "{}", "give producers.ids or producers.selector"},
		{"band without day", "kind: sum}", "kind: sum, band: [[0, 2]]}", "rounds_per_day is not set"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			doc := strings.Replace(ok, tc.from, tc.to, 1)
			f, err := Decode(strings.NewReader(doc))
			if err == nil {
				_, err = Resolve(f)
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "policy: ") {
				t.Fatalf("error %v, want policy: …%q…", err, tc.want)
			}
		})
	}
	f, err := Decode(strings.NewReader(`{"horizon": 4, "horizont": 5}`))
	if err == nil || !strings.Contains(err.Error(), "horizont") {
		t.Errorf("json unknown field: %v %v", f, err)
	}
	doc := strings.Replace(ok, "horizon: 4", "horizon: 4\nrounds_per_day: 4", 1)
	doc = strings.Replace(doc, "kind: sum}", "kind: sum, band: [[2, 5]]}", 1)
	if f, err = Decode(strings.NewReader(doc)); err == nil {
		_, err = Resolve(f)
	}
	if err == nil || !strings.Contains(err.Error(), "band range [2, 5) is not within [0, 4)") {
		t.Errorf("band out of day: %v", err)
	}
	if _, err := Decode(strings.NewReader("")); err == nil || !strings.Contains(err.Error(), "empty") {
		t.Errorf("empty file: %v", err)
	}
}

// FuzzDecode feeds arbitrary bytes through Decode, Resolve and (for small
// inputs) Check: errors are fine, panics are not, and a decoded and
// resolved file either checks or fails with a policy error.
func FuzzDecode(f *testing.F) {
	for _, name := range []string{"accepted.yaml", "subtraction.yaml", "windows.json"} {
		data, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(`{"horizon": 3, "rules": [{"id": "r", "band": [[0, 1]]}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := Decode(bytes.NewReader(data))
		if err != nil {
			if !strings.HasPrefix(err.Error(), "policy: ") {
				t.Fatalf("error without package prefix: %v", err)
			}
			return
		}
		p, err := Resolve(file)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "policy: ") {
				t.Fatalf("error without package prefix: %v", err)
			}
			return
		}
		if p.Horizon > 64 || len(p.Rules) > 8 || len(p.Producers) > 64 {
			return
		}
		if _, err := Check(p, nil); err != nil {
			t.Fatalf("resolved policy failed to check: %v", err)
		}
	})
}
