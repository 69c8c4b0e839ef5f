package billingd

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/ppnet/ppnet/internal/consumer"
)

type fixedSource []consumer.Result

func (s fixedSource) Results() ([]consumer.Result, error) { return s, nil }

// TestNetworkPage: the page shows this consumer's progress, a healthy
// peer's sum aggregates (never per-producer values), and names a peer that
// is down or unhealthy.
func TestNetworkPage(t *testing.T) {
	v := int64(123456)
	peerResults := []consumer.Result{
		{Consumer: "dso", Rule: "feeder-F1-15min", Kind: "sum", WindowStart: 3, WindowRounds: 1, Value: &v, Covered: 10, Final: true, Checked: true},
		{Consumer: "dso", Rule: "secret-pp", Kind: "per-producer", WindowStart: 0, WindowRounds: 4, Values: map[string]int64{"m00001": 987654}, Final: true},
	}
	healthy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/healthz":
			io.WriteString(w, "ok\n")
		case "/results":
			json.NewEncoder(w).Encode(peerResults)
		}
	}))
	defer healthy.Close()
	sick := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "consumer: nats disconnected", http.StatusServiceUnavailable)
	}))
	defer sick.Close()
	down := httptest.NewServer(http.NotFoundHandler())
	downURL := down.URL
	down.Close()

	n := testNet(t, 3, time.Now(), time.Second, 8, 4)
	d, err := New(Config{Source: fixedSource{{Rule: "bill", WindowStart: 0, Final: true, Covered: 12, Missing: [][2]any{}}}, Net: n,
		DataDir: t.TempDir(), Poll: time.Hour, Periods: []Period{{Name: "2026-03", FirstRound: 0, LastRound: 7}},
		Peers: []Peer{{Name: "dso", URL: healthy.URL}, {Name: "planner", URL: sick.URL}, {Name: "gone", URL: downURL}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer d.Shutdown(context.Background())
	resp, err := http.Get("http://" + d.HTTPAddr() + "/network")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	page := string(b)
	for _, want := range []string{"<td>bill</td><td>1</td><td>2</td><td>12</td>", "feeder-F1-15min", "123456", "1 meters (not shown)",
		"503 Service Unavailable: consumer: nats disconnected", "unreachable", "2026-03", "waiting"} {
		if !strings.Contains(page, want) {
			t.Errorf("network page lacks %q", want)
		}
	}
	if strings.Contains(page, "987654") {
		t.Error("network page shows a per-producer value of another consumer")
	}
	var nv NetworkView
	getJSON(t, "http://"+d.HTTPAddr()+"/api/network", &nv)
	if len(nv.Peers) != 3 || nv.Peers[0].Health != "ok" || nv.Peers[0].Shown != 2 || nv.Peers[2].Health == "ok" {
		t.Errorf("network JSON %+v", nv.Peers)
	}
}
