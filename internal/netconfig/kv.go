package netconfig

import (
	"fmt"
	"strconv"
	"strings"
)

// Bucket is the JetStream key-value bucket the configurator publishes
// epochs to and the roles watch.
const Bucket = "ppnet_config"

// EpochKeyPrefix starts every epoch key; epoch n is at EpochKeyPrefix + n.
// Roles watch EpochKeyPrefix + "*".
const EpochKeyPrefix = "epoch."

// EpochKey returns the key of epoch n.
func EpochKey(n uint32) string { return EpochKeyPrefix + strconv.FormatUint(uint64(n), 10) }

// DecodeEntry decodes a key-value entry as a role watching the bucket
// does: the key must be EpochKey(n) and the value a network file of epoch
// n that resolves.
func DecodeEntry(key string, value []byte) (*Network, error) {
	s, ok := strings.CutPrefix(key, EpochKeyPrefix)
	n, err := strconv.ParseUint(s, 10, 32)
	if !ok || err != nil || n == 0 {
		return nil, fmt.Errorf("netconfig: key %q is not an epoch key; epochs are at %s<number ≥ 1>", key, EpochKeyPrefix)
	}
	c, err := Parse(value)
	if err != nil {
		return nil, fmt.Errorf("netconfig: entry %q: %w", key, err)
	}
	if uint64(c.Epoch) != n {
		return nil, fmt.Errorf("netconfig: entry %q holds epoch %d; the key and the file disagree", key, c.Epoch)
	}
	net, err := c.Resolve()
	if err != nil {
		return nil, fmt.Errorf("netconfig: entry %q: %w", key, err)
	}
	return net, nil
}
