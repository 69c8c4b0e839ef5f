package registry

import (
	"context"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/ppnet/ppnet/internal/netconfig"
)

// DefaultBucket is the JetStream key-value bucket epochs are published to.
const DefaultBucket = netconfig.Bucket

// KeyPrefix starts every epoch key; epoch n is at KeyPrefix + n. Roles
// watch KeyPrefix + "*".
const KeyPrefix = netconfig.EpochKeyPrefix

// EpochKey returns the key of epoch n.
func EpochKey(n uint32) string { return netconfig.EpochKey(n) }

// OpenBucket creates the bucket if it is missing (keeping 8 revisions per
// key, with the given stream replicas) and returns it.
func OpenBucket(ctx context.Context, js jetstream.JetStream, bucket string, replicas int) (jetstream.KeyValue, error) {
	kv, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket: bucket, Description: "ppnet epochs (netconfig YAML)", History: 8, Replicas: max(replicas, 1),
	})
	if err != nil {
		return nil, fmt.Errorf("registry: key-value bucket %q: %v; check the server has JetStream and the user may manage KV buckets", bucket, err)
	}
	return kv, nil
}

// Publish renders epoch n and puts it under EpochKey(n). When epoch n−1
// exists it is put again with its round count ending at F_n, so a role
// watching sees where the old epoch ends. The epoch is recorded as
// published. It returns the revision of epoch n's entry.
func (r *Registry) Publish(ctx context.Context, kv jetstream.KeyValue, n uint32, opts *RenderOptions) (uint64, error) {
	e, next, err := r.Epoch(n)
	if err != nil {
		return 0, err
	}
	docs := map[uint32][]byte{}
	render := func(e, next *Epoch) error {
		c, err := e.Render(next, opts)
		if err != nil {
			return err
		}
		b, err := c.Marshal()
		if err != nil {
			return fmt.Errorf("registry: encoding epoch %d: %v", e.Number, err)
		}
		docs[e.Number] = b
		return nil
	}
	if n > 1 {
		prev, _, err := r.Epoch(n - 1)
		if err != nil {
			return 0, err
		}
		if err := render(prev, e); err != nil {
			return 0, err
		}
	}
	if err := render(e, next); err != nil {
		return 0, err
	}
	if b, ok := docs[n-1]; ok && n > 1 {
		if _, err := kv.Put(ctx, EpochKey(n-1), b); err != nil {
			return 0, fmt.Errorf("registry: publishing epoch %d: %v", n-1, err)
		}
	}
	rev, err := kv.Put(ctx, EpochKey(n), docs[n])
	if err != nil {
		return 0, fmt.Errorf("registry: publishing epoch %d: %v", n, err)
	}
	return rev, r.markPublished(n)
}

// DecodeEntry decodes a key-value entry as a role watching the bucket
// would (netconfig.DecodeEntry, which the roles call): the key must be
// EpochKey(n) and the value a network file of epoch n that netconfig
// resolves.
func DecodeEntry(key string, value []byte) (*netconfig.Network, error) {
	n, err := netconfig.DecodeEntry(key, value)
	if err != nil {
		return nil, fmt.Errorf("registry: %w", err)
	}
	return n, nil
}
