package registry

import "context"

// Actor is whoever makes a request: recorded in the audit log with every write.
type Actor struct {
	// Kind is "token", "user" or "system".
	Kind string
	// Name is the token's, user's or system job's name, e.g. "importer" or "demo".
	Name string
	// Role is the actor's role, when it has one.
	Role string
	// ID is the token's or user's id (0 for system jobs).
	ID int64
}

// String returns the actor as the audit log records it, e.g. "token:importer".
func (a Actor) String() string {
	if a.Kind == "" {
		return "anonymous"
	}
	return a.Kind + ":" + a.Name
}

// SystemActor returns the actor of a job the system runs by itself, such as loading demo data.
func SystemActor(name string) Actor { return Actor{Kind: "system", Name: name, Role: "admin"} }

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
