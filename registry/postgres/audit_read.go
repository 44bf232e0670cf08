package postgres

import (
	"context"
	"strconv"
	"strings"

	"github.com/vungtrong/vungtrong/registry"
)

// AuditService reads the audit log.
type AuditService struct {
	db *DB
	// MaxPageSize caps pages.
	MaxPageSize int
}

var _ registry.AuditService = (*AuditService)(nil)

// NewAuditService returns an AuditService on db.
func NewAuditService(db *DB) *AuditService { return &AuditService{db: db, MaxPageSize: 1000} }

// FindAuditEntries returns the entries the caller may read, newest first.
func (s *AuditService) FindAuditEntries(ctx context.Context, f registry.AuditFilter) ([]registry.AuditEntry, int64, error) {
	a, _ := registry.ActorFromContext(ctx)
	limit := pageLimit(f.Limit, s.MaxPageSize)
	var where []string
	var args []any
	arg := func(v any) string { args = append(args, v); return "$" + strconv.Itoa(len(args)) }
	switch a.Role {
	case registry.RoleAdmin:
	case registry.RoleOfficer:
		where = append(where, jurisdictionSQL(a, "province_code", "commune_code", arg))
	default:
		return nil, 0, registry.Errorf(registry.EFORBIDDEN, "only administrators and officers read the audit log")
	}
	for col, v := range map[string]string{"object_type": f.ObjectType, "object_id": f.ObjectID, "actor": f.Actor, "action": f.Action,
		"outcome": f.Outcome, "province_code": f.ProvinceCode, "request_id": f.RequestID} {
		if v != "" {
			where = append(where, col+" = "+arg(v))
		}
	}
	if f.Since != nil {
		where = append(where, "at >= "+arg(*f.Since))
	}
	if f.Until != nil {
		where = append(where, "at < "+arg(*f.Until))
	}
	if f.Before > 0 {
		where = append(where, "id < "+arg(f.Before))
	}
	q := `SELECT id, at, actor, COALESCE(actor_role, ''), actor_user_id, action, outcome, COALESCE(reason, ''), object_type,
	             COALESCE(object_id, ''), COALESCE(province_code, ''), COALESCE(commune_code, ''), COALESCE(request_id, ''), before, after
	      FROM audit_log`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, " AND ")
	}
	q += ` ORDER BY id DESC LIMIT ` + arg(limit+1)
	rows, err := s.db.Pool.Query(ctx, q, args...)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	var out []registry.AuditEntry
	for rows.Next() {
		var e registry.AuditEntry
		if err := rows.Scan(&e.ID, &e.At, &e.Actor, &e.ActorRole, &e.ActorUserID, &e.Action, &e.Outcome, &e.Reason, &e.ObjectType,
			&e.ObjectID, &e.ProvinceCode, &e.CommuneCode, &e.RequestID, &e.Before, &e.After); err != nil {
			return nil, 0, err
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, err
	}
	var next int64
	if len(out) > limit {
		out = out[:limit]
		next = out[limit-1].ID
	}
	return out, next, nil
}
