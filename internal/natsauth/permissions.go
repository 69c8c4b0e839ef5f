package natsauth

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/nats-io/nats-server/v2/server"

	"github.com/ppnet/ppnet/internal/fddm/bulletin"
	"github.com/ppnet/ppnet/internal/netconfig"
)

// Role is a kind of NATS user.
type Role string

// The roles. Admin declares streams and has every permission; the others
// get the narrow permissions of [Permissions].
const (
	RoleAdmin    Role = "admin"
	RoleProducer Role = "producer"
	RolePPN      Role = "ppn"
	RoleConsumer Role = "consumer"
)

// Errors callers may match.
var (
	ErrUnknownRole     = errors.New("natsauth: unknown role")
	ErrUnknownIdentity = errors.New("natsauth: identity not in the network configuration")
)

var idPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// Identity names one NATS user: a role and the id of the producer, PPN or
// consumer in the network configuration (any id for an admin).
type Identity struct {
	Role Role
	ID   string
}

// String returns "role/id".
func (i Identity) String() string { return string(i.Role) + "/" + i.ID }

// ParseIdentity parses "role/id".
func ParseIdentity(s string) (Identity, error) {
	r, id, ok := strings.Cut(s, "/")
	i := Identity{Role: Role(r), ID: id}
	if !ok {
		return Identity{}, fmt.Errorf("natsauth: identity %q; write role/id, e.g. ppn/ppn1", s)
	}
	return i, i.check()
}

func (i Identity) check() error {
	switch i.Role {
	case RoleAdmin, RoleProducer, RolePPN, RoleConsumer:
	default:
		return fmt.Errorf("%w %q in %q; use admin, producer, ppn or consumer", ErrUnknownRole, i.Role, i.String())
	}
	if !idPattern.MatchString(i.ID) {
		return fmt.Errorf("natsauth: id %q in %q; ids are 1–64 characters of A–Z a–z 0–9 _ -", i.ID, i.String())
	}
	return nil
}

// InboxPrefix is the reply-subject prefix of i's connection. Subscribing is
// allowed only below it, so no user can read replies meant for another.
func (i Identity) InboxPrefix() string { return "_INBOX." + string(i.Role) + "." + i.ID }

const jsAPI = "$JS.API"

// Permissions returns the subject permissions of i in network n:
//
//	role      publish                                        subscribe
//	admin     >                                              >
//	producer  p.bundle.<id>                                  _INBOX.producer.<id>.>
//	ppn       p.seal, p.agg.<c> for each consumer c of a     _INBOX.ppn.<id>.>
//	          rule it serves, J.CONSUMER.CREATE.B.*,
//	          J.CONSUMER.MSG.NEXT.B.*, J.CONSUMER.DELETE.B.*
//	consumer  J.CONSUMER.CREATE.A.*.p.agg.<id>,              _INBOX.consumer.<id>.>
//	          J.CONSUMER.MSG.NEXT.A.*, J.CONSUMER.DELETE.A.*
//	all three also read the configuration bucket K (netconfig.Bucket):
//	          J.STREAM.INFO.KV_K, J.CONSUMER.CREATE.KV_K.*.$KV.K.>,
//	          J.CONSUMER.DELETE.KV_K.*, $JS.FC.KV_K.>
//
// A JetStream publish is a request: the stream's acknowledgement comes back
// on the publisher's inbox, so a producer needs nothing of the JetStream
// API. A PPN reads the whole bundle stream through an ordered (ephemeral
// pull) consumer: creating it without a filter has exactly one token after
// the stream name, which "*" matches. A consumer may create only consumers
// filtered on its own aggregate subject: the server refuses a create whose
// filter differs from the subject's tail. An ordered consumer deletes its
// previous consumer when it resets (after a reconnect), hence the consumer
// delete on the one stream each reads. Nothing else of J is allowed — no
// stream create, update, delete, purge or info, no consumer list or info,
// no direct get — and nothing may subscribe to a stream subject directly,
// so stream contents are read only through the consumers above.
//
// Every role may watch the configuration bucket (internal/epochs: a
// key-value watch is an ordered push consumer delivering to the role's
// inbox, with flow control replies on $JS.FC): bind it (stream info),
// create a consumer filtered within the bucket's subjects, delete it when
// the watch stops. No role may put: a put is a publish on $KV.K.<key>,
// which only the admin (the configurator) may do.
//
// Producers also watch the FDDM bulletin bucket (bulletin.Bucket, "F"
// below: global models and billing period closes, docs/fddm.md) and may not
// put in it. Two kinds of consumer write it, each only its own keys; both
// are recognised from the rules they own (see [FDDMWriter]):
//
//	consumer                                   publish (besides watching F)
//	FedAvg coordinator (component sum rules)   $KV.F.model.*
//	billing (a per-producer rule)              $KV.F.period.*
func Permissions(n *netconfig.Network, i Identity) (*server.Permissions, error) {
	if err := i.check(); err != nil {
		return nil, err
	}
	c := n.Config.Streams
	inbox := []string{i.InboxPrefix() + ".>"}
	var pub []string
	switch i.Role {
	case RoleAdmin:
		pub, inbox = []string{">"}, []string{">"}
	case RoleProducer:
		s, err := n.ProducerIndex(i.ID)
		if err != nil {
			return nil, fmt.Errorf("%w: producer %q", ErrUnknownIdentity, i.ID)
		}
		pub = []string{n.BundleSubject(s)}
	case RolePPN:
		me, err := n.PPNIndex(i.ID)
		if err != nil {
			return nil, fmt.Errorf("%w: ppn %q", ErrUnknownIdentity, i.ID)
		}
		pub = []string{n.SealSubject()}
		for _, r := range n.Rules {
			if s := n.AggregateSubject(r.Consumer); slices.Contains(r.PPNs, me) && !slices.Contains(pub, s) {
				pub = append(pub, s)
			}
		}
		pub = append(pub,
			jsAPI+".CONSUMER.CREATE."+c.Bundles+".*",
			jsAPI+".CONSUMER.MSG.NEXT."+c.Bundles+".*",
			jsAPI+".CONSUMER.DELETE."+c.Bundles+".*")
	case RoleConsumer:
		me, err := n.ConsumerIndex(i.ID)
		if err != nil {
			return nil, fmt.Errorf("%w: consumer %q", ErrUnknownIdentity, i.ID)
		}
		pub = []string{
			jsAPI + ".CONSUMER.CREATE." + c.Aggregates + ".*." + n.AggregateSubject(me),
			jsAPI + ".CONSUMER.MSG.NEXT." + c.Aggregates + ".*",
			jsAPI + ".CONSUMER.DELETE." + c.Aggregates + ".*",
		}
	}
	if i.Role != RoleAdmin {
		pub = append(pub, kvRead(netconfig.Bucket)...)
	}
	var models, periods bool
	if i.Role == RoleConsumer {
		models, periods = FDDMWriter(n, i.ID)
	}
	if i.Role == RoleProducer || models || periods {
		pub = append(pub, kvRead(bulletin.Bucket)...)
	}
	if models {
		pub = append(pub, "$KV."+bulletin.Bucket+".model.*")
	}
	if periods {
		pub = append(pub, "$KV."+bulletin.Bucket+".period.*")
	}
	return &server.Permissions{
		Publish:   &server.SubjectPermission{Allow: pub},
		Subscribe: &server.SubjectPermission{Allow: inbox},
	}, nil
}

// FDDMWriter reports what consumer id may write to the FDDM bulletin
// bucket: global models when it is the FedAvg coordinator — the consumer of
// a FedAvg component rule, a `sum` over one round with id "<prefix>-c<j>"
// whose every meter is a component meter "<producer>-c<j>" of the same j
// (fednet.AddRules) — and period closes when it bills, i.e. owns a
// `per-producer` rule (DESIGN §7: per-producer totals are for billing).
func FDDMWriter(n *netconfig.Network, id string) (models, periods bool) {
	for _, r := range n.Rules {
		if r.ConsumerID != id {
			continue
		}
		switch {
		case r.Kind == netconfig.KindPerProducer:
			periods = true
		case r.Kind == netconfig.KindSum && r.K == 1 && len(r.Meters) > 0 && componentRule(n, r):
			models = true
		}
	}
	return models, periods
}

// componentRule reports whether r is a FedAvg component rule.
func componentRule(n *netconfig.Network, r netconfig.ResolvedRule) bool {
	k := strings.LastIndex(r.ID, "-c")
	if k < 1 || !isDigits(r.ID[k+2:]) {
		return false
	}
	suffix := r.ID[k:]
	for _, m := range r.Meters {
		if int(m) >= len(n.Meters) || !strings.HasSuffix(n.Meters[m], suffix) || len(n.Meters[m]) == len(suffix) {
			return false
		}
	}
	return true
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// kvRead is what watching key-value bucket b needs of the JetStream API.
func kvRead(b string) []string {
	stream := "KV_" + b
	return []string{
		jsAPI + ".STREAM.INFO." + stream,
		jsAPI + ".CONSUMER.CREATE." + stream + ".*.$KV." + b + ".>",
		jsAPI + ".CONSUMER.DELETE." + stream + ".*",
		"$JS.FC." + stream + ".>",
	}
}

// Identities lists every non-admin identity of n: its producers, PPNs and
// consumers, in configuration order.
func Identities(n *netconfig.Network) []Identity {
	var ids []Identity
	for _, p := range n.Config.Producers {
		ids = append(ids, Identity{RoleProducer, p.ID})
	}
	for _, p := range n.Config.PPNs {
		ids = append(ids, Identity{RolePPN, p.ID})
	}
	for _, c := range n.Config.Consumers {
		ids = append(ids, Identity{RoleConsumer, c.ID})
	}
	return ids
}
