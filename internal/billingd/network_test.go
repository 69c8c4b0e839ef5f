package billingd

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/ppnet/ppnet/internal/billing/web"
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
	own := fixedSource{
		{Rule: "bill", WindowStart: 0, Final: true, Covered: 12, Missing: [][2]any{}, PPNs: []string{"ppn1", "ppn2", "ppn3"}, Checked: true},
		// Window 4: ppn2 named faulty by robust recovery, ppn3's share never came.
		{Rule: "bill", WindowStart: 4, Final: true, Covered: 12, Missing: [][2]any{}, PPNs: []string{"ppn1", "ppn2"}, Faulty: []string{"ppn2"}},
	}
	d, err := New(Config{Source: own, Net: n,
		DataDir: t.TempDir(), Poll: time.Hour, Periods: []Period{{Name: "2026-03", FirstRound: 0, LastRound: 7}},
		Peers: []Peer{{Name: "dso", URL: healthy.URL}, {Name: "planner", URL: sick.URL}, {Name: "gone", URL: downURL}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer d.Shutdown(context.Background())
	// Both windows are final: the first step issues the period. Wait for it
	// (poll, no sleep) so the page and the state compared with it agree.
	for deadline := time.Now().Add(10 * time.Second); d.Periods()[0].State == "waiting"; {
		if time.Now().After(deadline) {
			t.Fatalf("period never left waiting: %+v", d.Periods())
		}
		runtime.Gosched()
	}
	resp, err := http.Get("http://" + d.HTTPAddr() + "/network")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	page := string(b)
	for _, want := range []string{`<td>bill</td><td>all rounds</td><td class="num">4</td><td class="num">2</td><td class="num">2</td><td class="num">24</td>`,
		"feeder-F1-15min", "123456", "1 meters (not shown)", `href="/customers"`, `href="/network"`, `src="/static/htmx.min.js"`, `hx-trigger="every 5s, refresh"`,
		"503 Service Unavailable: consumer: nats disconnected", "unreachable", "<td>2026-03</td><td>0–7</td><td>" + d.Periods()[0].State + "</td>", "not configured: bills are not notified"} {
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
	want := []web.PPNView{
		{PPN: "ppn1", Rules: []string{"bill"}, Windows: 2, Combined: 2, Last: "combined", LastWindow: 4},
		{PPN: "ppn2", Rules: []string{"bill"}, Windows: 2, Combined: 1, Faulty: 1, Last: "faulty", LastWindow: 4},
		{PPN: "ppn3", Rules: []string{"bill"}, Windows: 2, Combined: 1, Absent: 1, Last: "absent", LastWindow: 4},
	}
	if !reflect.DeepEqual(nv.PPNs, want) {
		t.Errorf("PPN status\n got %+v\nwant %+v", nv.PPNs, want)
	}
	for _, w := range []string{`<td>ppn2</td><td><span class="tag held">faulty</span> (window 4)`, `<td>ppn3</td><td><span class="tag held">absent</span> (window 4)`} {
		if !strings.Contains(page, w) {
			t.Errorf("network page lacks %q", w)
		}
	}
	if b, err := json.Marshal(nv); err != nil || strings.Contains(string(b), "987654") {
		t.Errorf("network JSON shows a per-producer value of another consumer (%v)", err)
	}
}
