package postgres

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"math/big"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/vungtrong/vungtrong/registry"
	"github.com/vungtrong/vungtrong/vntext"
)

// AuthService signs people in: passwords, one-time codes, sessions, API tokens.
type AuthService struct {
	db *DB
	// SessionTTL is how long a session lasts after sign-in.
	SessionTTL time.Duration
	// MaxFailures failed sign-ins of one account, or from one address, within Window block
	// further attempts until the window ends.
	MaxFailures int
	Window      time.Duration
	// Sender delivers one-time codes; nil disables sign-in by code.
	Sender registry.CodeSender
	// CodeTTL is how long a one-time code is valid.
	CodeTTL time.Duration
}

var _ registry.AuthService = (*AuthService)(nil)

// NewAuthService returns an AuthService with 12-hour sessions and a block after 10 failures
// in 15 minutes.
func NewAuthService(db *DB) *AuthService {
	return &AuthService{db: db, SessionTTL: 12 * time.Hour, MaxFailures: 10, Window: 15 * time.Minute, CodeTTL: 5 * time.Minute}
}

func randomToken(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func hashKey(parts ...string) []byte {
	h := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	return h[:]
}

// throttleKeys are the counters a sign-in attempt counts against: the account and the address.
// The account is named by its id when the login names one (so that every spelling of a phone
// number, and the user name, share one counter), else by the login as the lookup normalises it.
func throttleKeys(kind string, userID int64, login, addr string) [][]byte {
	account := "login:" + normalLogin(login)
	if userID != 0 {
		account = "user:" + strconv.FormatInt(userID, 10)
	}
	return [][]byte{hashKey(kind, account), hashKey("addr", addr)}
}

// normalLogin is a login as findByLogin compares it: a phone number in its +84 form, else the
// user name in lower case.
func normalLogin(login string) string {
	if p := registry.NormalizePhone(login); strings.HasPrefix(p, "+") {
		return p
	}
	return strings.ToLower(vntext.Clean(login))
}

// checkThrottle returns ETOOMANY with the time left when a key failed too often in its window.
func (s *AuthService) checkThrottle(ctx context.Context, keys [][]byte) error {
	var left *time.Duration
	err := s.db.Pool.QueryRow(ctx, `
		SELECT max(window_start + $2::interval - now()) FROM auth_throttle
		WHERE key = ANY($1) AND failures >= $3 AND window_start + $2::interval > now()`,
		keys, s.Window, s.MaxFailures).Scan(&left)
	if err != nil {
		return err
	}
	if left != nil && *left > 0 {
		return &registry.Error{Code: registry.ETOOMANY, RetryAfter: *left,
			Message: fmt.Sprintf("too many failed sign-ins for this account or from this address: try again in %d minutes, or ask an officer to reset the password", int(left.Minutes())+1)}
	}
	return nil
}

// recordFailure counts a failed attempt against every key, starting a new window where the
// last one ended.
func (s *AuthService) recordFailure(ctx context.Context, keys [][]byte) {
	for _, k := range keys {
		_, err := s.db.Pool.Exec(context.WithoutCancel(ctx), `
			INSERT INTO auth_throttle (key, failures, window_start) VALUES ($1, 1, now())
			ON CONFLICT (key) DO UPDATE SET
			  failures = CASE WHEN auth_throttle.window_start + $2::interval <= now() THEN 1 ELSE auth_throttle.failures + 1 END,
			  window_start = CASE WHEN auth_throttle.window_start + $2::interval <= now() THEN now() ELSE auth_throttle.window_start END`,
			k, s.Window)
		if err != nil {
			s.db.log.Error("recording a failed sign-in", "err", err)
		}
	}
}

func (s *AuthService) clearFailures(ctx context.Context, keys [][]byte) {
	if _, err := s.db.Pool.Exec(ctx, `DELETE FROM auth_throttle WHERE key = ANY($1)`, keys); err != nil {
		s.db.log.Error("clearing sign-in failures", "err", err)
	}
}

// errBadCredentials is the one answer to a wrong name, a wrong password and a disabled account.
func errBadCredentials() error {
	return registry.Errorf(registry.EUNAUTHORIZED, "wrong user name, phone number or password")
}

// Login checks the credentials and opens a session.
func (s *AuthService) Login(ctx context.Context, login, password, addr string) (*registry.Session, *registry.User, error) {
	u, hash, err := findByLogin(ctx, s.db.Pool, login)
	if err != nil && registry.ErrorCode(err) != registry.ENOTFOUND {
		return nil, nil, err
	}
	var userID int64
	if u != nil {
		userID = u.ID
	}
	keys := throttleKeys("login", userID, login, addr)
	if err := s.checkThrottle(ctx, keys); err != nil {
		return nil, nil, err
	}
	if registry.ErrorCode(err) == registry.ENOTFOUND {
		registry.VerifyNoAccount(password)
		s.recordFailure(ctx, keys)
		return nil, nil, errBadCredentials()
	}
	if !registry.VerifyPassword(hash, password) || u.DisabledAt != nil {
		s.recordFailure(ctx, keys)
		return nil, nil, errBadCredentials()
	}
	s.clearFailures(ctx, keys)
	sess, err := s.openSession(ctx, u.ID)
	return sess, u, err
}

func (s *AuthService) openSession(ctx context.Context, userID int64) (*registry.Session, error) {
	sess := &registry.Session{Secret: randomToken(32), CSRFToken: randomToken(24)}
	err := s.db.Pool.QueryRow(ctx, `
		WITH s AS (INSERT INTO user_session (token_hash, user_id, csrf_token, expires_at) VALUES ($1, $2, $3, now() + $4::interval) RETURNING expires_at),
		     u AS (UPDATE app_user SET last_login_at = now() WHERE id = $2)
		SELECT expires_at FROM s`,
		hashKey(sess.Secret), userID, sess.CSRFToken, s.SessionTTL).Scan(&sess.ExpiresAt)
	if err != nil {
		return nil, err
	}
	// Now and then, forget expired sessions.
	if b := hashKey(sess.Secret); b[0] == 0 {
		_, _ = s.db.Pool.Exec(ctx, `DELETE FROM user_session WHERE expires_at < now()`)
	}
	return sess, nil
}

// Logout ends the session.
func (s *AuthService) Logout(ctx context.Context, secret string) error {
	_, err := s.db.Pool.Exec(ctx, `DELETE FROM user_session WHERE token_hash = $1`, hashKey(secret))
	return err
}

// SessionActor returns the actor of a live session of an enabled account, with its CSRF token.
func (s *AuthService) SessionActor(ctx context.Context, secret string) (registry.Actor, string, error) {
	var csrf string
	var userID int64
	err := s.db.Pool.QueryRow(ctx, `
		UPDATE user_session SET last_seen_at = now() WHERE token_hash = $1 AND expires_at > now()
		RETURNING user_id, csrf_token`, hashKey(secret)).Scan(&userID, &csrf)
	if errors.Is(err, pgx.ErrNoRows) {
		return registry.Actor{}, "", registry.Errorf(registry.EUNAUTHORIZED, "your session has ended: sign in again")
	} else if err != nil {
		return registry.Actor{}, "", err
	}
	u, _, err := scanUser(s.db.Pool.QueryRow(ctx, `SELECT `+userColumns+` FROM app_user u WHERE u.id = $1 AND u.disabled_at IS NULL`, userID))
	if errors.Is(err, pgx.ErrNoRows) {
		return registry.Actor{}, "", registry.Errorf(registry.EUNAUTHORIZED, "this account is disabled")
	} else if err != nil {
		return registry.Actor{}, "", err
	}
	return u.Actor("user", cmpOr(u.Username, registry.MaskPhone(u.Phone))), csrf, nil
}

// TokenActor returns the actor of a live token of an enabled account.
func (s *AuthService) TokenActor(ctx context.Context, secret string) (registry.Actor, error) {
	var userID *int64
	var name string
	err := s.db.Pool.QueryRow(ctx, `
		UPDATE api_token SET last_used_at = now() WHERE token_hash = $1 AND revoked_at IS NULL
		RETURNING user_id, name`, registry.HashTokenSecret(secret)).Scan(&userID, &name)
	if errors.Is(err, pgx.ErrNoRows) {
		return registry.Actor{}, registry.Errorf(registry.EUNAUTHORIZED, "the API token is not valid or has been revoked")
	} else if err != nil {
		return registry.Actor{}, err
	}
	if userID == nil {
		return registry.Actor{}, registry.Errorf(registry.EUNAUTHORIZED, "API token %q was made before accounts existed and acts for nobody: create a new one with `vungtrong token create NAME --user USER`", name)
	}
	u, _, err := scanUser(s.db.Pool.QueryRow(ctx, `SELECT `+userColumns+` FROM app_user u WHERE u.id = $1 AND u.disabled_at IS NULL`, *userID))
	if errors.Is(err, pgx.ErrNoRows) {
		return registry.Actor{}, registry.Errorf(registry.EUNAUTHORIZED, "the API token's account is disabled")
	} else if err != nil {
		return registry.Actor{}, err
	}
	a := u.Actor("token", name)
	a.MustChangePassword = false // a token is not a password sign-in
	return a, nil
}

// ChangePassword changes the signed-in user's own password. Wrong current passwords count
// against the account and the address as failed sign-ins do. On success every other session of
// the account ends (keepSession, the secret of the session making the change, stays signed in)
// and every API token of the account is revoked: whoever knew the old password may have made one.
func (s *AuthService) ChangePassword(ctx context.Context, oldPassword, newPassword, addr, keepSession string) error {
	a, _ := registry.ActorFromContext(ctx)
	if a.UserID == 0 {
		return registry.Errorf(registry.EUNAUTHORIZED, "sign in to change your password")
	}
	// Counted apart from sign-ins: a user who mistypes their current password must not lock
	// their colleagues at the same address out of signing in.
	keys := [][]byte{hashKey("password", "user:"+strconv.FormatInt(a.UserID, 10)), hashKey("password-addr", addr)}
	if err := s.checkThrottle(ctx, keys); err != nil {
		return err
	}
	if err := registry.CheckPassword(newPassword); err != nil {
		return err
	}
	if oldPassword == newPassword {
		return registry.Invalid([]registry.Detail{{Field: "new_password", Message: "the new password must differ from the old one"}})
	}
	wrong := false
	err := s.db.Transact(ctx, func(tx pgx.Tx) error {
		var hash string
		if err := tx.QueryRow(ctx, `SELECT password_hash FROM app_user WHERE id = $1 FOR UPDATE`, a.UserID).Scan(&hash); err != nil {
			return err
		}
		if !registry.VerifyPassword(hash, oldPassword) {
			wrong = true
			return registry.Errorf(registry.EUNAUTHORIZED, "the current password is wrong")
		}
		if _, err := tx.Exec(ctx, `UPDATE app_user SET password_hash = $2, must_change_password = false, version = version + 1, updated_at = now(), updated_by = $3 WHERE id = $1`,
			a.UserID, registry.HashPassword(newPassword), a.String()); err != nil {
			return err
		}
		ended, revoked, err := endCredentials(ctx, tx, a.UserID, keepSession)
		if err != nil {
			return err
		}
		return audit(ctx, tx, auditEntry{Action: "user.password", ObjectType: "app_user", ObjectID: a.UserID,
			Reason: fmt.Sprintf("own password changed; %d other sessions ended, %d API tokens revoked", ended, revoked),
			Before: []byte(`{"must_change_password":` + fmt.Sprint(a.MustChangePassword) + `}`), After: []byte(`{"must_change_password":false}`)})
	})
	if wrong {
		s.recordFailure(ctx, keys)
		s.db.auditRefusal(ctx, auditEntry{Action: "user.password", Outcome: "denied", ObjectType: "app_user", ObjectID: a.UserID, Reason: "wrong current password"})
	} else if err == nil {
		s.clearFailures(ctx, keys)
	}
	return err
}

// endCredentials ends the sessions of a user (but the one whose secret is keepSession, if any)
// and revokes their API tokens, after a password change or reset. It returns how many of each.
func endCredentials(ctx context.Context, tx pgx.Tx, userID int64, keepSession string) (sessions, tokens int64, err error) {
	var keep []byte
	if keepSession != "" {
		keep = hashKey(keepSession)
	}
	tag, err := tx.Exec(ctx, `DELETE FROM user_session WHERE user_id = $1 AND ($2::bytea IS NULL OR token_hash <> $2)`, userID, keep)
	if err != nil {
		return 0, 0, err
	}
	sessions = tag.RowsAffected()
	tag, err = tx.Exec(ctx, `UPDATE api_token SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL`, userID)
	if err != nil {
		return 0, 0, err
	}
	return sessions, tag.RowsAffected(), nil
}

// RequestCode sends a one-time code to a farmer's phone; the answer is the same whether the
// phone has an account or not.
func (s *AuthService) RequestCode(ctx context.Context, phone, addr string) error {
	if s.Sender == nil {
		return registry.Errorf(registry.EUNAVAILABLE, "sign-in codes are not configured on this server: sign in with your password")
	}
	phone = registry.NormalizePhone(phone)
	keys := throttleKeys("code", 0, phone, addr)
	if err := s.checkThrottle(ctx, keys); err != nil {
		return err
	}
	// Every request counts, so that nobody can make us send a phone a flood of messages.
	s.recordFailure(ctx, keys)
	u, _, err := findByLogin(ctx, s.db.Pool, phone)
	if err != nil || u.Role != registry.RoleFarmer || u.DisabledAt != nil {
		return nil
	}
	n, _ := rand.Int(rand.Reader, big.NewInt(1000000))
	code := fmt.Sprintf("%06d", n.Int64())
	if _, err := s.db.Pool.Exec(ctx, `
		INSERT INTO one_time_code (phone, code_hash, attempts, expires_at) VALUES ($1, $2, 0, now() + $3::interval)
		ON CONFLICT (phone) DO UPDATE SET code_hash = EXCLUDED.code_hash, attempts = 0, expires_at = EXCLUDED.expires_at`,
		phone, hashKey(phone, code), s.CodeTTL); err != nil {
		return err
	}
	return s.Sender.SendCode(ctx, phone, code)
}

// LoginWithCode checks a one-time code (at most 5 tries) and opens a session.
func (s *AuthService) LoginWithCode(ctx context.Context, phone, code, addr string) (*registry.Session, *registry.User, error) {
	phone = registry.NormalizePhone(phone)
	var userID int64
	if u, _, err := findByLogin(ctx, s.db.Pool, phone); err == nil {
		userID = u.ID
	}
	keys := throttleKeys("login", userID, phone, addr)
	if err := s.checkThrottle(ctx, keys); err != nil {
		return nil, nil, err
	}
	var stored []byte
	err := s.db.Pool.QueryRow(ctx, `
		UPDATE one_time_code SET attempts = attempts + 1 WHERE phone = $1 AND expires_at > now() AND attempts < 5
		RETURNING code_hash`, phone).Scan(&stored)
	if err != nil || subtle.ConstantTimeCompare(stored, hashKey(phone, strings.TrimSpace(code))) != 1 {
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return nil, nil, err
		}
		s.recordFailure(ctx, keys)
		return nil, nil, registry.Errorf(registry.EUNAUTHORIZED, "the code is wrong or has expired: ask for a new one")
	}
	if _, err := s.db.Pool.Exec(ctx, `DELETE FROM one_time_code WHERE phone = $1`, phone); err != nil {
		return nil, nil, err
	}
	u, _, err := findByLogin(ctx, s.db.Pool, phone)
	if err != nil || u.DisabledAt != nil {
		return nil, nil, errBadCredentials()
	}
	s.clearFailures(ctx, keys)
	sess, err := s.openSession(ctx, u.ID)
	return sess, u, err
}
