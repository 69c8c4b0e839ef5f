package cli

import (
	"context"
	"encoding/binary"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"text/tabwriter"

	"github.com/ppnet/ppnet/internal/fddm/fedavg"
	"github.com/ppnet/ppnet/internal/fddm/model"
)

type trainConfig struct {
	data    dataOptions
	rounds  int
	train   model.Train
	ppns, t int
	frac    uint
	clip    float64
	labels  model.Labels
	quiet   bool // no per-round table (eval)
}

func trainFlags(fs *flag.FlagSet, c *trainConfig) {
	fs.Uint64Var(&c.data.seed, "seed", 1, "population and share-randomness seed")
	fs.IntVar(&c.data.households, "households", 100, "number of households (producers)")
	fs.IntVar(&c.data.days, "days", 28, "days of training history, and of the billing period")
	fs.IntVar(&c.data.firstDay, "first-day", 0, "first day of the training history (day 0: Monday 5 January 2026)")
	fs.IntVar(&c.rounds, "rounds", 20, "FedAvg rounds")
	def := model.DefaultTrain()
	fs.IntVar(&c.train.Epochs, "epochs", def.Epochs, "local full-batch gradient steps per round (the central model takes as many per round)")
	fs.Float64Var(&c.train.Rate, "rate", def.Rate, "gradient step size")
	fs.Float64Var(&c.train.L2, "l2", def.L2, "L2 penalty on the non-bias weights")
	fs.IntVar(&c.ppns, "ppns", 5, "PPNs the updates are secret-shared over")
	fs.IntVar(&c.t, "t", 3, "threshold: PPN shares needed to recover a sum")
	fs.UintVar(&c.frac, "frac", 20, "fixed-point fractional bits of the encoded updates")
	fs.Float64Var(&c.clip, "clip", 16, "clip on every weight's magnitude before encoding")
	fs.Float64Var(&c.labels.LevelWh, "label-level", model.DefaultLabels().LevelWh, "meter label: Wh above the base load that counts as activity")
	fs.Float64Var(&c.labels.StepWh, "label-step", model.DefaultLabels().StepWh, "meter label: step in Wh between readings that counts as switching")
}

func (c *trainConfig) validate() error {
	if err := c.data.validate(); err != nil {
		return err
	}
	switch {
	case c.rounds < 1 || c.rounds > 10_000:
		return usageError{fmt.Sprintf("-rounds %d: use 1 to 10000", c.rounds)}
	case c.train.Epochs < 1 || c.train.Epochs > 1000:
		return usageError{fmt.Sprintf("-epochs %d: use 1 to 1000", c.train.Epochs)}
	case !(c.train.Rate > 0 && c.train.Rate <= 10):
		return usageError{fmt.Sprintf("-rate %g: use a step in (0, 10]", c.train.Rate)}
	case !(c.train.L2 >= 0 && c.train.L2 <= 10):
		return usageError{fmt.Sprintf("-l2 %g: use a penalty in [0, 10]", c.train.L2)}
	case c.ppns < 1 || c.ppns > 64 || c.t < 1 || c.t > c.ppns:
		return usageError{fmt.Sprintf("-ppns %d -t %d: use 1 ≤ t ≤ ppns ≤ 64", c.ppns, c.t)}
	case !(c.labels.LevelWh > 0) || !(c.labels.StepWh > 0):
		return usageError{fmt.Sprintf("-label-level %g -label-step %g: both must be positive", c.labels.LevelWh, c.labels.StepWh)}
	}
	return nil
}

func parseTrain(args []string, env *Env) (*trainConfig, error) {
	c := &trainConfig{}
	fs := flag.NewFlagSet("train", flag.ContinueOnError)
	trainFlags(fs, c)
	if err := parseFlags(fs, args, env); err != nil {
		return nil, err
	}
	return c, c.validate()
}

// trained is the outcome of training: the data and both models.
type trained struct {
	data             *dataset
	federated        model.Logistic
	central          model.Logistic
	fedAcc, cenAcc   accuracy
	selfLabelBalance float64 // share of training readings the meters label revealing
}

// accuracy of a model's p ≥ 0.5 against the ground truth of the period.
type accuracy struct {
	acc, balanced float64
}

func runTrain(ctx context.Context, c *trainConfig, out io.Writer) (*trained, error) {
	d, err := buildDataset(ctx, c.data)
	if err != nil {
		return nil, err
	}
	var locals []*fedavg.Local
	var allX, allY []float64
	var maxN uint64
	for h, md := range d.train {
		X, Y, err := md.features(d.interval, c.labels)
		if err != nil {
			return nil, err
		}
		locals = append(locals, &fedavg.Local{Producer: uint64(h), X: X, Y: Y, Train: c.train})
		allX, allY = append(allX, X...), append(allY, Y...)
		maxN = max(maxN, uint64(len(Y)))
	}
	codec, err := fedavg.NewCodec(fedavg.CodecOptions{Frac: c.frac, Clip: c.clip, MaxSamples: maxN, Producers: len(locals)})
	if err != nil {
		return nil, err
	}
	clients := make([]fedavg.Client, len(locals))
	for i, l := range locals {
		l.Codec = codec // each meter encodes its own update
		clients[i] = l
	}
	agg, err := fedavg.NewInProcess(c.ppns, c.t, shareRandomness(c.data.seed))
	if err != nil {
		return nil, err
	}
	coord := &fedavg.Coordinator{Codec: codec, Agg: agg}
	evX, evTruth, evLabels, err := periodEval(d, c.labels)
	if err != nil {
		return nil, err
	}
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	if !c.quiet {
		fmt.Fprintf(out, "fddm train: seed %d, %d households, %d days of history, %d rounds × %d local steps, shares over %d PPNs (t = %d), fixed point 2^-%d, clip %g\n",
			c.data.seed, c.data.households, c.data.days, c.rounds, c.train.Epochs, c.ppns, c.t, c.frac, c.clip)
		fmt.Fprintf(out, "accuracy of p ≥ 0.5 against ground truth (an occupant-driven appliance ran) on the %d following days, all households; \"on labels\": accuracy against the meters' own labels there\n", c.data.days)
		fmt.Fprintln(tw, "round\tfederated acc\tfederated bal.acc\tcentral acc\tcentral bal.acc\tfed. on labels\tcentral on labels\tmax |w_fed − w_central|\t")
	}
	t := &trained{data: d}
	for r := range c.rounds {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if t.federated, err = coord.Round(uint64(r), t.federated, clients, agg); err != nil {
			return nil, err
		}
		if err := t.central.Fit(allX, allY, c.train); err != nil {
			return nil, err
		}
		if !c.quiet || r == c.rounds-1 {
			t.fedAcc = evaluate(&t.federated, evX, evTruth)
			t.cenAcc = evaluate(&t.central, evX, evTruth)
		}
		if !c.quiet {
			fmt.Fprintf(tw, "%d\t%.4f\t%.4f\t%.4f\t%.4f\t%.4f\t%.4f\t%.2e\t\n", r+1, t.fedAcc.acc, t.fedAcc.balanced, t.cenAcc.acc, t.cenAcc.balanced,
				evaluateLabels(&t.federated, evX, evLabels), evaluateLabels(&t.central, evX, evLabels), distance(t.federated, t.central))
		}
	}
	var pos float64
	for _, y := range allY {
		pos += y
	}
	t.selfLabelBalance = pos / float64(len(allY))
	if !c.quiet {
		tw.Flush()
		la := labelAccuracy(evLabels, evTruth)
		fmt.Fprintf(out, "meter labels: %.1f%% of training readings revealing; on the period they agree with the ground truth (%.1f%% active) at acc %.4f, bal.acc %.4f\n",
			100*t.selfLabelBalance, 100*share(evTruth), la.acc, la.balanced)
		fmt.Fprintln(out, "federated weights:")
		for j, w := range t.federated.W {
			fmt.Fprintf(out, "  %-8s %+.4f (central %+.4f)\n", model.FeatureNames[j], w, t.central.W[j])
		}
	}
	return t, nil
}

// periodEval returns the feature rows of every meter's period, the ground
// truth (an occupant-driven appliance ran) and the meters' own labels.
func periodEval(d *dataset, labels model.Labels) (X []float64, truth []bool, own []float64, err error) {
	for _, md := range d.period {
		x, y, err := md.features(d.interval, labels)
		if err != nil {
			return nil, nil, nil, err
		}
		X = append(X, x...)
		own = append(own, y...)
		truth = append(truth, md.active...)
	}
	return X, truth, own, nil
}

// labelAccuracy is the agreement of the meters' own labels with the truth.
func labelAccuracy(own []float64, truth []bool) accuracy {
	var tp, tn, pos, neg float64
	for i, y := range truth {
		if y {
			pos++
			tp += own[i]
		} else {
			neg++
			tn += 1 - own[i]
		}
	}
	return accuracy{acc: (tp + tn) / (pos + neg), balanced: (tp/max(pos, 1) + tn/max(neg, 1)) / 2}
}

func evaluate(m *model.Logistic, X []float64, truth []bool) accuracy {
	var tp, tn, pos, neg float64
	for i, y := range truth {
		guess := m.Score(X[i*model.Dim:(i+1)*model.Dim]) >= 0.5
		if y {
			pos++
			if guess {
				tp++
			}
		} else {
			neg++
			if !guess {
				tn++
			}
		}
	}
	return accuracy{acc: (tp + tn) / (pos + neg), balanced: (tp/max(pos, 1) + tn/max(neg, 1)) / 2}
}

// evaluateLabels is the accuracy of p ≥ 0.5 against the meters' own labels.
func evaluateLabels(m *model.Logistic, X, labels []float64) float64 {
	var hit float64
	for i, y := range labels {
		if (m.Score(X[i*model.Dim:(i+1)*model.Dim]) >= 0.5) == (y == 1) {
			hit++
		}
	}
	return hit / float64(len(labels))
}

func distance(a, b model.Logistic) float64 {
	var s float64
	for j := range a.W {
		s = max(s, abs(a.W[j]-b.W[j]))
	}
	return s
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}

func share(b []bool) float64 {
	var n float64
	for _, x := range b {
		if x {
			n++
		}
	}
	return n / float64(len(b))
}

// shareRandomness is the share polynomials' coefficient source: a ChaCha8
// keyed from the seed, so a simulation is reproducible. A deployment draws
// shares from crypto/rand (or a ChaCha8 seeded from it); the recovered sums do
// not depend on the randomness at all.
func shareRandomness(seed uint64) *rand.ChaCha8 {
	var key [32]byte
	pcg := rand.NewPCG(seed, 0x66646d)
	for i := 0; i < len(key); i += 8 {
		binary.LittleEndian.PutUint64(key[i:], pcg.Uint64())
	}
	return rand.NewChaCha8(key)
}
