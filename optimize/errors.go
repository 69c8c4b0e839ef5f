package optimize

import "errors"

// Errors returned by this package; match them with errors.Is.
var (
	// ErrInstance reports an instance that is malformed or cannot be solved
	// as stated; the wrapped message names the field and the fix.
	ErrInstance = errors.New("optimize: invalid instance")
	// ErrInfeasible reports that a solver found no plan within the
	// candidate PPNs and their capacities.
	ErrInfeasible = errors.New("optimize: no feasible plan")
	// ErrPlan reports a plan that violates the model (Check failed).
	ErrPlan = errors.New("optimize: invalid plan")
	// ErrSolver reports a failure of the external MILP solver.
	ErrSolver = errors.New("optimize: solver failed")
)
