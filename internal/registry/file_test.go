package registry

import (
	"bytes"
	"reflect"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

const producerFile = `# two meters
- id: m1
  labels: {feeder: F12}
  max: 5000
  public_key: PKyg7m66rhHoOLUAN6xJpb99U0V28HcTKGqMefanzAg=
- {id: m2, max: 7000, public_key: 01GeC3s5F0jttYJpjRIirRVBUBMrih6rTIjvvKprH0o=}
`

func TestDecodeProducers(t *testing.T) {
	ps, err := DecodeProducers(strings.NewReader(producerFile))
	must(t, err)
	if len(ps) != 2 || ps[0].Labels["feeder"] != "F12" || ps[1].Max != 7000 {
		t.Fatalf("decoded %+v", ps)
	}
	js, err := DecodeProducers(strings.NewReader(`[{"id": "m1", "max": 1, "public_key": "k"}]`))
	if err != nil || len(js) != 1 || js[0].ID != "m1" {
		t.Fatalf("JSON: %+v, %v", js, err)
	}
	r, _ := fixture(t)
	must(t, r.AddProducers(ps))
	all, err := r.Producers()
	must(t, err)
	if len(all) != 12 {
		t.Fatalf("%d producers after adding two to ten", len(all))
	}
	for _, tc := range []struct{ in, want string }{
		{"", "is empty"},
		{"- id: m1\n  maximum: 3\n", "field maximum not found"},
		{"id: m1\n", "not a YAML or JSON list"},
	} {
		if _, err := DecodeProducers(strings.NewReader(tc.in)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("DecodeProducers(%q) = %v; want %q", tc.in, err, tc.want)
		}
	}
	// All or none: a bad entry after a good one enrols neither.
	bad := []Producer{{ID: "m3", Max: 1, PublicKey: ps[0].PublicKey}, {ID: "m4", Max: 1, PublicKey: "x"}}
	if err := r.AddProducers(bad); err == nil || !strings.Contains(err.Error(), `producer "m4" public key`) {
		t.Fatalf("bad batch: %v", err)
	}
	k5 := keyGen(t, 7)()
	dup := []Producer{{ID: "m5", Max: 1, PublicKey: k5}, {ID: "m5", Max: 1, PublicKey: k5}}
	if err := r.AddProducers(dup); err == nil || !strings.Contains(err.Error(), `producer "m5" exists`) {
		t.Fatalf("duplicate in a batch: %v", err)
	}
	if all, _ := r.Producers(); len(all) != 12 {
		t.Fatalf("%d producers after refused batches; want 12", len(all))
	}
}

// FuzzDecodeProducers: no input panics, and what decodes re-encodes to the
// same entries.
func FuzzDecodeProducers(f *testing.F) {
	f.Add([]byte(producerFile))
	f.Add([]byte(`[{"id": "m1", "max": 1, "public_key": "k", "labels": {"a": "b"}}]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		ps, err := DecodeProducers(bytes.NewReader(b))
		if err != nil {
			return
		}
		es := make([]ProducerEntry, len(ps))
		for i, p := range ps {
			es[i] = ProducerEntry{ID: p.ID, Labels: p.Labels, Max: p.Max, PublicKey: p.PublicKey}
		}
		out, err := yaml.Marshal(es)
		if err != nil {
			t.Fatal(err)
		}
		again, err := DecodeProducers(bytes.NewReader(out))
		if err != nil {
			t.Fatalf("re-encoded file does not decode: %v\n%s", err, out)
		}
		if len(ps) > 0 && !reflect.DeepEqual(again, ps) {
			t.Fatalf("round trip changed the entries:\n%+v\n%+v", ps, again)
		}
	})
}
