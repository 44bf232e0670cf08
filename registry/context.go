package registry

import "context"

// Actor is whoever makes a request: authorization looks at it, and the audit log records it
// with every write. The zero Actor is the anonymous public.
type Actor struct {
	// Kind is "user" (a web session), "token" (an API token) or "system" (a job of the
	// program itself, which acts as an admin).
	Kind string
	// Name is the user's, token's or job's name, e.g. "alice", "importer" or "demo".
	Name string
	// Role is the role of the user behind the session or token.
	Role string
	// UserID is the user behind the session or token.
	UserID int64
	// ProducerID is the producer the user speaks for (household, cooperative, enterprise).
	ProducerID *int64
	// Jurisdictions are where an officer may act.
	Jurisdictions []Jurisdiction
	// MustChangePassword is set while the user signs in with a one-time password.
	MustChangePassword bool
}

// String returns the actor as the audit log records it, e.g. "token:importer".
func (a Actor) String() string {
	if a.Kind == "" {
		return "anonymous"
	}
	return a.Kind + ":" + a.Name
}

// SystemActor returns the actor of a job the system runs by itself, such as loading demo data.
func SystemActor(name string) Actor { return Actor{Kind: "system", Name: name, Role: RoleAdmin} }

// Anonymous reports whether the actor is the anonymous public.
func (a Actor) Anonymous() bool { return a.Kind == "" }

type ctxKey int

const (
	actorKey ctxKey = iota
	requestIDKey
)

// NewContextWithActor returns a context that carries the actor.
func NewContextWithActor(ctx context.Context, a Actor) context.Context {
	return context.WithValue(ctx, actorKey, a)
}

// ActorFromContext returns the actor carried by ctx, and false when there is none (anonymous).
func ActorFromContext(ctx context.Context) (Actor, bool) {
	a, ok := ctx.Value(actorKey).(Actor)
	return a, ok
}

// NewContextWithRequestID returns a context that carries the request id, for the audit log.
func NewContextWithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey, id)
}

// RequestIDFromContext returns the request id carried by ctx, or "".
func RequestIDFromContext(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey).(string)
	return id
}
