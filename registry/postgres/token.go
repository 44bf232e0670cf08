package postgres

import (
	"context"
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

// CreateToken makes a token named name and returns its secret, shown once.
func (s *TokenService) CreateToken(ctx context.Context, name string) (string, *registry.Token, error) {
	if !tokenNameRE.MatchString(name) {
		return "", nil, registry.Errorf(registry.EINVALID, "token name %q: use 1-64 letters, digits, dots, dashes or underscores, starting with a letter or digit", name)
	}
	secret := registry.NewTokenSecret()
	t := &registry.Token{Name: name, Prefix: secret[:len(registry.TokenPrefix)+6]}
	err := s.db.Transact(ctx, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `INSERT INTO api_token (name, token_hash, prefix) VALUES ($1, $2, $3) RETURNING id, created_at`,
			name, registry.HashTokenSecret(secret), t.Prefix).Scan(&t.ID, &t.CreatedAt)
		if err != nil {
			if registry.ErrorCode(mapError(err)) == registry.ECONFLICT {
				return registry.Errorf(registry.ECONFLICT, "a live token named %q exists: revoke it first or choose another name", name)
			}
			return err
		}
		return audit(ctx, tx, auditEntry{Action: "token.create", ObjectType: "api_token", ObjectID: t.ID,
			After: []byte(`{"name":` + jsonString(name) + `,"prefix":` + jsonString(t.Prefix) + `}`)})
	})
	if err != nil {
		return "", nil, err
	}
	return secret, t, nil
}

// Authenticate returns the live token whose secret this is, and records its use.
func (s *TokenService) Authenticate(ctx context.Context, secret string) (*registry.Token, error) {
	var t registry.Token
	err := s.db.Pool.QueryRow(ctx, `
		UPDATE api_token SET last_used_at = now()
		WHERE token_hash = $1 AND revoked_at IS NULL
		RETURNING id, name, prefix, created_at, last_used_at`, registry.HashTokenSecret(secret)).
		Scan(&t.ID, &t.Name, &t.Prefix, &t.CreatedAt, &t.LastUsedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, registry.Errorf(registry.EUNAUTHORIZED, "the API token is not valid or has been revoked")
	}
	if err != nil {
		return nil, err
	}
	return &t, nil
}

// ListTokens returns every token, oldest first.
func (s *TokenService) ListTokens(ctx context.Context) ([]*registry.Token, error) {
	rows, err := s.db.Pool.Query(ctx, `SELECT id, name, prefix, created_at, last_used_at, revoked_at FROM api_token ORDER BY id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*registry.Token
	for rows.Next() {
		var t registry.Token
		if err := rows.Scan(&t.ID, &t.Name, &t.Prefix, &t.CreatedAt, &t.LastUsedAt, &t.RevokedAt); err != nil {
			return nil, err
		}
		out = append(out, &t)
	}
	return out, rows.Err()
}

// RevokeToken revokes the live token named name. Returns ENOTFOUND.
func (s *TokenService) RevokeToken(ctx context.Context, name string) error {
	return s.db.Transact(ctx, func(tx pgx.Tx) error {
		var id int64
		err := tx.QueryRow(ctx, `UPDATE api_token SET revoked_at = now() WHERE name = $1 AND revoked_at IS NULL RETURNING id`, name).Scan(&id)
		if errors.Is(err, pgx.ErrNoRows) {
			return registry.Errorf(registry.ENOTFOUND, "no live token named %q", name)
		}
		if err != nil {
			return err
		}
		return audit(ctx, tx, auditEntry{Action: "token.revoke", ObjectType: "api_token", ObjectID: id})
	})
}
