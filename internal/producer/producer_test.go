package producer

import (
	"crypto/cipher"
	"crypto/rand"
	"encoding/binary"
	"errors"
	mrand "math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	bolt "go.etcd.io/bbolt"

	"github.com/ppnet/ppnet/internal/netconfig"
	"github.com/ppnet/ppnet/internal/seal"
	"github.com/ppnet/ppnet/internal/wire"
	"github.com/ppnet/ppnet/sharing"
	"github.com/ppnet/ppnet/sim/meterdata"
)

// testSeed returns the seed of randomized tests: PPNET_TEST_SEED if set,
// else a fixed default. It is logged so a failure can be replayed.
func testSeed(t *testing.T) uint64 {
	t.Helper()
	seed := uint64(20260105)
	if s := os.Getenv("PPNET_TEST_SEED"); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("PPNET_TEST_SEED=%q: %v", s, err)
		}
		seed = v
	}
	t.Logf("seed %d (set PPNET_TEST_SEED to replay)", seed)
	return seed
}

func testNetwork(t *testing.T) (*netconfig.Network, *netconfig.Keys) {
	t.Helper()
	spec := netconfig.Spec{PPNs: 5, Threshold: 3, W: 5, Meters: 1, Producers: 1,
		Start: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), Round: time.Minute, Rounds: 0,
		Rules: []netconfig.RuleSpec{{ID: "r", Consumer: "c", Kind: netconfig.KindSum, Window: 1, Fraction: 1}}}
	c, keys, err := netconfig.Generate(spec, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	n, err := c.Resolve()
	if err != nil {
		t.Fatal(err)
	}
	return n, keys
}

// TestTMinus1PartsIndependentOfReading builds real bundles for a meter
// whose reading is 0 in one run and the largest allowed value in another,
// opens the parts of t−1 = 2 PPNs with their keys, and checks with a
// chi-square test that the joint distribution of their shares (top 3 bits
// of each, 64 cells) is uniform in both runs and the same across them.
func TestTMinus1PartsIndependentOfReading(t *testing.T) {
	seed := testSeed(t)
	n, keys := testNetwork(t)
	const rounds = 6400 // 100 per cell
	hist := func(reading int64, stream uint64) []float64 {
		ring := seal.NewKeyring(keys.Producers[0], n.Config.Epoch)
		for i, k := range n.PPNKeys {
			ring.AddPeer(seal.PurposePart, i, k)
		}
		b, err := newBuilder(n, 0, ring, mrand.NewChaCha8(seedBytes(seed, stream)))
		if err != nil {
			t.Fatal(err)
		}
		var opens [2]cipher.AEAD // PPN 0 and 1 ends of their keys with the producer
		for j := range opens {
			r := seal.NewKeyring(keys.PPNs[j], n.Config.Epoch)
			r.AddPeer(seal.PurposePart, 0, n.ProducerKeys[0])
			if opens[j], err = r.AEAD(seal.PurposePart, 0); err != nil {
				t.Fatal(err)
			}
		}
		cells := make([]float64, 64)
		for r := uint64(0); r < rounds; r++ {
			msgs, _, err := b.build(r, []uint32{0}, []int64{reading})
			if err != nil {
				t.Fatal(err)
			}
			bd, err := wire.DecodeBundle(msgs[0])
			if err != nil {
				t.Fatal(err)
			}
			var top [2]uint64
			for j := 0; j < 2; j++ { // PPNs 0 and 1
				v := openShare(t, opens[j], bd, j)
				top[j] = v >> 58
			}
			cells[top[0]*8+top[1]]++
		}
		return cells
	}
	zero := hist(0, 1)
	big := hist(int64(n.Config.MaxReading), 2)
	// χ² critical value for 63 degrees of freedom at α = 0.001.
	const crit = 103.4
	for name, cells := range map[string][]float64{"reading 0": zero, "reading max": big} {
		var chi float64
		for _, c := range cells {
			chi += (c - rounds/64.0) * (c - rounds/64.0) / (rounds / 64.0)
		}
		if chi > crit {
			t.Errorf("%s: χ² = %.1f > %.1f: the t−1 shares are not uniform", name, chi, crit)
		}
		t.Logf("%s: χ² = %.1f against uniform (critical %.1f)", name, chi, crit)
	}
	var chi float64 // two-sample χ² with equal sizes
	for i := range zero {
		if s := zero[i] + big[i]; s > 0 {
			chi += (zero[i] - big[i]) * (zero[i] - big[i]) / s
		}
	}
	if chi > crit {
		t.Errorf("two-sample χ² = %.1f > %.1f: the t−1 shares depend on the reading", chi, crit)
	}
	t.Logf("reading 0 vs max: two-sample χ² = %.1f (critical %.1f)", chi, crit)
}

func seedBytes(seed, stream uint64) [32]byte {
	var k [32]byte
	binary.LittleEndian.PutUint64(k[:], seed)
	binary.LittleEndian.PutUint64(k[8:], stream)
	return k
}

func openShare(t *testing.T, aead cipher.AEAD, b wire.Bundle, ppn int) uint64 {
	t.Helper()
	p, err := seal.Open(aead, nil, seal.PartNonce(b.Epoch, b.Round, b.Chunk), b.Parts[ppn].Sealed, wire.PartAAD(nil, b.Header, uint16(ppn)))
	if err != nil {
		t.Fatalf("part for PPN %d: %v", ppn, err)
	}
	es := make([]sharing.Element, 1)
	if err := wire.DecodeElements(es, p); err != nil {
		t.Fatal(err)
	}
	return es[0].Uint64()
}

// TestBuildRecovers checks the bundles a producer builds: every PPN's part
// opens, and any t of them recover each meter's reading; a concentrator's
// meters are split into chunks with distinct nonces.
func TestBuildRecovers(t *testing.T) {
	spec := netconfig.Spec{PPNs: 4, Threshold: 3, W: 3, Meters: 10, Producers: 1, Chunk: 4,
		Start: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), Round: time.Minute,
		Rules: []netconfig.RuleSpec{
			{ID: "a", Consumer: "c", Kind: netconfig.KindSum, Window: 1, Fraction: 0.5},
			{ID: "b", Consumer: "c", Kind: netconfig.KindSum, Window: 1, Fraction: 1},
		}}
	c, keys, err := netconfig.Generate(spec, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	n, err := c.Resolve()
	if err != nil {
		t.Fatal(err)
	}
	ring := seal.NewKeyring(keys.Producers[0], n.Config.Epoch)
	for i, k := range n.PPNKeys {
		ring.AddPeer(seal.PurposePart, i, k)
	}
	b, err := newBuilder(n, 0, ring, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	meters := n.ProducerMeters[0]
	wh := []int64{0, 1, -5, 1000, 7, 8, 9, 10, 11, 12}
	msgs, sealed, err := b.build(3, meters, wh)
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 3 {
		t.Fatalf("%d chunks, want 3 for 10 meters in chunks of 4", len(msgs))
	}
	// Meters 0–4 serve rules a (PPNs 0,1,2) and b (PPNs 1,2,3): 4 PPNs;
	// meters 5–9 only b: 3 PPNs.
	if sealed != 5*4+5*3 {
		t.Fatalf("%d shares sealed, want 35", sealed)
	}
	var comb sharing.Combiner
	for c, msg := range msgs {
		bd, err := wire.DecodeBundle(msg)
		if err != nil {
			t.Fatal(err)
		}
		if int(bd.Chunk) != c {
			t.Fatalf("chunk %d labelled %d", c, bd.Chunk)
		}
		got := map[uint32][]sharing.Share{}
		for _, part := range bd.Parts {
			ring := seal.NewKeyring(keys.PPNs[part.PPN], 1)
			ring.AddPeer(seal.PurposePart, 0, n.ProducerKeys[0])
			aead, _ := ring.AEAD(seal.PurposePart, 0)
			p, err := seal.Open(aead, nil, seal.PartNonce(1, 3, bd.Chunk), part.Sealed, wire.PartAAD(nil, bd.Header, part.PPN))
			if err != nil {
				t.Fatalf("chunk %d PPN %d: %v", c, part.PPN, err)
			}
			k := 0
			for _, m := range bd.Meters {
				if n.MeterPPNs[m]&(1<<part.PPN) == 0 {
					continue
				}
				e, _ := sharing.ElementFromCanonical(binary.BigEndian.Uint64(p[8*k:]))
				got[m] = append(got[m], sharing.Share{X: n.X[part.PPN], Y: e})
				k++
			}
		}
		for _, m := range bd.Meters {
			v, err := comb.Recover(got[m], 3)
			if err != nil {
				t.Fatal(err)
			}
			if v.Int64() != wh[m] {
				t.Errorf("meter %d recovered %d, want %d", m, v.Int64(), wh[m])
			}
		}
	}
}

type fixedSource []int64

func (s fixedSource) Read(_ uint64, ids []uint64, dst []int64) error {
	for i, id := range ids {
		dst[i] = s[id]
	}
	return nil
}

// TestProduceStoresBeforeSending runs one round without NATS: readings and
// the encoded bundle are committed together, a reading beyond max_reading
// is left out of the bundle (and counted), and the readings CSV is written.
func TestProduceStoresBeforeSending(t *testing.T) {
	spec := netconfig.Spec{PPNs: 3, Threshold: 2, W: 3, Meters: 3, Producers: 1,
		Start: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), Round: time.Minute,
		Rules: []netconfig.RuleSpec{{ID: "r", Consumer: "c", Kind: netconfig.KindSum, Window: 1, Fraction: 1}}}
	c, keys, err := netconfig.Generate(spec, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	n, err := c.Resolve()
	if err != nil {
		t.Fatal(err)
	}
	var csv strings.Builder
	dir := t.TempDir()
	p, err := New(Config{ID: "c1", DataDir: dir, Net: n, Key: keys.Producers[0], Readings: &csv,
		Source: fixedSource{5, int64(n.Config.MaxReading) + 1, -7}})
	if err != nil {
		t.Fatal(err)
	}
	if p.db, err = openStore(filepath.Join(dir, "p.db")); err != nil {
		t.Fatal(err)
	}
	if err := p.produce(4); err != nil {
		t.Fatal(err)
	}
	if got := testutil.ToFloat64(p.m.rejected); got != 1 {
		t.Fatalf("rejected readings %v, want 1", got)
	}
	var bundles [][]byte
	err = p.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketOutbox).ForEach(func(_, v []byte) error {
			bundles = append(bundles, v)
			return nil
		})
	})
	if err != nil || len(bundles) != 1 {
		t.Fatalf("outbox holds %d bundles (%v), want 1", len(bundles), err)
	}
	bd, err := wire.DecodeBundle(bundles[0])
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(bd.Meters, []uint32{0, 2}) || bd.Round != 4 {
		t.Fatalf("bundle meters %v round %d; want [0 2] and 4", bd.Meters, bd.Round)
	}
	// A meter without a reading is left out of the round entirely.
	p.cfg.Source = fixedSource{6, NoReading, 8}
	if err := p.produce(5); err != nil {
		t.Fatal(err)
	}
	var round5 wire.Bundle
	err = p.db.View(func(tx *bolt.Tx) error {
		round5, err = wire.DecodeBundle(tx.Bucket(bucketOutbox).Get(outKey(5, 0)))
		return err
	})
	if err != nil || !slices.Equal(round5.Meters, []uint32{0, 2}) {
		t.Fatalf("round 5 bundle meters %v (%v); want [0 2]", round5.Meters, err)
	}
	p.db.Close()
	h, err := OpenHistory(filepath.Join(dir, "p.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	if v, err := h.Reading(2, 4); err != nil || v != -7 {
		t.Fatalf("history of meter 2 round 4: %d, %v", v, err)
	}
	if _, err := h.Reading(2, 6); !errors.Is(err, ErrNoReading) {
		t.Fatalf("reading never taken: %v", err)
	}
	if _, err := h.Reading(1, 5); !errors.Is(err, ErrNoReading) {
		t.Fatalf("meter without a reading has history: %v", err)
	}
	want := "m00001,4,5\nm00002,4,10000001\nm00003,4,-7\nm00001,5,6\nm00003,5,8\n"
	if csv.String() != want {
		t.Fatalf("readings CSV %q, want %q", csv.String(), want)
	}
}

// TestCSVSource replays a meterdata CSV: rows map to rounds by their start,
// a meter without a row for a round is left out of that round, and
// malformed files are refused with the reason.
func TestCSVSource(t *testing.T) {
	dir := t.TempDir()
	t0 := time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)
	path := filepath.Join(dir, "r.csv")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := meterdata.NewWriter(f, false)
	for _, r := range []meterdata.Record{
		{Meter: "m00001", Start: t0, Wh: 11}, {Meter: "m00002", Start: t0, Wh: 21},
		{Meter: "m00001", Start: t0.Add(15 * time.Minute), Wh: 12}, // m00002 has no round 1
		{Meter: "m00003", Start: t0.Add(30 * time.Minute), Wh: -3},
		{Meter: "stranger", Start: t0, Wh: 99},
	} {
		if err := w.Write(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	s, err := LoadCSVSource(path, []string{"m00001", "m00002", "m00003"}, time.Time{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	got := make([]int64, 3)
	want := [][]int64{{11, 21, NoReading}, {12, NoReading, NoReading}, {NoReading, NoReading, -3}}
	for round, w := range want {
		if err := s.Read(uint64(round), []uint64{0, 1, 2}, got); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, w) {
			t.Errorf("round %d: %v, want %v", round, got, w)
		}
	}
	bad := filepath.Join(dir, "bad.csv")
	for _, tc := range []struct{ body, want string }{
		{"meter,start,wh\nm00001,2026-01-05T00:00:00Z,1\nm00001,2026-01-05T00:00:00Z,2\n", "two rows"},
		{"meter,start,wh\nm00001,2026-01-05T00:00:00Z,1\nm00001,2026-01-05T00:07:00Z,2\n", "whole number"},
		{"meter,when,wh\n", "header"},
	} {
		if err := os.WriteFile(bad, []byte(tc.body), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := LoadCSVSource(bad, []string{"m00001"}, time.Time{}, 0); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: error %v, want one mentioning %q", tc.body, err, tc.want)
		}
	}
}
