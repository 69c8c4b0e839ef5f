package natsauth

import (
	"crypto/tls"
	"fmt"
	"log/slog"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"
)

// ClientOptions returns the nats.go options that connect as identity i with
// key kp: NKey challenge–response, i's inbox prefix (the only place its
// permissions let it subscribe), and TLS when tlsConf is set.
func ClientOptions(i Identity, kp nkeys.KeyPair, tlsConf *tls.Config) ([]nats.Option, error) {
	if err := i.check(); err != nil {
		return nil, err
	}
	pub, err := kp.PublicKey()
	if err != nil {
		return nil, fmt.Errorf("natsauth: key of %s: %v", i, err)
	}
	opts := []nats.Option{nats.Nkey(pub, kp.Sign), nats.CustomInboxPrefix(i.InboxPrefix())}
	if tlsConf != nil {
		opts = append(opts, nats.Secure(tlsConf))
	}
	return opts, nil
}

// Client returns the connect options of identity i from k (see
// [ClientOptions]).
func (k *Keys) Client(i Identity, tlsConf *tls.Config) ([]nats.Option, error) {
	kp, ok := k.Pairs[i]
	if !ok {
		return nil, fmt.Errorf("%w: no key for %s", ErrUnknownIdentity, i)
	}
	return ClientOptions(i, kp, tlsConf)
}

// LogErrors returns the option that logs the connection's asynchronous
// errors — among them the server's permission violations, which tell an
// operator that a role tried something its permissions do not allow —
// instead of printing them to stderr.
func LogErrors(log *slog.Logger, i Identity) nats.Option {
	return nats.ErrorHandler(func(_ *nats.Conn, sub *nats.Subscription, err error) {
		if sub != nil {
			log.Warn("nats error", "identity", i.String(), "subject", sub.Subject, "err", err)
			return
		}
		log.Warn("nats error", "identity", i.String(), "err", err)
	})
}
