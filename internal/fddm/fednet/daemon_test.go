package fednet

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ppnet/ppnet/internal/producer"
)

// TestTrainingSeries: a participant's training data from its own CSV is
// its meter's gap-free series, the latest max readings; bad files are
// refused with the problem named.
func TestTrainingSeries(t *testing.T) {
	start := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	write := func(rows ...string) string {
		p := filepath.Join(t.TempDir(), "h.csv")
		if err := os.WriteFile(p, []byte("meter,start,wh\n"+strings.Join(rows, "\n")+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	row := func(m string, i int, wh int) string {
		return fmt.Sprintf("%s,%s,%d", m, start.Add(time.Duration(i)*15*time.Minute).Format(time.RFC3339), wh)
	}
	var rows []string
	for i := range 10 {
		rows = append(rows, row("m1", i, 100+i), row("m2", i, 7))
	}
	s, err := trainingSeries(producer.FedAvg{TrainReadings: write(rows...), TrainMeter: "m1"}, "f001", 1, 4)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(s.Wh) != "[106 107 108 109]" || s.Interval != 15*time.Minute || !s.Start.Equal(start.Add(6*15*time.Minute)) {
		t.Errorf("series %v from %v every %v; want the latest 4 of m1 from 01:30 every 15m", s.Wh, s.Start, s.Interval)
	}
	for _, c := range []struct {
		name string
		f    producer.FedAvg
		want string
	}{
		{"no meter", producer.FedAvg{TrainReadings: write(rows...)}, `readings of meter "f001"`},
		{"gap", producer.FedAvg{TrainReadings: write(row("m1", 0, 1), row("m1", 1, 1), row("m1", 3, 1)), TrainMeter: "m1"}, "gap or an irregular interval"},
		{"export", producer.FedAvg{TrainReadings: write(row("m1", 0, 1), row("m1", 1, -5)), TrainMeter: "m1"}, "exports"},
		{"missing file", producer.FedAvg{TrainReadings: filepath.Join(t.TempDir(), "none.csv")}, "no such file"},
	} {
		if _, err := trainingSeries(c.f, "f001", 1, 100); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err %v, want one saying %q", c.name, err, c.want)
		}
	}
	s, err = trainingSeries(producer.FedAvg{TrainDays: 2, Household: 3}, "f001", 1, 672)
	if err != nil || len(s.Wh) != 192 {
		t.Errorf("synthetic household: %d readings, err %v; want 2 days = 192", len(s.Wh), err)
	}
}
