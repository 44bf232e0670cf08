package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"regexp"

	"github.com/jackc/pgx/v5"
	"github.com/vungtrong/vungtrong/registry"
)

// TokenService manages API tokens; only hashes of secrets are stored.
type TokenService struct{ db *DB }

var _ registry.TokenService = (*TokenService)(nil)

// NewTokenService returns a TokenService on db.
func NewTokenService(db *DB) *TokenService { return &TokenService{db: db} }

var tokenNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// mayManageTokensOf returns EFORBIDDEN unless the caller is an admin or user userID.
func mayManageTokensOf(ctx context.Context, userID int64) error {
	a, _ := registry.ActorFromContext(ctx)
	if a.Role == registry.RoleAdmin || (a.UserID != 0 && a.UserID == userID) {
		return nil
	}
	return registry.Errorf(registry.EFORBIDDEN, "you may manage only your own API tokens")
}

// CreateToken makes a token named name acting for user userID, and returns its secret.
func (s *TokenService) CreateToken(ctx context.Context, userID int64, name string) (string, *registry.Token, error) {
	if !tokenNameRE.MatchString(name) {
		return "", nil, registry.Errorf(registry.EINVALID, "token name %q: use 1-64 letters, digits, dots, dashes or underscores, starting with a letter or digit", name)
	}
	if err := mayManageTokensOf(ctx, userID); err != nil {
		return "", nil, err
	}
	secret := registry.NewTokenSecret()
	t := &registry.Token{Name: name, UserID: userID, Prefix: secret[:len(registry.TokenPrefix)+6]}
	err := s.db.Transact(ctx, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `SELECT COALESCE(username, phone) FROM app_user WHERE id = $1 AND disabled_at IS NULL`, userID).Scan(&t.Username)
		if errors.Is(err, pgx.ErrNoRows) {
			return registry.Errorf(registry.ENOTFOUND, "user %d not found or disabled", userID)
		} else if err != nil {
			return err
		}
		err = tx.QueryRow(ctx, `INSERT INTO api_token (name, token_hash, prefix, user_id) VALUES ($1, $2, $3, $4) RETURNING id, created_at`,
			name, registry.HashTokenSecret(secret), t.Prefix, userID).Scan(&t.ID, &t.CreatedAt)
		if err != nil {
			if registry.ErrorCode(mapError(err)) == registry.ECONFLICT {
				return registry.Errorf(registry.ECONFLICT, "user %s has a live token named %q: revoke it first or choose another name", t.Username, name)
			}
			return err
		}
		after, err := rowJSON(ctx, tx, "api_token", t.ID)
		if err != nil {
			return err
		}
		return audit(ctx, tx, auditEntry{Action: "api_token.create", ObjectType: "api_token", ObjectID: t.ID, After: withoutHash(after)})
	})
	if err != nil {
		return "", nil, err
	}
	return secret, t, nil
}

// withoutHash drops the token hash from a row's JSON before it goes to the audit log.
func withoutHash(row []byte) []byte {
	var m map[string]any
	if len(row) == 0 || json.Unmarshal(row, &m) != nil {
		return row
	}
	delete(m, "token_hash")
	b, _ := json.Marshal(m)
	return b
}

// ListTokens returns the caller's tokens (an admin's: everyone's), oldest first.
func (s *TokenService) ListTokens(ctx context.Context) ([]*registry.Token, error) {
	a, _ := registry.ActorFromContext(ctx)
	rows, err := s.db.Pool.Query(ctx, `
		SELECT t.id, COALESCE(t.user_id, 0), COALESCE(u.username, u.phone, ''), t.name, t.prefix, t.created_at, t.last_used_at, t.revoked_at
		FROM api_token t LEFT JOIN app_user u ON u.id = t.user_id
		WHERE $1 OR t.user_id = $2
		ORDER BY t.id`, a.Role == registry.RoleAdmin, a.UserID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*registry.Token
	for rows.Next() {
		var t registry.Token
		if err := rows.Scan(&t.ID, &t.UserID, &t.Username, &t.Name, &t.Prefix, &t.CreatedAt, &t.LastUsedAt, &t.RevokedAt); err != nil {
			return nil, err
		}
		out = append(out, &t)
	}
	return out, rows.Err()
}

// RevokeToken revokes a live token of the caller (an admin: anyone's). Returns ENOTFOUND.
func (s *TokenService) RevokeToken(ctx context.Context, id int64) error {
	a, _ := registry.ActorFromContext(ctx)
	return s.db.Transact(ctx, func(tx pgx.Tx) error {
		before, err := rowJSON(ctx, tx, "api_token", id)
		if errors.Is(err, pgx.ErrNoRows) {
			return registry.Errorf(registry.ENOTFOUND, "token %d not found", id)
		} else if err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `UPDATE api_token SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL AND ($2 OR user_id = $3)`,
			id, a.Role == registry.RoleAdmin, a.UserID)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return registry.Errorf(registry.ENOTFOUND, "no live token %d of yours", id)
		}
		after, err := rowJSON(ctx, tx, "api_token", id)
		if err != nil {
			return err
		}
		return audit(ctx, tx, auditEntry{Action: "api_token.revoke", ObjectType: "api_token", ObjectID: id, Before: withoutHash(before), After: withoutHash(after)})
	})
}
