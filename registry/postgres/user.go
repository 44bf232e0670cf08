package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/vungtrong/vungtrong/registry"
)

// UserService manages accounts.
type UserService struct {
	db *DB
	// MaxPageSize caps FindUsers pages.
	MaxPageSize int
}

var _ registry.UserService = (*UserService)(nil)

// NewUserService returns a UserService on db.
func NewUserService(db *DB) *UserService { return &UserService{db: db, MaxPageSize: 1000} }

const userColumns = `u.id, COALESCE(u.username, ''), COALESCE(u.phone, ''), u.display_name, u.role, u.producer_id,
	u.must_change_password, u.disabled_at, u.last_login_at, u.created_at, u.version, u.password_hash,
	COALESCE((SELECT json_agg(json_build_object('province_code', j.province_code, 'commune_code', j.commune_code,
	                                            'province_name', p.name, 'commune_name', COALESCE(c.name, ''))
	          ORDER BY j.province_code, j.commune_code)
	          FROM user_jurisdiction j
	          LEFT JOIN province p ON p.scheme = 2025 AND p.code = j.province_code
	          LEFT JOIN commune c ON c.scheme = 2025 AND c.code = j.commune_code
	          WHERE j.user_id = u.id), '[]')`

// scanUser scans userColumns; the password hash is returned apart and never leaves the store.
func scanUser(row scanner) (*registry.User, string, error) {
	var u registry.User
	var hash string
	var jur []byte
	err := row.Scan(&u.ID, &u.Username, &u.Phone, &u.DisplayName, &u.Role, &u.ProducerID, &u.MustChangePassword,
		&u.DisabledAt, &u.LastLoginAt, &u.CreatedAt, &u.Version, &hash, &jur)
	if err != nil {
		return nil, "", err
	}
	if err := json.Unmarshal(jur, &u.Jurisdictions); err != nil {
		return nil, "", err
	}
	return &u, hash, nil
}

// userScope returns the SQL condition on u (app_user) for the users the caller may see: an
// admin everyone; an officer themselves and the accounts of producers in their jurisdiction; a
// cooperative itself and its members' accounts; anyone else only themselves.
func userScope(a registry.Actor, arg func(any) string) string {
	if a.Role == registry.RoleAdmin {
		return "true"
	}
	self := "u.id = " + arg(a.UserID)
	switch a.Role {
	case registry.RoleOfficer:
		return "(" + self + " OR u.producer_id IN (SELECT id FROM producer WHERE " + jurisdictionSQL(a, "province_code", "commune_code", arg) + "))"
	case registry.RoleCooperative:
		if a.ProducerID != nil {
			return "(" + self + " OR u.producer_id IN (SELECT id FROM producer WHERE cooperative_id = " + arg(*a.ProducerID) + "))"
		}
	}
	return self
}

// jurisdictionSQL returns the SQL condition "the row's province and commune are in the
// officer's jurisdiction", on the given columns.
func jurisdictionSQL(a registry.Actor, provinceCol, communeCol string, arg func(any) string) string {
	if len(a.Jurisdictions) == 0 {
		return "false"
	}
	var or []string
	for _, j := range a.Jurisdictions {
		c := provinceCol + " = " + arg(j.ProvinceCode)
		if j.CommuneCode != "" {
			c += " AND " + communeCol + " = " + arg(j.CommuneCode)
		}
		or = append(or, "("+c+")")
	}
	return "(" + strings.Join(or, " OR ") + ")"
}

// FindUserByID returns a user the caller may see. Returns ENOTFOUND.
func (s *UserService) FindUserByID(ctx context.Context, id int64) (*registry.User, error) {
	a, _ := registry.ActorFromContext(ctx)
	args := []any{id}
	arg := func(v any) string { args = append(args, v); return "$" + strconv.Itoa(len(args)) }
	u, _, err := scanUser(s.db.Pool.QueryRow(ctx, `SELECT `+userColumns+` FROM app_user u WHERE u.id = $1 AND `+userScope(a, arg), args...))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, registry.Errorf(registry.ENOTFOUND, "user %d not found", id)
	}
	return u, err
}

// FindUserByLogin returns the user with this username or phone number. Returns ENOTFOUND.
func (s *UserService) FindUserByLogin(ctx context.Context, login string) (*registry.User, error) {
	u, _, err := findByLogin(ctx, s.db.Pool, login)
	return u, err
}

func findByLogin(ctx context.Context, q querier, login string) (*registry.User, string, error) {
	login = strings.TrimSpace(login)
	u, hash, err := scanUser(q.QueryRow(ctx, `SELECT `+userColumns+` FROM app_user u WHERE u.username = lower($1) OR u.phone = $2`,
		login, registry.NormalizePhone(login)))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, "", registry.Errorf(registry.ENOTFOUND, "no such user")
	}
	return u, hash, err
}

// FindUsers returns one page of the users the caller may see, in id order, and the next cursor.
func (s *UserService) FindUsers(ctx context.Context, f registry.UserFilter) ([]*registry.User, int64, error) {
	a, _ := registry.ActorFromContext(ctx)
	limit := pageLimit(f.Limit, s.MaxPageSize)
	args := []any{f.After}
	arg := func(v any) string { args = append(args, v); return "$" + strconv.Itoa(len(args)) }
	where := "u.id > $1 AND " + userScope(a, arg)
	if f.Role != "" {
		where += " AND u.role = " + arg(f.Role)
	}
	rows, err := s.db.Pool.Query(ctx, `SELECT `+userColumns+` FROM app_user u WHERE `+where+` ORDER BY u.id LIMIT `+arg(limit+1), args...)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	var out []*registry.User
	for rows.Next() {
		u, _, err := scanUser(rows)
		if err != nil {
			return nil, 0, err
		}
		out = append(out, u)
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

// CountUsers returns how many accounts exist.
func (s *UserService) CountUsers(ctx context.Context) (int, error) {
	var n int
	err := s.db.Pool.QueryRow(ctx, `SELECT count(*) FROM app_user`).Scan(&n)
	return n, err
}

// producerForAccount checks the producer an account speaks for, and returns its place.
func producerForAccount(ctx context.Context, tx pgx.Tx, u *registry.User) (registry.Place, error) {
	if u.ProducerID == nil {
		return registry.Place{}, nil
	}
	p, err := findProducer(ctx, tx, *u.ProducerID)
	if err != nil {
		return registry.Place{}, &registry.Error{Code: registry.EINVALID, Message: fmt.Sprintf("producer %d does not exist", *u.ProducerID),
			Details: []registry.Detail{{Field: "producer_id", Message: "no such producer"}}}
	}
	want := map[string]string{registry.RoleFarmer: registry.ProducerHousehold, registry.RoleCooperative: registry.ProducerCooperative, registry.RoleExporter: registry.ProducerEnterprise}
	if k, ok := want[u.Role]; ok && p.Kind != k && !(u.Role == registry.RoleExporter && p.Kind == registry.ProducerCooperative) {
		return registry.Place{}, &registry.Error{Code: registry.EINVALID, Message: fmt.Sprintf("a %s account speaks for a %s, and producer %d is a %s", u.Role, k, p.ID, p.Kind),
			Details: []registry.Detail{{Field: "producer_id", Message: "wrong kind of producer"}}}
	}
	return producerPlace(p), nil
}

// CreateUser stores u with the hash of password, if the caller may manage such an account.
func (s *UserService) CreateUser(ctx context.Context, u *registry.User, password string) error {
	u.Normalize()
	if err := u.Validate(); err != nil {
		return err
	}
	if err := registry.CheckPassword(password); err != nil {
		return err
	}
	hash := registry.HashPassword(password)
	a, _ := registry.ActorFromContext(ctx)
	var place registry.Place // the account's producer's, for the audit record of a refusal
	err := s.db.Transact(ctx, func(tx pgx.Tx) error {
		var err error
		if place, err = producerForAccount(ctx, tx, u); err != nil {
			return err
		}
		if !registry.CanManageUser(a, u.Role, place) {
			return registry.Errorf(registry.EFORBIDDEN, "you may not create a %s account for this producer", u.Role)
		}
		err = tx.QueryRow(ctx, `
			INSERT INTO app_user (username, phone, display_name, role, password_hash, must_change_password, producer_id, created_by, updated_by)
			VALUES (NULLIF($1, ''), NULLIF($2, ''), $3, $4, $5, $6, $7, $8, $8) RETURNING id, created_at, version`,
			u.Username, u.Phone, u.DisplayName, u.Role, hash, u.MustChangePassword, u.ProducerID, a.String()).Scan(&u.ID, &u.CreatedAt, &u.Version)
		if err != nil {
			if registry.ErrorCode(mapError(err)) == registry.ECONFLICT {
				return registry.Errorf(registry.ECONFLICT, "an account with this username or phone number exists")
			}
			return mapError(err)
		}
		for i := range u.Jurisdictions {
			j := &u.Jurisdictions[i]
			if err := checkJurisdiction(ctx, tx, j); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `INSERT INTO user_jurisdiction (user_id, province_code, commune_code) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
				u.ID, j.ProvinceCode, j.CommuneCode); err != nil {
				return err
			}
		}
		return audit(ctx, tx, auditEntry{Action: "user.create", ObjectType: "app_user", ObjectID: u.ID, Province: place.ProvinceCode, Commune: place.CommuneCode, After: userJSON(u)})
	})
	if registry.ErrorCode(err) == registry.EFORBIDDEN {
		s.db.auditRefusal(ctx, auditEntry{Action: "user.create", Outcome: "denied", ObjectType: "app_user", Province: place.ProvinceCode, Commune: place.CommuneCode, Reason: registry.ErrorMessage(err)})
	}
	return err
}

// checkJurisdiction checks that a jurisdiction names 2025 units, and fills in the province of
// a commune given alone.
func checkJurisdiction(ctx context.Context, tx pgx.Tx, j *registry.Jurisdiction) error {
	if j.ProvinceCode == "" {
		if err := tx.QueryRow(ctx, `SELECT province_code FROM commune WHERE scheme = 2025 AND code = $1`, j.CommuneCode).Scan(&j.ProvinceCode); err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
	}
	var ok bool
	err := tx.QueryRow(ctx, `SELECT CASE WHEN $2 = '' THEN EXISTS (SELECT 1 FROM province WHERE scheme = 2025 AND code = $1)
	                             ELSE EXISTS (SELECT 1 FROM commune WHERE scheme = 2025 AND province_code = $1 AND code = $2) END`,
		j.ProvinceCode, j.CommuneCode).Scan(&ok)
	if err != nil {
		return err
	}
	if !ok {
		return registry.Invalid([]registry.Detail{{Field: "jurisdictions", Message: fmt.Sprintf("province %s, commune %q is not in the 2025 list", j.ProvinceCode, j.CommuneCode)}})
	}
	return nil
}

// userJSON is an account as the audit log records it: never its password hash.
func userJSON(u *registry.User) []byte {
	b, _ := json.Marshal(map[string]any{"id": u.ID, "username": u.Username, "phone": u.Phone, "display_name": u.DisplayName,
		"role": u.Role, "producer_id": u.ProducerID, "jurisdictions": u.Jurisdictions, "disabled_at": u.DisabledAt,
		"must_change_password": u.MustChangePassword})
	return b
}

// manageable loads user id for a change by the caller: ENOTFOUND if the caller may not see it,
// EFORBIDDEN if it may see but not manage it.
func manageable(ctx context.Context, tx pgx.Tx, id int64) (*registry.User, registry.Place, error) {
	a, _ := registry.ActorFromContext(ctx)
	args := []any{id}
	arg := func(v any) string { args = append(args, v); return "$" + strconv.Itoa(len(args)) }
	u, _, err := scanUser(tx.QueryRow(ctx, `SELECT `+userColumns+` FROM app_user u WHERE u.id = $1 AND `+userScope(a, arg)+` FOR UPDATE OF u`, args...))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, registry.Place{}, registry.Errorf(registry.ENOTFOUND, "user %d not found", id)
	} else if err != nil {
		return nil, registry.Place{}, err
	}
	place, err := producerForAccount(ctx, tx, u)
	if err != nil {
		return nil, registry.Place{}, err
	}
	if !registry.CanManageUser(a, u.Role, place) {
		return nil, place, registry.Errorf(registry.EFORBIDDEN, "you may not manage this %s account", u.Role)
	}
	return u, place, nil
}

// manageWrite runs change on user id in one transaction if the caller may manage the account,
// and audits a refusal (with the account's province) in a transaction of its own.
func (s *UserService) manageWrite(ctx context.Context, id int64, action string, change func(tx pgx.Tx, u *registry.User, place registry.Place) error) error {
	var refused registry.Place
	err := s.db.Transact(ctx, func(tx pgx.Tx) error {
		u, place, err := manageable(ctx, tx, id)
		if err != nil {
			refused = place
			return err
		}
		return change(tx, u, place)
	})
	if registry.ErrorCode(err) == registry.EFORBIDDEN {
		s.db.auditRefusal(ctx, auditEntry{Action: action, Outcome: "denied", ObjectType: "app_user", ObjectID: id,
			Province: refused.ProvinceCode, Commune: refused.CommuneCode, Reason: registry.ErrorMessage(err)})
	}
	return err
}

// SetPassword sets the password of an account the caller manages, signs it out everywhere and
// revokes its API tokens.
func (s *UserService) SetPassword(ctx context.Context, id int64, password string, mustChange bool) error {
	if err := registry.CheckPassword(password); err != nil {
		return err
	}
	hash := registry.HashPassword(password)
	return s.manageWrite(ctx, id, "user.password", func(tx pgx.Tx, u *registry.User, place registry.Place) error {
		if _, err := tx.Exec(ctx, `UPDATE app_user SET password_hash = $2, must_change_password = $3, version = version + 1, updated_at = now(), updated_by = $4 WHERE id = $1`,
			id, hash, mustChange, actorName(ctx)); err != nil {
			return err
		}
		if _, _, err := endCredentials(ctx, tx, id, ""); err != nil {
			return err
		}
		after := *u
		after.MustChangePassword = mustChange
		return audit(ctx, tx, auditEntry{Action: "user.password", ObjectType: "app_user", ObjectID: id, Province: place.ProvinceCode, Commune: place.CommuneCode,
			Reason: "password set", Before: userJSON(u), After: userJSON(&after)})
	})
}

// DisableUser disables an account the caller manages, ends its sessions and revokes its tokens.
func (s *UserService) DisableUser(ctx context.Context, id int64) error {
	return s.manageWrite(ctx, id, "user.disable", func(tx pgx.Tx, u *registry.User, place registry.Place) error {
		if a, _ := registry.ActorFromContext(ctx); a.UserID == id {
			return registry.Errorf(registry.EINVALID, "you cannot disable your own account")
		}
		var after registry.User = *u
		if err := tx.QueryRow(ctx, `UPDATE app_user SET disabled_at = COALESCE(disabled_at, now()), version = version + 1, updated_at = now(), updated_by = $2 WHERE id = $1 RETURNING disabled_at`,
			id, actorName(ctx)).Scan(&after.DisabledAt); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM user_session WHERE user_id = $1`, id); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE api_token SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL`, id); err != nil {
			return err
		}
		return audit(ctx, tx, auditEntry{Action: "user.disable", ObjectType: "app_user", ObjectID: id, Province: place.ProvinceCode, Commune: place.CommuneCode, Before: userJSON(u), After: userJSON(&after)})
	})
}

// EnsureAdmin creates an admin named "admin" when no enabled admin account exists (a fresh
// registry, or one that only holds demo accounts). It returns whether it did. The caller
// prints the password (or took it from configuration).
func (s *UserService) EnsureAdmin(ctx context.Context, password string, mustChange bool) (bool, error) {
	var admins int
	if err := s.db.Pool.QueryRow(ctx, `SELECT count(*) FROM app_user WHERE role = 'admin' AND disabled_at IS NULL`).Scan(&admins); err != nil || admins > 0 {
		return false, err
	}
	u := &registry.User{Username: "admin", DisplayName: "Quản trị viên", Role: registry.RoleAdmin, MustChangePassword: mustChange}
	ctx = registry.NewContextWithActor(ctx, registry.SystemActor("bootstrap"))
	if err := s.CreateUser(ctx, u, password); err != nil {
		if registry.ErrorCode(err) == registry.ECONFLICT {
			return false, nil // another server created it first
		}
		return false, err
	}
	return true, nil
}
