package registry

import (
	"context"
	"regexp"
	"strings"
	"time"

	"github.com/vungtrong/vungtrong/vntext"
)

// Roles.
const (
	RoleAdmin       = "admin"       // everything
	RoleOfficer     = "officer"     // cán bộ: the registry inside their jurisdiction
	RoleCooperative = "cooperative" // HTX / cơ sở: its members' producers and plots
	RoleExporter    = "exporter"    // reads codes and growing areas; its own lots and exports
	RoleFarmer      = "farmer"      // nông hộ: their own producer record and plots
)

// Roles lists every role a user may have.
var Roles = []string{RoleAdmin, RoleOfficer, RoleCooperative, RoleExporter, RoleFarmer}

// Jurisdiction is a province, or one commune of it, where an officer may act.
type Jurisdiction struct {
	ProvinceCode string `json:"province_code"`
	CommuneCode  string `json:"commune_code,omitempty"` // empty: the whole province
	// ProvinceName and CommuneName are filled in by the store, for display.
	ProvinceName string `json:"province_name,omitempty"`
	CommuneName  string `json:"commune_name,omitempty"`
}

// User is a person who signs in.
type User struct {
	ID       int64
	Username string
	// Phone is how a farmer signs in (E.164).
	Phone       string `personal:"true"`
	DisplayName string `personal:"true"`
	Role        string
	// ProducerID is the producer the account speaks for: the household of a farmer, the
	// cooperative, the exporting enterprise.
	ProducerID         *int64
	Jurisdictions      []Jurisdiction
	MustChangePassword bool
	DisabledAt         *time.Time
	LastLoginAt        *time.Time
	CreatedAt          time.Time
	Version            int
}

var usernameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{1,63}$`)

// Normalize cleans the user's fields.
func (u *User) Normalize() {
	u.Username = strings.ToLower(strings.TrimSpace(u.Username))
	u.DisplayName = vntext.Clean(u.DisplayName)
	u.Phone = NormalizePhone(u.Phone)
	u.Role = strings.ToLower(strings.TrimSpace(u.Role))
}

// Validate checks the user. It returns an EINVALID *Error listing every problem.
func (u *User) Validate() error {
	var details []Detail
	bad := func(field, msg string) { details = append(details, Detail{Field: field, Message: msg}) }
	if u.Username != "" && !usernameRE.MatchString(u.Username) {
		bad("username", "username must be 2-64 lower-case letters, digits, dots, dashes or underscores")
	}
	if u.Phone != "" && !phoneRE.MatchString(u.Phone) {
		bad("phone", "phone must be a Vietnamese number such as 0912345678")
	}
	if u.Username == "" && u.Phone == "" {
		bad("username", "a user needs a username, or a phone number to sign in with")
	}
	if u.DisplayName == "" {
		bad("display_name", "display_name is required")
	}
	switch u.Role {
	case RoleAdmin, RoleExporter:
	case RoleOfficer:
		if len(u.Jurisdictions) == 0 {
			bad("jurisdictions", "an officer needs at least one province or commune")
		}
	case RoleCooperative:
	case RoleFarmer:
		if u.Phone == "" {
			bad("phone", "a farmer signs in with a phone number")
		}
	default:
		bad("role", "role must be one of "+strings.Join(Roles, ", "))
	}
	if (u.Role == RoleFarmer || u.Role == RoleCooperative || u.Role == RoleExporter) && u.ProducerID == nil {
		bad("producer_id", "a "+u.Role+" account speaks for a producer: give its producer_id")
	}
	for _, j := range u.Jurisdictions {
		okProvince := provinceCodeRE.MatchString(j.ProvinceCode) || (j.ProvinceCode == "" && j.CommuneCode != "")
		if !okProvince || (j.CommuneCode != "" && !communeCodeRE.MatchString(j.CommuneCode)) {
			bad("jurisdictions", "a jurisdiction is a 2-digit province code, or a 5-digit commune code (with or without its province)")
		}
	}
	if u.Role != RoleOfficer && len(u.Jurisdictions) > 0 {
		bad("jurisdictions", "only officers have jurisdictions")
	}
	if len(details) > 0 {
		return Invalid(details)
	}
	return nil
}

// Actor returns the actor a user's requests act as.
func (u *User) Actor(kind, name string) Actor {
	return Actor{Kind: kind, Name: name, Role: u.Role, UserID: u.ID, ProducerID: u.ProducerID,
		Jurisdictions: u.Jurisdictions, MustChangePassword: u.MustChangePassword}
}

// UserFilter selects users.
type UserFilter struct {
	Role  string
	After int64
	Limit int
}

// UserService manages accounts. Who may manage whom is decided inside (see CanManageUser).
type UserService interface {
	// CreateUser stores u with the password's hash. Returns EINVALID, ECONFLICT (the name or
	// phone is taken) or EFORBIDDEN.
	CreateUser(ctx context.Context, u *User, password string) error
	// FindUserByID returns a user the caller may see. Returns ENOTFOUND.
	FindUserByID(ctx context.Context, id int64) (*User, error)
	// FindUserByLogin returns the user with this username or phone number. Returns ENOTFOUND.
	FindUserByLogin(ctx context.Context, login string) (*User, error)
	// FindUsers returns the users the caller may see.
	FindUsers(ctx context.Context, f UserFilter) ([]*User, int64, error)
	// SetPassword sets a user's password (signs them out everywhere and revokes their API
	// tokens). mustChange makes the
	// user choose a new one at next sign-in. Returns ENOTFOUND, EINVALID or EFORBIDDEN.
	SetPassword(ctx context.Context, id int64, password string, mustChange bool) error
	// DisableUser disables an account, its sessions and tokens. Returns ENOTFOUND or EFORBIDDEN.
	DisableUser(ctx context.Context, id int64) error
	// CountUsers returns how many accounts exist.
	CountUsers(ctx context.Context) (int, error)
}

// Session is a signed-in browser.
type Session struct {
	// Secret is the cookie value, known only to the browser (the store keeps its hash).
	Secret    string
	CSRFToken string
	ExpiresAt time.Time
}

// AuthService signs people in and turns credentials into actors.
type AuthService interface {
	// Login checks a username or phone number and password from addr, and opens a session.
	// Returns EUNAUTHORIZED (wrong credentials, the same for an unknown account) or
	// ETOOMANYREQUESTS with a RetryAfter when the account or address failed too often.
	Login(ctx context.Context, login, password, addr string) (*Session, *User, error)
	// Logout ends the session whose secret this is.
	Logout(ctx context.Context, secret string) error
	// SessionActor returns the actor of a live session and its CSRF token. Returns EUNAUTHORIZED.
	SessionActor(ctx context.Context, secret string) (Actor, string, error)
	// TokenActor returns the actor of a live API token. Returns EUNAUTHORIZED.
	TokenActor(ctx context.Context, secret string) (Actor, error)
	// ChangePassword changes the signed-in user's password, from addr, ends the account's other
	// sessions (all but keepSession, the secret of the session making the change) and revokes its
	// API tokens. Returns EUNAUTHORIZED (wrong old password), ETOOMANY (too many wrong ones) or
	// EINVALID.
	ChangePassword(ctx context.Context, oldPassword, newPassword, addr, keepSession string) error
	// RequestCode sends a one-time sign-in code to a farmer's phone. It answers the same for a
	// phone with no account. Returns ETOOMANYREQUESTS.
	RequestCode(ctx context.Context, phone, addr string) error
	// LoginWithCode checks a one-time code and opens a session. Returns EUNAUTHORIZED or
	// ETOOMANYREQUESTS.
	LoginWithCode(ctx context.Context, phone, code, addr string) (*Session, *User, error)
}

// CodeSender delivers one-time sign-in codes (SMS, Zalo).
type CodeSender interface {
	SendCode(ctx context.Context, phone, code string) error
}

// MaskPhone returns a phone number with its middle hidden, for logs: "+84*****678".
func MaskPhone(phone string) string {
	if len(phone) < 6 {
		return "***"
	}
	return phone[:3] + strings.Repeat("*", len(phone)-6) + phone[len(phone)-3:]
}
