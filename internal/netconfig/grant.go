package netconfig

import (
	"fmt"
	"slices"
)

// Grant is a consumer's grant as the configurator's registry holds it
// (internal/policy): the rule kinds it may ask for, the shortest stretch
// of rounds and the fewest producers it may learn a total of. It travels
// in the network file so that a consumer can run the policy check before
// releasing a result whose coverage misses producers (docs/policy.md,
// "At release time"). A hand-written file may leave it out; the consumer
// then cannot check and says so.
type Grant struct {
	Kinds     []string `yaml:"kinds"`      // "sum", "per-producer"
	MinWindow int      `yaml:"min_window"` // W, rounds, ≥ 1
	MinCohort int      `yaml:"min_cohort"` // K, producers, ≥ 1
}

func (g *Grant) check(consumer string) error {
	if g.MinWindow < 1 || g.MinCohort < 1 {
		return fmt.Errorf("netconfig: consumer %q grant has min_window %d and min_cohort %d; both must be at least 1 (render the file from the registry)", consumer, g.MinWindow, g.MinCohort)
	}
	for _, k := range g.Kinds {
		if k != KindSum && k != KindPerProducer {
			return fmt.Errorf("netconfig: consumer %q grant kind %q; use %s or %s", consumer, k, KindSum, KindPerProducer)
		}
	}
	return nil
}

// Allows reports whether the grant holds kind.
func (g *Grant) Allows(kind string) bool { return slices.Contains(g.Kinds, kind) }
