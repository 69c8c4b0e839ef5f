package billingd

import (
	"context"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/ppnet/ppnet/internal/consumer"
	"github.com/ppnet/ppnet/internal/netconfig"
)

// Peer is another consumer whose health and released aggregates the
// network page shows, read over its HTTP API (/healthz, /results).
type Peer struct {
	Name string `yaml:"name" json:"name"`
	URL  string `yaml:"url" json:"url"` // base URL, e.g. http://127.0.0.1:8081
}

// PeerView is what the network page shows of a peer.
type PeerView struct {
	Peer
	Health  string    `json:"health"` // "ok", or what failed
	Results []PeerRow `json:"results,omitempty"`
	Shown   int       `json:"shown"` // rows shown of Total
	Total   int       `json:"total"`
}

// PeerRow is one released aggregate of a peer. Per-producer values are
// never shown: only how many meters the result covers.
type PeerRow struct {
	Rule    string `json:"rule"`
	Kind    string `json:"kind"`
	Window  uint64 `json:"window_start"`
	Rounds  uint64 `json:"window_rounds"`
	Value   string `json:"value"`
	Covered uint64 `json:"covered"`
	Missing int    `json:"missing"`
	Checked bool   `json:"checked"`
	Error   string `json:"error,omitempty"`
}

// RuleView is the billing consumer's own progress on one rule.
type RuleView struct {
	Rule     string `json:"rule"`
	Final    int    `json:"windows_final"`
	Expected int    `json:"windows_expected"` // 0 for an unbounded epoch
	Covered  uint64 `json:"covered"`
	Missing  int    `json:"missing"`
}

// NetworkView is the content of the network page.
type NetworkView struct {
	Rules   []RuleView     `json:"rules"`
	Peers   []PeerView     `json:"peers"`
	At      time.Time      `json:"at"`
	Periods []PeriodStatus `json:"periods"`
}

// peerRows caps the aggregates shown per peer (the latest windows).
const peerRows = 24

// Network gathers the network page: this consumer's progress and each
// peer's health and latest aggregates.
func (d *Daemon) Network(ctx context.Context) NetworkView {
	v := NetworkView{At: d.cfg.Now(), Periods: d.Periods()}
	res, _ := d.src.Results()
	for _, rb := range d.cfg.Rules {
		r := &d.net.Rules[ruleIndex(d.net, rb.Rule)]
		rv := RuleView{Rule: r.ID}
		if c := d.net.Config.Rounds.Count; c > 0 {
			rv.Expected = int(c / r.K)
		}
		for _, x := range res {
			if x.Rule == r.ID && x.Final {
				rv.Final++
				rv.Covered += x.Covered
				rv.Missing += len(x.Missing)
			}
		}
		v.Rules = append(v.Rules, rv)
	}
	client := &http.Client{Timeout: 2 * time.Second}
	for _, p := range d.cfg.Peers {
		v.Peers = append(v.Peers, fetchPeer(ctx, client, p))
	}
	return v
}

func fetchPeer(ctx context.Context, client *http.Client, p Peer) PeerView {
	pv := PeerView{Peer: p, Health: "ok"}
	base := strings.TrimSuffix(p.URL, "/")
	_, err := get(ctx, client, base+"/healthz")
	if err != nil {
		pv.Health = err.Error()
		return pv
	}
	b, err := get(ctx, client, base+"/results")
	if err != nil {
		pv.Health = "healthy, but " + err.Error()
		return pv
	}
	var res []consumer.Result
	if err := json.Unmarshal(b, &res); err != nil {
		pv.Health = fmt.Sprintf("healthy, but /results is not a list of results: %v", err)
		return pv
	}
	sort.SliceStable(res, func(i, j int) bool { return res[i].WindowStart > res[j].WindowStart })
	pv.Total = len(res)
	for _, r := range res {
		if !r.Final || len(pv.Results) == peerRows {
			continue
		}
		row := PeerRow{Rule: r.Rule, Kind: r.Kind, Window: r.WindowStart, Rounds: r.WindowRounds, Covered: r.Covered,
			Missing: len(r.Missing), Checked: r.Checked, Error: r.Error}
		switch {
		case r.Value != nil:
			row.Value = fmt.Sprint(*r.Value)
		case r.Kind == netconfig.KindPerProducer:
			row.Value = fmt.Sprintf("%d meters (not shown)", len(r.Values))
		}
		pv.Results = append(pv.Results, row)
	}
	pv.Shown = len(pv.Results)
	return pv
}

func get(ctx context.Context, client *http.Client, url string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, fmt.Errorf("bad peer URL %q: %v", url, err)
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("unreachable: %v", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %v", url, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s answered %s: %s", url, resp.Status, strings.TrimSpace(string(b)))
	}
	return b, nil
}

var networkPage = template.Must(template.New("network").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>ppnet network</title>
<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;margin-bottom:1.5em}td,th{border:1px solid #ccc;padding:.2em .6em;text-align:right}th{background:#eee}.bad{color:#a00}</style>
</head><body>
<p><a href="/">Customers and bills</a></p>
<h1>Network</h1>
<p>As of {{.At.Format "2006-01-02 15:04:05 MST"}}.</p>
<h2>This billing consumer</h2>
<table><tr><th>rule</th><th>windows final</th><th>expected</th><th>covered (meter, round)</th><th>missing</th></tr>
{{range .Rules}}<tr><td>{{.Rule}}</td><td>{{.Final}}</td><td>{{if .Expected}}{{.Expected}}{{else}}unbounded{{end}}</td><td>{{.Covered}}</td><td>{{.Missing}}</td></tr>{{end}}
</table>
<table><tr><th>period</th><th>rounds</th><th>state</th><th>detail</th></tr>
{{range .Periods}}<tr><td>{{.Name}}</td><td>{{.FirstRound}}–{{.LastRound}}</td><td>{{.State}}</td><td>{{.Detail}}</td></tr>{{end}}
</table>
<h2>Other consumers</h2>
{{if not .Peers}}<p>None configured (peers: name, url).</p>{{end}}
{{range .Peers}}<h3>{{.Name}} <small>{{.URL}}</small></h3>
<p>Health: {{if eq .Health "ok"}}ok{{else}}<span class="bad">{{.Health}}</span>{{end}}</p>
{{if .Results}}<table><tr><th>rule</th><th>kind</th><th>window</th><th>rounds</th><th>aggregate (Wh)</th><th>covered</th><th>missing</th><th>checked</th></tr>
{{range .Results}}<tr><td>{{.Rule}}</td><td>{{.Kind}}</td><td>{{.Window}}</td><td>{{.Rounds}}</td><td>{{if .Error}}<span class="bad">{{.Error}}</span>{{else}}{{.Value}}{{end}}</td><td>{{.Covered}}</td><td>{{.Missing}}</td><td>{{.Checked}}</td></tr>{{end}}
</table><p>{{.Shown}} latest final results of {{.Total}}.</p>{{end}}
{{end}}
</body></html>
`))

func (d *Daemon) serveNetwork(w http.ResponseWriter, r *http.Request) {
	v := d.Network(r.Context())
	if strings.HasPrefix(r.URL.Path, "/api/") {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(v)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if err := networkPage.Execute(w, v); err != nil {
		d.log.Error("network page", "err", err)
	}
}
