package billingd

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// TestChannelsReported: without any sender the daemon warns at start and
// ppnet_billing_notification_channel is 0 for both channels; with the demo
// sink both are 1 and Channels names the sink; with e-mail only, SMS is
// reported off.
func TestChannelsReported(t *testing.T) {
	n := testNet(t, 3, time.Now(), time.Second, 8, 8)
	for _, tc := range []struct {
		name     string
		cfg      Config
		sms, eml float64
		warn     string
	}{
		{name: "none", sms: 0, eml: 0, warn: "no notification channel configured"},
		{name: "sink", cfg: Config{SinkDir: t.TempDir()}, sms: 1, eml: 1},
		{name: "email only", cfg: Config{Email: EmailSettings{Host: "127.0.0.1", Port: 2525, From: "bills@example.in", TLS: "none"}}, sms: 0, eml: 1,
			warn: "channels=[sms]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var logs bytes.Buffer
			cfg := tc.cfg
			cfg.Source, cfg.Net, cfg.DataDir = fixedSource{}, n, t.TempDir()
			cfg.Registry = prometheus.NewRegistry()
			cfg.Logger = slog.New(slog.NewTextHandler(&logs, nil))
			d, err := New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			got := gauges(t, cfg.Registry, "ppnet_billing_notification_channel")
			if got["sms"] != tc.sms || got["email"] != tc.eml {
				t.Fatalf("channel gauges %v, want sms %v email %v", got, tc.sms, tc.eml)
			}
			if tc.warn == "" && strings.Contains(logs.String(), "WARN") || !strings.Contains(logs.String(), tc.warn) {
				t.Fatalf("log %q, want %q", logs.String(), tc.warn)
			}
			for _, c := range d.Channels() {
				if (c.Via != "") != (got[c.Channel] == 1) {
					t.Fatalf("channel %+v disagrees with its gauge", c)
				}
				if tc.name == "sink" && !strings.Contains(c.Via, "NOT sent") {
					t.Fatalf("sink channel %+v does not say it is not sent", c)
				}
			}
		})
	}
}

func gauges(t *testing.T, reg *prometheus.Registry, name string) map[string]float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			out[label(m, "channel")] = m.GetGauge().GetValue()
		}
	}
	return out
}

func label(m *dto.Metric, name string) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}

// TestWarnsFinerWindow: a billing rule whose windows cut the period into
// several (4-round windows, 8-round month) is logged as releasing more
// per-meter totals than the bill needs; one window per period is not.
func TestWarnsFinerWindow(t *testing.T) {
	for _, tc := range []struct {
		window uint64
		warn   bool
	}{{4, true}, {8, false}} {
		var logs bytes.Buffer
		_, err := New(Config{Source: fixedSource{}, Net: testNet(t, 3, time.Now(), time.Second, 8, tc.window), DataDir: t.TempDir(), SinkDir: t.TempDir(),
			Periods: []Period{{Name: "2026-03", FirstRound: 0, LastRound: 7}}, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Contains(logs.String(), "window is finer than the period"); got != tc.warn || tc.warn && !strings.Contains(logs.String(), "windows=2") {
			t.Fatalf("window %d: log %q, want warning %v", tc.window, logs.String(), tc.warn)
		}
	}
}
