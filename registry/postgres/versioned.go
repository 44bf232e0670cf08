package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/vungtrong/vungtrong/registry"
)

// writeNote is what a change of versionedWriteNoted says for its audit record: the row's
// province after it ("" keeps the one it had), and why it was made ("" for no reason given).
type writeNote struct {
	province, reason string
}

// versionedWrite is versionedWriteNoted for a change that gives no reason.
func (db *DB) versionedWrite(ctx context.Context, table, action string, id int64, ifVersion int, authorize func(tx pgx.Tx) error, change func(tx pgx.Tx) (string, error)) error {
	return db.versionedWriteNoted(ctx, table, action, id, ifVersion, authorize, func(tx pgx.Tx) (writeNote, error) {
		province, err := change(tx)
		return writeNote{province: province}, err
	})
}

// versionedWriteNoted changes the live row table/id if its version is still ifVersion, in one
// transaction with its audit record (the row before and after). Once the row is locked,
// authorize decides whether the actor may change it (ENOTFOUND or EFORBIDDEN), before the
// version is compared, so that a caller without access learns nothing from a 412. change does
// the change and returns the row's province after it and the reason for the audit record. A
// stale version (EPRECONDITION) and a refusal (EFORBIDDEN) are audited in a transaction of
// their own, since the refused one rolls back. table and action must be constants.
func (db *DB) versionedWriteNoted(ctx context.Context, table, action string, id int64, ifVersion int, authorize func(tx pgx.Tx) error, change func(tx pgx.Tx) (writeNote, error)) error {
	var stale *staleVersion
	var denied error
	var province string // the row's, for the audit record of a refusal
	err := db.Transact(ctx, func(tx pgx.Tx) error {
		var before []byte
		var current int
		err := tx.QueryRow(ctx, `SELECT to_jsonb(t), version, COALESCE(province_code, '') FROM `+pgx.Identifier{table}.Sanitize()+` t WHERE id = $1 AND deleted_at IS NULL FOR UPDATE`, id).
			Scan(&before, &current, &province)
		if errors.Is(err, pgx.ErrNoRows) {
			return registry.Errorf(registry.ENOTFOUND, "%s %d not found", table, id)
		} else if err != nil {
			return err
		}
		if err := authorize(tx); err != nil {
			if registry.ErrorCode(err) == registry.EFORBIDDEN {
				denied = err
			}
			return err
		}
		if current != ifVersion {
			stale = &staleVersion{id: id, province: province, have: ifVersion, current: current}
			return registry.Errorf(registry.EPRECONDITION, "%s %d has changed since you read it (you sent version %d, it is now at version %d): reload it, reapply your change and send it with the new ETag", table, id, ifVersion, current)
		}
		note, err := change(tx)
		if err != nil {
			if registry.ErrorCode(err) == registry.EFORBIDDEN {
				denied = err
			}
			return err
		}
		after, err := rowJSON(ctx, tx, table, id)
		if err != nil {
			return err
		}
		return audit(ctx, tx, auditEntry{Action: action, ObjectType: table, ObjectID: id, Province: cmpOr(note.province, province), Reason: note.reason, Before: before, After: after})
	})
	switch {
	case stale != nil:
		db.auditRefusal(ctx, auditEntry{Action: action, Outcome: "rejected", ObjectType: table, ObjectID: id, Province: stale.province,
			Reason: fmt.Sprintf("stale version: sent %d, current %d", stale.have, stale.current)})
	case denied != nil:
		db.auditRefusal(ctx, auditEntry{Action: action, Outcome: "denied", ObjectType: table, ObjectID: id, Province: province, Reason: registry.ErrorMessage(denied)})
	}
	return err
}

// auditRefusal records a refused write in a transaction of its own (the refused one rolled
// back, and the log must still say it was tried).
func (db *DB) auditRefusal(ctx context.Context, e auditEntry) {
	if err := audit(context.WithoutCancel(ctx), db.Pool, e); err != nil {
		db.log.Error("writing the audit record of a refused write", "err", err, "object_type", e.ObjectType, "object_id", e.ObjectID)
	}
}

// staleVersion records an update that named a version that is no longer current.
type staleVersion struct {
	id            int64
	province      string
	have, current int
}
