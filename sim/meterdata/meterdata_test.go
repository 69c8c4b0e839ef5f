package meterdata

import (
	"bytes"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
	"time"
)

const realExample = `# export of feeder F12, 15-minute intervals
meter,start,wh
MTR-0001,2026-01-05T00:00:00Z,41
MTR-0001,2026-01-05T00:15:00Z,38
MTR-0002,2026-01-05T05:45:00+05:30,-120
`

const truthExample = `meter,start,wh,active_occupants,occupied,appliances
17,2026-01-05T07:00:00Z,178,3,true,tube_light+fridge+mixer
17,2026-01-05T07:15:00Z,25,0,false,
`

func readAll(t *testing.T, in string) ([]Record, error) {
	t.Helper()
	r, err := NewReader(strings.NewReader(in))
	if err != nil {
		return nil, err
	}
	var out []Record
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		out = append(out, rec)
	}
}

func TestReadExamples(t *testing.T) {
	recs, err := readAll(t, realExample)
	if err != nil {
		t.Fatal(err)
	}
	ist := time.FixedZone("", 5*3600+1800)
	want := Record{Meter: "MTR-0002", Start: time.Date(2026, 1, 5, 5, 45, 0, 0, ist), Wh: -120}
	if len(recs) != 3 || recs[2].Meter != want.Meter || !recs[2].Start.Equal(want.Start) || recs[2].Wh != want.Wh || recs[2].Truth != nil {
		t.Fatalf("got %+v", recs)
	}
	recs, err = readAll(t, truthExample)
	if err != nil {
		t.Fatal(err)
	}
	if tr := recs[0].Truth; tr == nil || tr.ActiveOccupants != 3 || !tr.Occupied || !reflect.DeepEqual(tr.Appliances, []string{"tube_light", "fridge", "mixer"}) {
		t.Fatalf("truth %+v", recs[0].Truth)
	}
	if tr := recs[1].Truth; tr == nil || tr.Occupied || tr.Appliances != nil {
		t.Fatalf("truth %+v", recs[1].Truth)
	}
}

func TestReadErrors(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"empty", "", "empty input"},
		{"header", "id,time,kwh\n", `want "meter,start,wh"`},
		{"columns", "meter,start,wh\nA,2026-01-05T00:00:00Z\n", "wrong number of fields"},
		{"time", "meter,start,wh\nA,2026-01-05 00:00,3\n", `line 2: start "2026-01-05 00:00" is not an RFC 3339 time`},
		{"wh", "meter,start,wh\nA,2026-01-05T00:00:00Z,3.5\n", `line 2: wh "3.5" is not an integer`},
		{"wh range", "meter,start,wh\nA,2026-01-05T00:00:00Z,10000000000000\n", "within ±10^12"},
		{"meter", "meter,start,wh\n,2026-01-05T00:00:00Z,3\n", "1 to 64 characters"},
		{"occupied", "meter,start,wh,active_occupants,occupied,appliances\nA,2026-01-05T00:00:00Z,3,1,yes,\n", `occupied "yes"`},
		{"occupants", "meter,start,wh,active_occupants,occupied,appliances\nA,2026-01-05T00:00:00Z,3,-1,true,\n", "0–64"},
		{"appliances", "meter,start,wh,active_occupants,occupied,appliances\nA,2026-01-05T00:00:00Z,3,1,true,tv++fan\n", "joined by '+'"},
		{"quote", "meter,start,wh\n\"A,2026\n", "meterdata: "},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := readAll(t, tc.in)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "meterdata: ") {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func TestWriterRefuses(t *testing.T) {
	tests := []struct {
		name string
		rec  Record
	}{
		{"comment meter", Record{Meter: "#1"}},
		{"wh", Record{Meter: "a", Wh: MaxWh + 1}},
		{"appliance", Record{Meter: "a", Truth: &Truth{Appliances: []string{"a+b"}}}},
		{"occupants", Record{Meter: "a", Truth: &Truth{ActiveOccupants: 65}}},
	}
	for _, tc := range tests {
		if err := NewWriter(io.Discard, true).Write(tc.rec); err == nil {
			t.Errorf("%s: %+v written", tc.name, tc.rec)
		}
	}
}

// roundTrip checks that whatever the reader accepts, the writer writes back
// to an equal record.
func roundTrip(t *testing.T, in []byte) {
	r, err := NewReader(bytes.NewReader(in))
	if err != nil {
		return
	}
	var recs []Record
	for {
		rec, err := r.Read()
		if err != nil {
			break
		}
		recs = append(recs, rec)
	}
	var buf bytes.Buffer
	w := NewWriter(&buf, r.HasTruth())
	for _, rec := range recs {
		if err := w.Write(rec); err != nil {
			t.Fatalf("writing a record the reader accepted: %v (%+v)", err, rec)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	back, err := readAll(t, buf.String())
	if err != nil {
		t.Fatalf("reading back %q: %v", buf.String(), err)
	}
	if len(back) != len(recs) {
		t.Fatalf("read back %d records, wrote %d", len(back), len(recs))
	}
	for i := range recs {
		a, b := recs[i], back[i]
		if a.Meter != b.Meter || !a.Start.Equal(b.Start) || a.Wh != b.Wh || !reflect.DeepEqual(a.Truth, b.Truth) {
			t.Fatalf("record %d: %+v became %+v", i, a, b)
		}
	}
}

func TestRoundTrip(t *testing.T) {
	roundTrip(t, []byte(realExample))
	roundTrip(t, []byte(truthExample))
}

func FuzzReader(f *testing.F) {
	f.Add([]byte(realExample))
	f.Add([]byte(truthExample))
	f.Add([]byte("meter,start,wh\n\" x\",2026-01-05T00:00:00.25-03:00,0\n"))
	f.Fuzz(roundTrip)
}
