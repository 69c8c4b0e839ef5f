package cli

import (
	"context"
	"io"
	"math"
	"os"
	"strconv"
	"testing"

	"github.com/ppnet/ppnet/internal/fddm/model"
)

// TestFederatedConvergesToCentral trains 20 households' models by FedAvg
// through Shamir shares for 20 rounds and checks that the federated model's
// accuracy on the meters' own labels of the following week comes within
// 0.03 of the central model trained on the pooled data, and that both learn
// (above the majority-class rate of the labels).
func TestFederatedConvergesToCentral(t *testing.T) {
	seed := uint64(1)
	if v := os.Getenv("FDDM_TEST_SEED"); v != "" {
		s, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			t.Fatalf("FDDM_TEST_SEED=%q: want an unsigned integer", v)
		}
		seed = s
	}
	t.Logf("seed %d (set FDDM_TEST_SEED to change)", seed)
	c := &trainConfig{data: dataOptions{seed: seed, households: 20, days: 7}, rounds: 20, train: model.DefaultTrain(),
		ppns: 5, t: 3, frac: 20, clip: 16, labels: model.DefaultLabels(), quiet: true}
	tr, err := runTrain(context.Background(), c, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	evX, _, evLabels, err := periodEval(tr.data, c.labels)
	if err != nil {
		t.Fatal(err)
	}
	fed, cen := evaluateLabels(&tr.federated, evX, evLabels), evaluateLabels(&tr.central, evX, evLabels)
	pos := 0.0
	for _, y := range evLabels {
		pos += y
	}
	majority := math.Max(pos, float64(len(evLabels))-pos) / float64(len(evLabels))
	t.Logf("on labels after %d rounds: federated %.4f, central %.4f, majority class %.4f", c.rounds, fed, cen, majority)
	if math.Abs(fed-cen) > 0.03 {
		t.Errorf("federated %.4f and central %.4f differ by more than 0.03", fed, cen)
	}
	if fed <= majority || cen <= majority {
		t.Errorf("models at %.4f and %.4f do not beat the majority class %.4f; the comparison is vacuous", fed, cen, majority)
	}
}
