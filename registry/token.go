package registry

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"strings"
	"time"
)

// TokenPrefix starts every API token, so that secret scanners and people recognise one.
const TokenPrefix = "vt_"

// Token is an API token of a machine client, acting for a user with the user's role. Only the
// hash of its secret is stored.
type Token struct {
	ID         int64
	UserID     int64
	Username   string
	Name       string
	Prefix     string // the first characters of the secret
	CreatedAt  time.Time
	LastUsedAt *time.Time
	RevokedAt  *time.Time
}

// TokenService manages API tokens. A user manages their own; an admin anyone's.
type TokenService interface {
	// CreateToken makes a token acting for user userID and returns its secret, which is never
	// shown again. Returns EINVALID (bad name), ECONFLICT (the user has a live token of that
	// name), ENOTFOUND or EFORBIDDEN.
	CreateToken(ctx context.Context, userID int64, name string) (secret string, t *Token, err error)
	// ListTokens returns the tokens the caller may see, revoked ones included, oldest first.
	ListTokens(ctx context.Context) ([]*Token, error)
	// RevokeToken revokes a live token. Returns ENOTFOUND (also for another user's token).
	RevokeToken(ctx context.Context, id int64) error
}

// NewTokenSecret returns a fresh secret: the prefix and 256 random bits in base32.
func NewTokenSecret() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (it panics if the OS cannot supply)
	return TokenPrefix + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b))
}

// HashTokenSecret returns the stored form of a secret.
func HashTokenSecret(secret string) []byte {
	h := sha256.Sum256([]byte(secret))
	return h[:]
}
