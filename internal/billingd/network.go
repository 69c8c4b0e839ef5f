package billingd

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/ppnet/ppnet/internal/billing/web"
	"github.com/ppnet/ppnet/internal/consumer"
	"github.com/ppnet/ppnet/internal/netconfig"
)

// Peer is another consumer whose health and released aggregates the
// network page shows, read over its HTTP API (/healthz, /results).
type Peer struct {
	Name string `yaml:"name" json:"name"`
	URL  string `yaml:"url" json:"url"` // base URL, e.g. http://127.0.0.1:8081
}

// NetworkView is the content of the network page (web.NetworkView).
type NetworkView = web.NetworkView

// peerRows caps the aggregates shown per peer (the latest windows).
const peerRows = 24

// Network gathers the network page: this consumer's progress and its PPNs'
// status from the aggregates it received, the periods, the notification
// channels, and each peer's health, PPN status and latest aggregates.
func (d *Daemon) Network(ctx context.Context) NetworkView {
	v := NetworkView{At: d.cfg.Now()}
	for _, p := range d.Periods() {
		v.Periods = append(v.Periods, web.PeriodView{Name: p.Name, FirstRound: p.FirstRound, LastRound: p.LastRound, State: p.State, Detail: p.Detail})
	}
	for _, c := range d.channels {
		v.Channels = append(v.Channels, web.ChannelView{Channel: c.Channel, Via: c.Via})
	}
	res, err := d.src.Results()
	if err != nil {
		v.Rules = append(v.Rules, web.RuleView{Rule: "results unreadable: " + err.Error()})
	}
	var mine []consumer.Result
	for _, rb := range d.cfg.Rules {
		r := &d.net.Rules[ruleIndex(d.net, rb.Rule)]
		rv := web.RuleView{Rule: r.ID, Band: rb.Band, Window: r.K}
		if c := d.net.Config.Rounds.Count; c > 0 {
			rv.Expected = int(c / r.K)
		}
		for _, x := range res {
			if x.Rule == r.ID && x.Final {
				rv.Final++
				rv.Covered += x.Covered
				rv.Missing += len(x.Missing)
				mine = append(mine, x)
			}
		}
		v.Rules = append(v.Rules, rv)
	}
	v.PPNs = ppnStatus(d.net, mine)
	client := &http.Client{Timeout: 2 * time.Second}
	for _, p := range d.cfg.Peers {
		v.Peers = append(v.Peers, fetchPeer(ctx, client, d.net, p))
	}
	return v
}

// ppnStatus tallies, for every PPN serving the rules of res, how each
// final window treated its share. A PPN the network assigns to a rule but
// that is in none of the result's lists sent no share in time: absent.
func ppnStatus(n *netconfig.Network, res []consumer.Result) []web.PPNView {
	byID := map[string]*web.PPNView{}
	var order []string
	view := func(id string) *web.PPNView {
		if byID[id] == nil {
			byID[id] = &web.PPNView{PPN: id}
			order = append(order, id)
		}
		return byID[id]
	}
	sort.SliceStable(res, func(i, j int) bool { return res[i].WindowStart < res[j].WindowStart })
	for _, x := range res {
		if !x.Final {
			continue
		}
		var assigned []string
		if i := ruleIndex(n, x.Rule); i >= 0 {
			for _, p := range n.Rules[i].PPNs {
				assigned = append(assigned, n.Config.PPNs[p].ID)
			}
		}
		for _, id := range slices.Concat(assigned, x.PPNs, x.Faulty, x.Mismatched) {
			view(id)
		}
		for _, id := range order {
			pv := byID[id]
			state := ""
			switch {
			case slices.Contains(x.Faulty, id):
				state = "faulty"
				pv.Faulty++
			case slices.Contains(x.Mismatched, id):
				state = "mismatched"
				pv.Mismatched++
			case slices.Contains(x.PPNs, id):
				state = "combined"
				pv.Combined++
			case slices.Contains(assigned, id):
				state = "absent"
				pv.Absent++
			default:
				continue // this PPN does not serve x's rule
			}
			pv.Windows++
			pv.Last, pv.LastWindow = state, x.WindowStart
			if !slices.Contains(pv.Rules, x.Rule) {
				pv.Rules = append(pv.Rules, x.Rule)
			}
		}
	}
	sort.Strings(order)
	out := make([]web.PPNView, 0, len(order))
	for _, id := range order {
		out = append(out, *byID[id])
	}
	return out
}

func fetchPeer(ctx context.Context, client *http.Client, n *netconfig.Network, p Peer) web.PeerView {
	pv := web.PeerView{Name: p.Name, URL: p.URL, Health: "ok"}
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
	pv.PPNs = ppnStatus(n, res)
	sort.SliceStable(res, func(i, j int) bool { return res[i].WindowStart > res[j].WindowStart })
	pv.Total = len(res)
	for _, r := range res {
		if !r.Final || len(pv.Results) == peerRows {
			continue
		}
		row := web.PeerRow{Rule: r.Rule, Kind: r.Kind, Window: r.WindowStart, Rounds: r.WindowRounds, Covered: r.Covered,
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
