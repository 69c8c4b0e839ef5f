package devnet

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ppnet/ppnet/internal/consumer"
	"github.com/ppnet/ppnet/internal/natsx"
	"github.com/ppnet/ppnet/internal/netconfig"
	"github.com/ppnet/ppnet/internal/ppn"
	"github.com/ppnet/ppnet/internal/producer"
)

// TestDaemonsFromFiles runs the three daemons as the commands do — from a
// network file and key files, over a NATS URL — and checks the consumer's
// result against the producer's history.
func TestDaemonsFromFiles(t *testing.T) {
	dir := t.TempDir()
	spec := netconfig.Spec{PPNs: 2, Threshold: 2, W: 2, Meters: 3, Producers: 1,
		Start: time.Now().Add(1500 * time.Millisecond), Round: 50 * time.Millisecond, Grace: 150 * time.Millisecond, Rounds: 2,
		Rules: []netconfig.RuleSpec{{ID: "all", Consumer: "dso", Kind: netconfig.KindSum, Window: 2, Fraction: 1}}}
	c, keys, err := netconfig.Generate(spec, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if err := WriteNetwork(dir, c, keys); err != nil {
		t.Fatal(err)
	}
	if err := WriteNetwork(dir, c, keys); err == nil {
		t.Fatal("existing key files were overwritten")
	}
	srv, err := natsx.StartServer(natsx.ServerOptions{Dir: filepath.Join(dir, "nats")})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Shutdown()
	url, netFile := srv.ClientURL(), filepath.Join(dir, "network.yaml")
	key := func(id string) string { return filepath.Join(dir, "keys", id+".key") }
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	type daemon interface {
		Start(context.Context) error
		Shutdown(context.Context) error
	}
	cs, err := consumer.New(consumer.Config{Network: netFile, ID: "dso", KeyFile: key("dso"), NATS: url, DataDir: filepath.Join(dir, "dso"), Settle: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	ds := []daemon{cs}
	for _, id := range []string{"ppn1", "ppn2"} {
		p, err := ppn.New(ppn.Config{Network: netFile, ID: id, KeyFile: key(id), NATS: url, DataDir: filepath.Join(dir, id)})
		if err != nil {
			t.Fatal(err)
		}
		ds = append(ds, p)
	}
	pr, err := producer.New(producer.Config{Network: netFile, ID: "c1", KeyFile: key("c1"), NATS: url, DataDir: filepath.Join(dir, "c1"), From: 0, Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	ds = append(ds, pr)
	for _, d := range ds {
		if err := d.Start(ctx); err != nil {
			t.Fatal(err)
		}
	}
	var res []consumer.Result
	waitFor(t, func() bool {
		res, err = cs.Results()
		return err == nil && len(res) == 1 && res[0].Final
	})
	checkHTTP(t, "http://"+cs.HTTPAddr()+"/results?rule=all", `"rule":"all"`)
	checkHTTP(t, "http://"+cs.HTTPAddr()+"/healthz", "ok")
	checkHTTP(t, "http://"+ds[1].(*ppn.PPN).HTTPAddr()+"/metrics", "ppnet_ppn_shares_added_total ")
	checkHTTP(t, "http://"+pr.HTTPAddr()+"/metrics", "ppnet_producer_bundles_published_total ")
	for _, d := range ds {
		if err := d.Shutdown(ctx); err != nil {
			t.Fatal(err)
		}
	}
	h, err := producer.OpenHistory(filepath.Join(dir, "c1", "producer-c1.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	r := res[0]
	missing := map[string]bool{}
	for _, m := range r.Missing {
		missing[fmt.Sprint(m[0], "/", m[1])] = true
	}
	var sum int64
	n := 0
	for e, err := range h.All() {
		if err != nil {
			t.Fatal(err)
		}
		n++
		if !missing[fmt.Sprint(c.Producers[0].Meters[e.Meter], "/", e.Round)] {
			sum += e.Wh
		}
	}
	if n != 6 || r.Covered != uint64(6-len(r.Missing)) || r.Covered == 0 || r.Value == nil || *r.Value != sum {
		t.Fatalf("result %+v; history has %d readings, the covered ones summing to %d", r, n, sum)
	}
}

func checkHTTP(t *testing.T, url, want string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(b), want) {
		t.Fatalf("GET %s: %s, body lacks %q:\n%.2000s", url, resp.Status, want, b)
	}
}

// TestSkipStreams: with SkipStreams a daemon declares nothing (an admin
// does, under per-role NATS permissions); without the streams it refuses
// to start, naming the stream.
func TestSkipStreams(t *testing.T) {
	dir := t.TempDir()
	spec := netconfig.Spec{PPNs: 2, Threshold: 2, W: 2, Meters: 1, Start: time.Now(), Round: time.Second, Rounds: 1,
		Rules: []netconfig.RuleSpec{{ID: "all", Consumer: "dso", Kind: netconfig.KindSum, Window: 1, Fraction: 1}}}
	c, keys, err := netconfig.Generate(spec, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	n, err := c.Resolve()
	if err != nil {
		t.Fatal(err)
	}
	srv, err := natsx.StartServer(natsx.ServerOptions{Dir: filepath.Join(dir, "nats")})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Shutdown()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	p, err := ppn.New(ppn.Config{ID: "ppn1", NATS: srv.ClientURL(), DataDir: filepath.Join(dir, "ppn1"), Net: n, Key: keys.PPNs[0], SkipStreams: true})
	if err != nil {
		t.Fatal(err)
	}
	err = p.Start(ctx)
	if err == nil || !strings.Contains(err.Error(), n.Config.Streams.Bundles) {
		t.Fatalf("start without streams: %v; want an error naming %s", err, n.Config.Streams.Bundles)
	}
}
