package devnet

import (
	"context"
	"crypto/ecdh"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/ppnet/ppnet/internal/billing"
	"github.com/ppnet/ppnet/internal/billing/bill"
	"github.com/ppnet/ppnet/internal/billing/web"
	"github.com/ppnet/ppnet/internal/billingd"
	"github.com/ppnet/ppnet/internal/fddm/bulletin"
	"github.com/ppnet/ppnet/internal/fddm/fedavg"
	"github.com/ppnet/ppnet/internal/fddm/fednet"
	"github.com/ppnet/ppnet/internal/fddm/mask"
	"github.com/ppnet/ppnet/internal/fddm/model"
	"github.com/ppnet/ppnet/internal/natsauth"
	"github.com/ppnet/ppnet/internal/natsx"
	"github.com/ppnet/ppnet/internal/netconfig"
	"github.com/ppnet/ppnet/internal/producer"
	"github.com/ppnet/ppnet/internal/seal"
	"github.com/ppnet/ppnet/sim/household"
)

// FDDM configures the devnet's federated dynamic data masking
// (docs/fddm.md): Participants FedAvg producers train the sensitivity
// model on their own household's history and average it through the
// network (fednet: 9 component meters each, 9 `sum` rules of consumer
// fedavg, carried by rounds First, First+Stride, …); after the billing
// month is closed, the meters' producers mask their stored history with
// the newest global model.
type FDDM struct {
	Participants int     // FedAvg producers f001… (default 8)
	Rounds       int     // FedAvg rounds (default 4)
	Stride       uint64  // data-plane rounds per FedAvg round (default ⌈(G + 500 ms)/D⌉: the model must be out before the next carrying round ends)
	TrainDays    int     // days of history each participant trains on (default 7)
	Threshold    float64 // mask scores above this (default 0.6)
	MaxShare     float64 // never mask more than this share of a meter's period (default 0.5)
	Strategy     string  // suppress (default), coarsen or generalise
	CoarsenWh    uint64  // coarsen step (default 100)
}

// FedAvgConsumer is the FedAvg coordinator's consumer id.
const FedAvgConsumer = "fedavg"

// fedavgFirst is the data-plane round carrying FedAvg round 0.
const fedavgFirst = 1

func (f *FDDM) defaults() {
	if f.Participants == 0 {
		f.Participants = 8
	}
	if f.Rounds == 0 {
		f.Rounds = 4
	}

	if f.TrainDays == 0 {
		f.TrainDays = 7
	}
	d := mask.DefaultPolicy()
	if f.Threshold == 0 {
		f.Threshold = d.Threshold
	}
	if f.MaxShare == 0 {
		f.MaxShare = d.MaxShare
	}
	if f.Strategy == "" {
		f.Strategy = d.Strategy.String()
	}
	if f.CoarsenWh == 0 {
		f.CoarsenWh = d.CoarsenWh
	}
}

// fit sets f's defaults for a run of o (defaults applied) and checks that
// the FedAvg rounds end before the run does.
func (f *FDDM) fit(o Options) error {
	f.defaults()
	if f.Stride == 0 {
		f.Stride = max(2, uint64((o.Grace+500*time.Millisecond+o.Round-1)/o.Round))
	}
	last := fedavgFirst + uint64(f.Rounds-1)*f.Stride
	if f.Rounds < 1 || last+1 >= o.Rounds {
		return fmt.Errorf("devnet: %d FedAvg rounds at stride %d need more than %d data-plane rounds; fix: fewer --fedavg-rounds or more --rounds", f.Rounds, f.Stride, last+1)
	}
	return nil
}

// policy is the masking policy of f.
func (f *FDDM) policy() (mask.Policy, error) {
	s, err := mask.ParseStrategy(f.Strategy)
	if err != nil {
		return mask.Policy{}, fmt.Errorf("devnet: --mask-strategy: %w", err)
	}
	p := mask.Policy{Strategy: s, Threshold: f.Threshold, MaxShare: f.MaxShare, CoarsenWh: f.CoarsenWh}
	if err := p.Validate(); err != nil {
		return p, fmt.Errorf("devnet: masking: %w", err)
	}
	return p, nil
}

// fedState is the FedAvg part of a running devnet.
type fedState struct {
	opts    FDDM
	codec   *fedavg.Codec
	ids     []string                 // participant producer ids
	clients map[string]*fedavg.Local // by producer id
	meters  []uint64                 // household of each participant (its meter index)
	coord   *fednet.Coordinator
	sources []*fednet.Source
	boards  []*bulletin.Models
	policy  mask.Policy
	profile []uint64                      // population mean per round of the day (generalise)
	maskers map[string]*producer.Producer // producers restarted with the masking job, by id
	// interval and start are the household model's clock: round τ's
	// reading covers [start + τ·interval, +interval).
	interval time.Duration
	start    time.Time
}

func (s *fedState) rounds() fednet.Rounds {
	return fednet.Rounds{First: fedavgFirst, Stride: s.opts.Stride, Count: uint64(s.opts.Rounds)}
}

func (s *fedState) participant(id string) bool { return s.clients[id] != nil }

// addFedAvg adds the FedAvg participants, the coordinator consumer and the
// component rules to d's generated configuration and keys, and builds each
// participant's local data: TrainDays of its household's readings from the
// household model (days after the run: the model has no days before the
// run's day 0), features and meter-computed labels (model.Labels).
func (d *Net) addFedAvg() error {
	f := *d.Opts.FDDM
	if err := f.fit(d.Opts); err != nil {
		return err
	}
	if f.Participants < 1 || f.Participants > d.Opts.Meters {
		return fmt.Errorf("devnet: %d FedAvg participants but only %d meters; fix: --fedavg-participants ≤ --meters", f.Participants, d.Opts.Meters)
	}
	pol, err := f.policy()
	if err != nil {
		return err
	}
	perDay := 96
	samples := f.TrainDays * perDay
	ids, codec, err := addFedAvgConfig(d.Cfg, d.Keys, f, d.Opts.W)
	if err != nil {
		return err
	}
	s := &fedState{opts: f, codec: codec, ids: ids, clients: map[string]*fedavg.Local{}, policy: pol, maskers: map[string]*producer.Producer{}}
	if d.Net, err = d.Cfg.Resolve(); err != nil {
		return fmt.Errorf("devnet: network with FedAvg: %w; fix: fewer --fedavg-participants or meters, or --fedavg-rounds 0", err)
	}

	pop, err := household.NewPopulation(nil, d.Opts.Seed)
	if err != nil {
		return fmt.Errorf("devnet: %v", err)
	}
	s.interval, s.start = pop.Interval(), pop.IntervalStart(0)
	firstDay := int64((d.Opts.Rounds + 95) / 96)
	for i, id := range s.ids {
		m := uint64(i) // the household of meter i (m00001…)
		wh := make([]uint64, 0, samples)
		for r := range pop.Meter(m).Readings(firstDay*int64(perDay), samples) {
			wh = append(wh, r.Wh)
		}
		local, err := fednet.NewLocal(uint64(i), model.Series{Wh: wh, Start: pop.IntervalStart(firstDay * int64(perDay)), Interval: pop.Interval()}, codec)
		if err != nil {
			return fmt.Errorf("devnet: participant %s: %w", id, err)
		}
		s.clients[id] = local
		s.meters = append(s.meters, m)
	}
	if pol.Strategy == mask.Generalise {
		s.profile = profile(pop, d.Opts.Meters, perDay)
	}
	d.fed = s
	return nil
}

// addFedAvgConfig adds f's participants f001… (keys in k), the
// coordinator consumer and the component rules over the first w PPNs to c,
// and raises c's max_reading to the codec's largest component. It returns
// the participants' ids and the codec (TrainDays·96 samples at most).
func addFedAvgConfig(c *netconfig.Config, k *netconfig.Keys, f FDDM, w int) ([]string, *fedavg.Codec, error) {
	codec, err := fedavg.NewCodec(fedavg.CodecOptions{MaxSamples: uint64(f.TrainDays * 96), Producers: f.Participants})
	if err != nil {
		return nil, nil, fmt.Errorf("devnet: fedavg: %w", err)
	}
	newKey := func() (string, *ecdh.PrivateKey, error) {
		k, err := seal.GenerateKey(rand.Reader)
		if err != nil {
			return "", nil, err
		}
		return seal.EncodeKey(k.PublicKey().Bytes()), k, nil
	}
	pub, key, err := newKey()
	if err != nil {
		return nil, nil, err
	}
	c.Consumers = append(c.Consumers, netconfig.Consumer{ID: FedAvgConsumer, PublicKey: pub})
	k.Consumers = append(k.Consumers, key)
	var ids []string
	for i := range f.Participants {
		id := fmt.Sprintf("f%03d", i+1)
		ids = append(ids, id)
		pub, key, err := newKey()
		if err != nil {
			return nil, nil, err
		}
		c.Producers = append(c.Producers, netconfig.Producer{ID: id, PublicKey: pub})
		k.Producers = append(k.Producers, key)
	}
	var ppns []string
	for _, p := range c.PPNs[:w] {
		ppns = append(ppns, p.ID)
	}
	fednet.AddRules(c, ids, codec.Len(model.Dim), FedAvgConsumer, "fedavg", ppns)
	c.MaxReading = max(c.MaxReading, codec.MaxComponent())
	return ids, codec, nil
}

// profile is the population's mean reading per round of the day over the
// run's first day: the aggregate that generalising substitutes.
func profile(pop *household.Population, meters, perDay int) []uint64 {
	n := min(meters, 200)
	sum := make([]uint64, perDay)
	for m := range n {
		k := 0
		for r := range pop.Meter(uint64(m)).Readings(0, perDay) {
			sum[k] += r.Wh
			k++
		}
	}
	for k := range sum {
		sum[k] /= uint64(n)
	}
	return sum
}

// conn returns a connection for identity i that the devnet owns: as that
// NATS user on a secured server, else anonymous. It is closed by Close.
func (d *Net) conn(i natsauth.Identity) (*nats.Conn, error) {
	var opts []nats.Option
	if d.auth != nil {
		o, err := d.auth.Client(i, nil)
		if err != nil {
			return nil, err
		}
		opts = append(o, natsauth.LogErrors(d.Opts.Logger, i))
	}
	nc, err := natsx.Connect(d.URL, "devnet-fddm-"+string(i.Role)+"-"+i.ID, d.Opts.Logger, opts...)
	if err != nil {
		return nil, err
	}
	d.mu.Lock()
	d.extra = append(d.extra, nc)
	d.mu.Unlock()
	return nc, nil
}

// bulletin binds the FDDM bulletin bucket as identity i.
func (d *Net) bulletin(ctx context.Context, i natsauth.Identity) (jetstream.KeyValue, error) {
	nc, err := d.conn(i)
	if err != nil {
		return nil, err
	}
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, fmt.Errorf("devnet: %v", err)
	}
	bctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	kv, err := js.KeyValue(bctx, bulletin.Bucket)
	if err != nil {
		return nil, fmt.Errorf("devnet: %s binding bucket %s: %v", i, bulletin.Bucket, err)
	}
	return kv, nil
}

// declareBulletin creates the FDDM bulletin bucket as the admin (or
// anonymously on an open server).
func (d *Net) declareBulletin(ctx context.Context) error {
	nc, err := d.conn(adminID)
	if err != nil {
		return err
	}
	js, err := jetstream.New(nc)
	if err != nil {
		return fmt.Errorf("devnet: %v", err)
	}
	bctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	_, err = bulletin.OpenBucket(bctx, js, "", 1)
	return err
}

// coordinatorOut returns the FedAvg coordinator, writing models to the
// bucket on the fedavg consumer's own NATS user.
func (d *Net) coordinatorOut(ctx context.Context) (io.Writer, error) {
	kv, err := d.bulletin(ctx, natsauth.Identity{Role: natsauth.RoleConsumer, ID: FedAvgConsumer})
	if err != nil {
		return nil, err
	}
	c, err := fednet.NewCoordinator(fednet.CoordinatorConfig{Net: d.Net, Codec: d.fed.codec, KV: kv, Rounds: d.fed.rounds(), Logger: d.Opts.Logger})
	if err != nil {
		return nil, err
	}
	d.fed.coord = c
	return c, nil
}

// fedSource is participant id's producer source: its encoded update in
// the rounds carrying FedAvg rounds, no reading otherwise.
func (d *Net) fedSource(ctx context.Context, id string) (*fednet.Source, error) {
	kv, err := d.bulletin(ctx, natsauth.Identity{Role: natsauth.RoleProducer, ID: id})
	if err != nil {
		return nil, err
	}
	board, err := bulletin.WatchModels(ctx, kv)
	if err != nil {
		return nil, err
	}
	d.fed.boards = append(d.fed.boards, board)
	src, err := fednet.NewSource(fednet.SourceConfig{Net: d.Net, Producer: id, Client: d.fed.clients[id], Models: board, Rounds: d.fed.rounds()})
	if err != nil {
		return nil, err
	}
	d.fed.sources = append(d.fed.sources, src)
	return src, nil
}

func (s *fedState) close() {
	if s == nil {
		return
	}
	for _, src := range s.sources {
		src.Close()
	}
	for _, b := range s.boards {
		b.Close()
	}
	s.sources, s.boards = nil, nil
}

// FedRound is one FedAvg round as the devnet reports it.
type FedRound struct {
	Round        uint64    `json:"round"`
	Contributors int       `json:"contributors"`
	Samples      uint64    `json:"samples"`
	Carried      bool      `json:"carried,omitempty"`
	LatencyMs    int64     `json:"latency_ms"` // carrying round's deadline → model in the bucket
	Accuracy     float64   `json:"accuracy"`   // against the participants' own labels, on their training data
	Weights      []float64 `json:"weights"`
}

// fedRounds waits for every FedAvg round's model and scores each.
func (d *Net) fedRounds(ctx context.Context) ([]FedRound, error) {
	s := d.fed
	rs, err := s.coord.WaitRounds(ctx, s.opts.Rounds)
	if err != nil {
		return nil, err
	}
	var X, Y []float64
	for _, id := range s.ids {
		X, Y = append(X, s.clients[id].X...), append(Y, s.clients[id].Y...)
	}
	var out []FedRound
	for _, r := range rs {
		m := r.Model
		sc := m.Scores(nil, X)
		right := 0
		for i, p := range sc {
			if (p >= 0.5) == (Y[i] >= 0.5) {
				right++
			}
		}
		out = append(out, FedRound{Round: r.Round, Contributors: r.Contributors, Samples: r.Samples, Carried: r.Carried,
			LatencyMs: r.Latency.Milliseconds(), Accuracy: float64(right) / float64(max(1, len(sc))), Weights: slices.Clone(m.W[:])})
	}
	if len(out) == 0 {
		return nil, errors.New("devnet: no FedAvg round published")
	}
	return out, nil
}

// heldCloser receives the billing daemon's period closes and holds them:
// the devnet first checks every result and bill against the meters' exact
// history, then publishes the close itself (as the utility's NATS user,
// which the server lets put period.* only).
type heldCloser struct{ ch chan bulletin.PeriodClose }

func (h heldCloser) ClosePeriod(_ context.Context, pc bulletin.PeriodClose) error {
	select {
	case h.ch <- pc:
	default: // a re-issue of a period already held
	}
	return nil
}

// billKey is what must not change about a bill after masking.
type billKey struct {
	ID                          string
	Status                      string
	MeasuredWh, BilledWh, Paise int64
	Covered, Missing            uint64
	IssuedAt                    time.Time
}

func billSnapshot(svc *billing.Service, period string) (map[string]billKey, error) {
	cs, err := svc.Customers().List()
	if err != nil {
		return nil, err
	}
	out := map[string]billKey{}
	for _, c := range cs {
		b, err := svc.Bills().Latest(c.ID, period)
		if err != nil {
			return nil, err
		}
		k := billKey{ID: b.ID(), Status: b.Status, MeasuredWh: b.MeasuredWh, BilledWh: b.BilledWh, Paise: b.TotalPaise, IssuedAt: b.IssuedAt}
		for _, s := range b.Sources {
			k.Covered += uint64(s.RoundsCovered)
			k.Missing += uint64(s.RoundsMissing)
		}
		out[c.MeterID] = k
	}
	return out, nil
}

// MaskReport is the FDDM part of a run.
type MaskReport struct {
	Rounds       []FedRound     `json:"fedavg_rounds"`
	Period       string         `json:"period"`
	Readings     int            `json:"readings"`      // stored readings of the period, all meters
	Masked       map[string]int `json:"masked"`        // by mask kind
	BillsChecked int            `json:"bills_checked"` // bills compared before and after masking
	BillsChanged int            `json:"bills_changed"`
	// HistoryDiffers counts billed meters whose masked history no longer
	// sums to the billed energy: the bill could not be recomputed from it.
	HistoryDiffers int `json:"history_differs"`
}

// MaskedShare is the share of the period's readings masked.
func (m *MaskReport) MaskedShare() float64 {
	n := 0
	for _, v := range m.Masked {
		n += v
	}
	return float64(n) / float64(max(1, m.Readings))
}

// maskAfterClose is the FDDM phase after the billing month: it restarts
// the meters' producers on their stored history with the masking job,
// publishes the held period close, waits until every producer has masked
// the period, and checks that no bill changed.
func (d *Net) maskAfterClose(ctx context.Context, bd *billingd.Daemon, period string, held heldCloser) (*MaskReport, error) {
	fr, err := d.fedRounds(ctx)
	if err != nil {
		return nil, err
	}
	rep := &MaskReport{Rounds: fr, Period: period, Masked: map[string]int{}}
	svc := bd.Service()
	before, err := billSnapshot(svc, period)
	if err != nil {
		return nil, err
	}
	var pc bulletin.PeriodClose
	select {
	case pc = <-held.ch:
	case <-ctx.Done():
		return nil, fmt.Errorf("devnet: billing never closed period %s: %w", period, ctx.Err())
	}
	if err := d.startMaskingProducers(ctx); err != nil {
		return nil, err
	}
	kv, err := d.bulletin(ctx, natsauth.Identity{Role: natsauth.RoleConsumer, ID: "utility"})
	if err != nil {
		return nil, err
	}
	if err := (billingd.KVCloser{KV: kv}).ClosePeriod(ctx, pc); err != nil {
		return nil, err
	}
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for _, p := range d.producers {
		for p.MaskingRuns() < 1 {
			select {
			case <-ctx.Done():
				return nil, fmt.Errorf("devnet: period %s not masked: %w", period, ctx.Err())
			case <-tick.C:
			}
		}
	}
	sums := map[string]int64{}
	for _, meter := range d.maskedMeters() {
		h, err := d.History(ctx, meter, pc.FirstRound, pc.LastRound)
		if err != nil {
			return nil, err
		}
		for _, r := range h.Readings {
			rep.Readings++
			if r.Masked {
				rep.Masked[r.Mask]++
			}
			if r.Wh != nil {
				sums[meter] += *r.Wh
			}
		}
	}
	after, err := billSnapshot(svc, period)
	if err != nil {
		return nil, err
	}
	for m, b := range before {
		rep.BillsChecked++
		if after[m] != b {
			rep.BillsChanged++
		}
		if b.Status != bill.StatusHeld && sums[m] != b.MeasuredWh {
			rep.HistoryDiffers++
		}
	}
	return rep, nil
}

// maskedMeters are the meters whose producers mask: every meter but the
// FedAvg components.
func (d *Net) maskedMeters() []string {
	var out []string
	for i, p := range d.Cfg.Producers {
		if d.fed.participant(p.ID) {
			continue
		}
		for _, m := range d.Net.ProducerMeters[i] {
			out = append(out, d.Net.Meters[m])
		}
	}
	return out
}

// startMaskingProducers starts the meters' producers again, on their
// stored history, with the masking job: every round is delivered, so they
// only watch the bulletin board, mask and serve /history.
func (d *Net) startMaskingProducers(ctx context.Context) error {
	o := d.Opts
	for i, p := range d.Cfg.Producers {
		if d.fed.participant(p.ID) {
			continue
		}
		src, err := producer.NewHouseholdSource(nil, o.Seed)
		if err != nil {
			return err
		}
		nc, err := d.dial(natsauth.Identity{Role: natsauth.RoleProducer, ID: p.ID})
		if err != nil {
			return err
		}
		pr, err := producer.New(producer.Config{ID: p.ID, NATS: d.URL, DataDir: filepath.Join(d.dir, "producer-"+p.ID), From: 0,
			Net: d.Net, Key: d.Keys.Producers[i], Source: src, Logger: o.Logger, Conn: nc, SkipStreams: nc != nil,
			Masking: &producer.Masking{Policy: d.fed.policy, Profile: d.fed.profile, Interval: d.fed.interval, Start: d.fed.start}})
		if err != nil {
			return err
		}
		if err := pr.Start(ctx); err != nil {
			return err
		}
		d.mu.Lock()
		d.producers = append(d.producers, pr)
		d.fed.maskers[p.ID] = pr
		d.mu.Unlock()
	}
	return nil
}

// History returns a meter's stored history as its running producer serves
// it at /history (in process).
func (d *Net) History(ctx context.Context, meter string, from, to uint64) (*producer.HistoryResponse, error) {
	m, err := d.Net.MeterIndex(meter)
	if err != nil {
		return nil, err
	}
	id := d.Cfg.Producers[d.Net.MeterProducer[m]].ID
	d.mu.Lock()
	pr := d.fed.maskers[id]
	d.mu.Unlock()
	if pr == nil {
		return nil, fmt.Errorf("devnet: producer %s of meter %s is not running", id, meter)
	}
	req := httptest.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("/history?meter=%s&from=%d&to=%d", url.QueryEscape(meter), from, to), nil)
	rec := httptest.NewRecorder()
	pr.HistoryHandler().ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		return nil, fmt.Errorf("devnet: history of %s: %s", meter, strings.TrimSpace(rec.Body.String()))
	}
	var h producer.HistoryResponse
	if err := json.Unmarshal(rec.Body.Bytes(), &h); err != nil {
		return nil, fmt.Errorf("devnet: history of %s: %v", meter, err)
	}
	return &h, nil
}

// printFDDM writes the FDDM section and leaves its files in dir.
func (rep *MaskReport) print(w io.Writer, policy mask.Policy, participants int) {
	fmt.Fprintf(w, "\nFDDM: %d FedAvg rounds through the network (%d participants, 9 component sum rules of consumer %s; the coordinator sees only sums)\n",
		len(rep.Rounds), participants, FedAvgConsumer)
	for _, r := range rep.Rounds {
		fmt.Fprintf(w, "  round %d: %d contributions, %d samples, accuracy on the meters' own labels %.3f, model in the bucket %d ms after the round's deadline\n",
			r.Round, r.Contributors, r.Samples, r.Accuracy, r.LatencyMs)
	}
	fmt.Fprintf(w, "FDDM masking after the close of %s (%s, threshold %.2f, at most %.0f%% per meter): %d of %d readings masked (%.1f%%) %v\n",
		rep.Period, policy.Strategy, policy.Threshold, 100*policy.MaxShare, rep.Readings-rep.unmasked(), rep.Readings, 100*rep.MaskedShare(), rep.Masked)
	fmt.Fprintf(w, "FDDM bills after masking: %d of %d unchanged (computed from exact aggregates before the close); %d masked histories no longer sum to their bill\n",
		rep.BillsChecked-rep.BillsChanged, rep.BillsChecked, rep.HistoryDiffers)
}

func (rep *MaskReport) unmasked() int {
	n := rep.Readings
	for _, v := range rep.Masked {
		n -= v
	}
	return n
}

// runMasking runs the FDDM phase after the billing report, prints it and
// leaves fddm/ beside the billing output: fddm-model.json (every FedAvg
// round, the global model masking used) and masked-history-<meter>.json
// (the first billed meter's history as its producer serves it).
func (d *Net) runMasking(ctx context.Context, bd *billingd.Daemon, b BillingOptions, rep *Report, held heldCloser, w io.Writer) error {
	mctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	mr, err := d.maskAfterClose(mctx, bd, b.Period, held)
	if err != nil {
		return err
	}
	rep.FDDM = mr
	mr.print(w, d.fed.policy, len(d.fed.ids))
	dir := filepath.Join(b.Dir, "fddm")
	if d.Opts.Out != "" {
		dir = filepath.Join(d.Opts.Out, "fddm")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("devnet: %v", err)
	}
	last := mr.Rounds[len(mr.Rounds)-1]
	doc := struct {
		Model   []float64   `json:"model"`
		Round   uint64      `json:"round"`
		Policy  string      `json:"policy"`
		Rounds  []FedRound  `json:"rounds"`
		Masking *MaskReport `json:"masking"`
	}{last.Weights, last.Round, fmt.Sprintf("%s threshold %.2f max share %.2f", d.fed.policy.Strategy, d.fed.policy.Threshold, d.fed.policy.MaxShare), mr.Rounds, mr}
	if err := writeJSON(filepath.Join(dir, "fddm-model.json"), doc); err != nil {
		return err
	}
	meter := d.Net.Meters[0]
	h, err := d.History(mctx, meter, 0, d.Opts.Rounds-1)
	if err != nil {
		return err
	}
	if err := writeJSON(filepath.Join(dir, "masked-history-"+meter+".json"), h); err != nil {
		return err
	}
	fmt.Fprintf(w, "FDDM output: %s (fddm-model.json, masked-history-%s.json)\n", dir, meter)
	if mr.BillsChanged > 0 {
		return fmt.Errorf("devnet: %d bills changed after masking", mr.BillsChanged)
	}
	return nil
}

func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("devnet: %v", err)
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("devnet: %v", err)
	}
	return nil
}

// webHistory is the billing UI's history source in the devnet: the
// meter's producer's /history, in process (available once the producers
// run the masking job, after the billing close).
func (d *Net) webHistory(ctx context.Context, meter string) (*web.History, error) {
	h, err := d.History(ctx, meter, 0, d.Opts.Rounds-1)
	if err != nil {
		return nil, err
	}
	out := &web.History{Meter: h.Meter, From: h.From, To: h.To}
	for _, r := range h.Readings {
		out.Readings = append(out.Readings, web.HistoryReading{Round: r.Round, Start: r.Start, Wh: r.Wh, Masked: r.Masked, Mask: r.Mask})
	}
	return out, nil
}
