package postgres

import (
	"context"
	"encoding/json"
	"strconv"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/vungtrong/vungtrong/registry"
)

// auditEntry is one row of the audit log.
type auditEntry struct {
	Action     string // "plot.update"
	Outcome    string // "ok", "rejected", "denied"
	Reason     string
	ObjectType string
	ObjectID   int64
	Province   string
	Before     []byte // jsonb, nil for none
	After      []byte
}

// querier is what a pool and a transaction share.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// audit writes e with the actor and request id carried by ctx. Inside a transaction it commits
// or rolls back with the change it records.
func audit(ctx context.Context, q querier, e auditEntry) error {
	actor, _ := registry.ActorFromContext(ctx)
	outcome := e.Outcome
	if outcome == "" {
		outcome = "ok"
	}
	var objectID *string
	if e.ObjectID != 0 {
		s := strconv.FormatInt(e.ObjectID, 10)
		objectID = &s
	}
	_, err := q.Exec(ctx, `
		INSERT INTO audit_log (actor, actor_role, action, outcome, reason, object_type, object_id,
		                       province_code, request_id, before, after)
		VALUES ($1, NULLIF($2, ''), $3, $4, NULLIF($5, ''), $6, $7, NULLIF($8, ''), NULLIF($9, ''), $10, $11)`,
		actor.String(), actor.Role, e.Action, outcome, e.Reason, e.ObjectType, objectID,
		e.Province, registry.RequestIDFromContext(ctx), jsonOrNil(e.Before), jsonOrNil(e.After))
	return err
}

func jsonOrNil(b []byte) any {
	if len(b) == 0 {
		return nil
	}
	return string(b)
}

// rowJSON returns a table row as the audit log records it: every column, geometries as GeoJSON
// (PostGIS casts geometry to json). table must be a constant.
func rowJSON(ctx context.Context, q querier, table string, id int64) ([]byte, error) {
	var b []byte
	err := q.QueryRow(ctx, `SELECT to_jsonb(t) FROM `+pgx.Identifier{table}.Sanitize()+` t WHERE id = $1`, id).Scan(&b)
	return b, err
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
