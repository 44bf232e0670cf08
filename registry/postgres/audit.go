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
	Commune    string
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
	var userID *int64
	if actor.UserID != 0 {
		userID = &actor.UserID
	}
	province, commune := e.Province, e.Commune
	if province == "" && commune == "" {
		// Where the object is, from the record itself.
		province, commune = placeOf(e.After)
		if province == "" {
			province, commune = placeOf(e.Before)
		}
	}
	_, err := q.Exec(ctx, `
		INSERT INTO audit_log (actor, actor_role, actor_user_id, action, outcome, reason, object_type, object_id,
		                       province_code, commune_code, request_id, before, after)
		VALUES ($1, NULLIF($2, ''), $3, $4, $5, NULLIF($6, ''), $7, $8, NULLIF($9, ''), NULLIF($10, ''), NULLIF($11, ''), $12, $13)`,
		actor.String(), actor.Role, userID, e.Action, outcome, e.Reason, e.ObjectType, objectID,
		province, commune, registry.RequestIDFromContext(ctx), jsonOrNil(e.Before), jsonOrNil(e.After))
	return err
}

// placeOf reads province_code and commune_code from a row's JSON.
func placeOf(row []byte) (province, commune string) {
	if len(row) == 0 {
		return "", ""
	}
	var p struct {
		Province *string `json:"province_code"`
		Commune  *string `json:"commune_code"`
	}
	_ = json.Unmarshal(row, &p)
	if p.Province != nil {
		province = *p.Province
	}
	if p.Commune != nil {
		commune = *p.Commune
	}
	return province, commune
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
