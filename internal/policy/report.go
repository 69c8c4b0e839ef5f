package policy

// Report is the outcome of [Check]. It marshals to the JSON that
// `configurator check` prints on refusal.
type Report struct {
	// Accepted is true when no rule is refused and no leak was found.
	Accepted bool `json:"accepted"`
	// Refusals lists rules refused on their own: grant, field bound, or an
	// empty producer set; and, with Rule "*", a rule set refused because
	// Stats.Exact could not be established.
	Refusals []Refusal `json:"refusals,omitempty"`
	// Leaks lists differencing attacks found, at most Options.MaxLeaks.
	Leaks []Leak `json:"leaks,omitempty"`
	// Stats describes the work done.
	Stats Stats `json:"stats"`
}

// Refusal is a rule refused on its own.
type Refusal struct {
	Rule     string `json:"rule"`
	Consumer string `json:"consumer"`
	// Reason says what is wrong, with the values, and what to do.
	Reason string `json:"reason"`
}

// Leak is a total the coalition Consumers could derive by a linear
// combination of what is released to them, but none of them is entitled to.
type Leak struct {
	// Consumers is the coalition that pools its releases.
	Consumers []string `json:"consumers"`
	// Producers is the producer group S of the derived total (at most 20
	// ids are listed; ProducerCount is |S|).
	Producers     []string `json:"producers"`
	ProducerCount int      `json:"producer_count"`
	// Rounds is the time set T of the derived total, as half-open spans.
	Rounds []Span `json:"rounds"`
	// Extent is last − first + 1 over T: the stretch of time T lies in.
	Extent int `json:"extent"`
	// Why says, per coalition member, why it is not entitled to the total.
	Why []string `json:"why"`
	// Combination gives the coefficients: Σ coefficient·release = the total.
	Combination []Term `json:"combination"`
	// Verified is true when the combination was checked exactly over the
	// rationals (math/big); false only if rational reconstruction of the
	// mod-q coefficients failed, in which case they are given mod q.
	Verified bool `json:"verified"`
}

// Span is a half-open range of rounds [From, To).
type Span struct {
	From int `json:"from"`
	To   int `json:"to"`
}

// Term is one released value times a coefficient.
type Term struct {
	Rule string `json:"rule"`
	// Window is the window index j: rounds [j·k, (j+1)·k).
	Window int `json:"window"`
	// Rounds are the rounds the released value covers (window ∩ band).
	Rounds []Span `json:"rounds"`
	// PerProducer lists, for a per-producer rule, the producers whose
	// values all enter with this coefficient (at most 20 listed;
	// PerProducerCount is the number).
	PerProducer      []string `json:"per_producer,omitempty"`
	PerProducerCount int      `json:"per_producer_count,omitempty"`
	// Coefficient is a rational number, e.g. "1", "-1", "1/2".
	Coefficient string `json:"coefficient"`
}

// Stats describes the work a check did.
type Stats struct {
	// Coalitions is the number of distinct consumer coalitions checked.
	Coalitions int `json:"coalitions"`
	// MaxProducerAtoms and MaxTimeAtoms are the largest atom counts met.
	MaxProducerAtoms int `json:"max_producer_atoms"`
	MaxTimeAtoms     int `json:"max_time_atoms"`
	// Releases is the largest number of atom-level releases in a coalition.
	Releases int `json:"releases"`
	// Rank is the largest dimension of a coalition's derivable space.
	Rank int `json:"rank"`
	// Candidates is the number of (S, T) targets tested.
	Candidates int64 `json:"candidates"`
	// UnionDepth is the largest union of producer atoms searched
	// everywhere: Options.MaxUnion, or 2 where more than 128 atoms qualified
	// for a run and the search was cut to pairs.
	UnionDepth int `json:"union_depth"`
	// Exact is true when, in every coalition, the rank of the releases
	// over Z_q was certified equal to their rank over Q, so that no
	// derivable target can have been missed through arithmetic mod q.
	Exact bool `json:"exact"`
	// Seed seeds the random fingerprints (Options.Seed).
	Seed uint64 `json:"seed"`
	// Horizon is the number of rounds checked.
	Horizon int `json:"horizon"`
	// Period is the rule set's period L ([File.Period]), 0 when it exceeds
	// MaxHorizon. The decision holds for every horizon iff Horizon ≥
	// Period > 0; a shorter horizon decides only its own rounds.
	Period int `json:"period"`
}

// spans compresses sorted rounds into half-open spans.
func spans(rounds []int) []Span {
	var out []Span
	for _, t := range rounds {
		if n := len(out); n > 0 && out[n-1].To == t {
			out[n-1].To = t + 1
			continue
		}
		out = append(out, Span{t, t + 1})
	}
	return out
}
