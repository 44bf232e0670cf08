package registry

import (
	"context"
	"encoding/json"
	"time"
)

// AuditEntry is one row of the audit log: who did what, when, to what, and what it was before
// and after (geometries included).
type AuditEntry struct {
	ID           int64           `json:"id"`
	At           time.Time       `json:"at"`
	Actor        string          `json:"actor"`
	ActorRole    string          `json:"actor_role,omitempty"`
	ActorUserID  *int64          `json:"actor_user_id,omitempty"`
	Action       string          `json:"action"`
	Outcome      string          `json:"outcome"`
	Reason       string          `json:"reason,omitempty"`
	ObjectType   string          `json:"object_type"`
	ObjectID     string          `json:"object_id,omitempty"`
	ProvinceCode string          `json:"province_code,omitempty"`
	CommuneCode  string          `json:"commune_code,omitempty"`
	RequestID    string          `json:"request_id,omitempty"`
	Before       json.RawMessage `json:"before,omitempty"`
	After        json.RawMessage `json:"after,omitempty"`
}

// AuditFilter selects audit entries. Zero fields do not filter.
type AuditFilter struct {
	ObjectType, ObjectID, Actor, Action, Outcome, ProvinceCode, RequestID string
	Since, Until                                                          *time.Time
	// After is the cursor: entries with a smaller id (the log reads newest first).
	Before int64
	Limit  int
}

// AuditService reads the audit log. Nothing changes or deletes it.
type AuditService interface {
	// FindAuditEntries returns a page of entries the caller may read, newest first, and the
	// cursor of the next page: everything for an admin, their jurisdiction for an officer.
	// Returns EFORBIDDEN for other roles.
	FindAuditEntries(ctx context.Context, f AuditFilter) ([]AuditEntry, int64, error)
}
