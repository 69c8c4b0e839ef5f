package sharing

import "errors"

// Errors returned by this package; match them with errors.Is.
var (
	// ErrNotCanonical reports an encoded field element that is not below q.
	ErrNotCanonical = errors.New("sharing: value is not a canonical field element")
	// ErrZeroInverse reports an attempt to invert zero.
	ErrZeroInverse = errors.New("sharing: zero has no inverse")
	// ErrLength reports slices whose lengths do not match.
	ErrLength = errors.New("sharing: mismatched lengths")
	// ErrThreshold reports a threshold outside 1 ≤ t ≤ number of shares.
	ErrThreshold = errors.New("sharing: invalid threshold")
	// ErrZeroX reports the x-coordinate 0, where the secret itself lives.
	ErrZeroX = errors.New("sharing: x-coordinate 0 would reveal the secret")
	// ErrDuplicateX reports an x-coordinate given twice.
	ErrDuplicateX = errors.New("sharing: duplicate x-coordinate")
	// ErrTooFewShares reports fewer shares than the threshold.
	ErrTooFewShares = errors.New("sharing: too few shares")
	// ErrOutOfRange reports a value that does not fit the field encoding.
	ErrOutOfRange = errors.New("sharing: value out of range")
	// ErrRandomness reports a failing randomness source.
	ErrRandomness = errors.New("sharing: randomness source failed")
	// ErrTooManyShares reports more shares than robust recovery accepts
	// (MaxRobustShares); its cost grows with the cube of their number.
	ErrTooManyShares = errors.New("sharing: too many shares")
	// ErrInconsistent reports shares that do not lie on one polynomial of
	// degree < t and could not be corrected.
	ErrInconsistent = errors.New("sharing: shares are inconsistent")
)
