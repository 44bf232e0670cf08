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

// Token is an API token of a machine client. Only the hash of its secret is stored.
type Token struct {
	ID         int64
	Name       string
	Prefix     string // the first characters of the secret
	CreatedAt  time.Time
	LastUsedAt *time.Time
	RevokedAt  *time.Time
}

// TokenService manages API tokens.
type TokenService interface {
	// CreateToken makes a token and returns its secret, which is never shown again.
	// Returns EINVALID (bad name) or ECONFLICT (a live token has that name).
	CreateToken(ctx context.Context, name string) (secret string, t *Token, err error)
	// Authenticate returns the live token whose secret this is. Returns EUNAUTHORIZED.
	Authenticate(ctx context.Context, secret string) (*Token, error)
	// ListTokens returns every token, revoked ones included, oldest first.
	ListTokens(ctx context.Context) ([]*Token, error)
	// RevokeToken revokes the live token with this name. Returns ENOTFOUND.
	RevokeToken(ctx context.Context, name string) error
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
