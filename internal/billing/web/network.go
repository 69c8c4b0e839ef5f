package web

import (
	"context"
	"encoding/json"
	"net/http"
	"time"
)

// NetworkView is the network page: the billing consumer's own progress,
// each PPN's status as the aggregates it sent show it, the billing periods,
// the notification channels, and the other consumers (peers) with their
// health and latest aggregates. It never carries another consumer's
// per-producer values: PeerRow gives only how many meters such a result
// covers.
type NetworkView struct {
	At       time.Time     `json:"at"`
	Rules    []RuleView    `json:"rules"`
	PPNs     []PPNView     `json:"ppns"`
	Periods  []PeriodView  `json:"periods"`
	Channels []ChannelView `json:"channels"`
	Peers    []PeerView    `json:"peers"`
}

// RuleView is the billing consumer's progress on one of its rules.
type RuleView struct {
	Rule     string `json:"rule"`
	Band     string `json:"band,omitempty"`
	Window   uint64 `json:"window_rounds"`
	Final    int    `json:"windows_final"`
	Expected int    `json:"windows_expected"` // 0 for an unbounded epoch
	Covered  uint64 `json:"covered"`
	Missing  int    `json:"missing"`
}

// PPNView is one PPN as the final aggregates of the rules it serves show
// it: in how many windows its share was combined, named faulty by robust
// recovery (corrected for), left out for a coverage digest that disagreed
// with the majority's, or absent (late or lost: the window was final
// without it).
type PPNView struct {
	PPN        string   `json:"ppn"`
	Rules      []string `json:"rules"`
	Windows    int      `json:"windows"` // final windows of those rules
	Combined   int      `json:"combined"`
	Faulty     int      `json:"faulty"`
	Mismatched int      `json:"mismatched"`
	Absent     int      `json:"absent"`
	Last       string   `json:"last"` // in the latest final window: combined, faulty, mismatched, absent; "" before any
	LastWindow uint64   `json:"last_window"`
}

// OK reports whether the PPN's share was combined in the latest window.
func (p PPNView) OK() bool { return p.Last == "combined" }

// PeriodView is one billing period's state.
type PeriodView struct {
	Name       string `json:"name"`
	FirstRound uint64 `json:"first_round"`
	LastRound  uint64 `json:"last_round"`
	State      string `json:"state"` // waiting, issued, error
	Detail     string `json:"detail,omitempty"`
}

// ChannelView is one notification channel and what delivers it ("" Via:
// not configured, so bills are not notified on it).
type ChannelView struct {
	Channel string `json:"channel"`
	Via     string `json:"via"`
}

// PeerView is another consumer read over its HTTP API.
type PeerView struct {
	Name    string    `json:"name"`
	URL     string    `json:"url"`
	Health  string    `json:"health"` // "ok", or what failed
	PPNs    []PPNView `json:"ppns,omitempty"`
	Results []PeerRow `json:"results,omitempty"`
	Shown   int       `json:"shown"` // rows shown of Total
	Total   int       `json:"total"`
}

// PeerRow is one released aggregate of a peer. Per-producer values are
// never shown: Value then says how many meters the result covers.
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

// network serves /network (HTML; an htmx refresh gets the content only)
// and /api/network (JSON).
func (u *ui) network(w http.ResponseWriter, r *http.Request) {
	if u.netView == nil {
		http.Error(w, "web: no network view here; the billing consumer daemon (cmd/billing) serves it", http.StatusNotFound)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
	defer cancel()
	v := u.netView(ctx)
	if r.URL.Path == "/api/network" {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(v)
		return
	}
	data := map[string]any{"Title": "Network", "Nav": "network", "Net": v}
	if r.Header.Get("HX-Request") == "true" {
		u.render(w, "network", "net", data)
		return
	}
	u.render(w, "network", "layout", data)
}
