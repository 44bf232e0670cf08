package web

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/vungtrong/vungtrong/registry"
)

// userJSON is an account as the API shows it (never a password or its hash).
type userJSON struct {
	ID                 int64                   `json:"id"`
	Username           string                  `json:"username,omitempty"`
	Phone              string                  `json:"phone,omitempty"`
	DisplayName        string                  `json:"display_name"`
	Role               string                  `json:"role"`
	ProducerID         *int64                  `json:"producer_id,omitempty"`
	Jurisdictions      []registry.Jurisdiction `json:"jurisdictions,omitempty"`
	MustChangePassword bool                    `json:"must_change_password"`
	Disabled           bool                    `json:"disabled"`
	LastLoginAt        *time.Time              `json:"last_login_at,omitempty"`
	CreatedAt          time.Time               `json:"created_at"`
}

func toUserJSON(u *registry.User) userJSON {
	return userJSON{ID: u.ID, Username: u.Username, Phone: u.Phone, DisplayName: u.DisplayName, Role: u.Role, ProducerID: u.ProducerID,
		Jurisdictions: u.Jurisdictions, MustChangePassword: u.MustChangePassword, Disabled: u.DisabledAt != nil,
		LastLoginAt: u.LastLoginAt, CreatedAt: u.CreatedAt}
}

// readJSONObject reads a body that must be application/json (so that no cross-site form can
// send it) into v.
func (s *Server) readJSONObject(w http.ResponseWriter, r *http.Request, v any) error {
	if ct := r.Header.Get("Content-Type"); !isJSONType(ct) {
		return registry.Errorf(registry.EUNSUPPORTED, "send this request as application/json")
	}
	body, err := readBody(w, r, 64<<10, contentTypeJSON)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(body, v); err != nil {
		return registry.Errorf(registry.EINVALID, "the body does not have the fields this endpoint takes: %v", err)
	}
	return nil
}

// setSessionCookies gives the browser its session: the secret in an HttpOnly cookie, the CSRF
// token in one the page can read.
func (s *Server) setSessionCookies(w http.ResponseWriter, r *http.Request, sess *registry.Session) {
	secure := s.secure(r)
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: sess.Secret, Path: "/", Expires: sess.ExpiresAt, HttpOnly: true, Secure: secure, SameSite: http.SameSiteLaxMode})
	http.SetCookie(w, &http.Cookie{Name: csrfCookie, Value: sess.CSRFToken, Path: "/", Expires: sess.ExpiresAt, Secure: secure, SameSite: http.SameSiteLaxMode})
}

func (s *Server) clearSessionCookies(w http.ResponseWriter, r *http.Request) {
	for _, name := range []string{sessionCookie, csrfCookie} {
		http.SetCookie(w, &http.Cookie{Name: name, Value: "", Path: "/", MaxAge: -1, HttpOnly: name == sessionCookie, Secure: s.secure(r), SameSite: http.SameSiteLaxMode})
	}
}

type sessionResponse struct {
	SignedIn  bool       `json:"signed_in"`
	User      *userJSON  `json:"user,omitempty"`
	Via       string     `json:"via,omitempty"` // "session" or "token"
	CSRFToken string     `json:"csrf_token,omitempty"`
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
}

// handleLogin answers "POST /api/v1/auth/login" {"login": username or phone, "password"}.
func (s *Server) handleLogin(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Login    string `json:"login"`
		Password string `json:"password"`
	}
	if err := s.readJSONObject(w, r, &in); err != nil {
		return err
	}
	if in.Login == "" || in.Password == "" {
		return registry.Errorf(registry.EINVALID, "send your user name (or phone number) as \"login\" and your \"password\"")
	}
	sess, u, err := s.svc.Auth.Login(r.Context(), in.Login, in.Password, s.clientAddr(r))
	if err != nil {
		s.svc.Metrics.loginFailed("password", err)
		return err
	}
	return s.startSession(w, r, sess, u)
}

func (s *Server) startSession(w http.ResponseWriter, r *http.Request, sess *registry.Session, u *registry.User) error {
	s.setSessionCookies(w, r, sess)
	uj := toUserJSON(u)
	writeJSON(w, http.StatusOK, sessionResponse{SignedIn: true, User: &uj, Via: "session", CSRFToken: sess.CSRFToken, ExpiresAt: &sess.ExpiresAt})
	return nil
}

// handleCodeRequest answers "POST /api/v1/auth/code" {"phone"}: a farmer asks for a one-time
// sign-in code. The answer is the same whether the phone has an account or not.
func (s *Server) handleCodeRequest(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Phone string `json:"phone"`
	}
	if err := s.readJSONObject(w, r, &in); err != nil {
		return err
	}
	if err := s.svc.Auth.RequestCode(r.Context(), in.Phone, s.clientAddr(r)); err != nil {
		return err
	}
	writeJSON(w, http.StatusAccepted, map[string]string{"message": "if this phone number has an account, a code is on its way"})
	return nil
}

// handleCodeLogin answers "POST /api/v1/auth/code/verify" {"phone", "code"}.
func (s *Server) handleCodeLogin(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Phone string `json:"phone"`
		Code  string `json:"code"`
	}
	if err := s.readJSONObject(w, r, &in); err != nil {
		return err
	}
	sess, u, err := s.svc.Auth.LoginWithCode(r.Context(), in.Phone, in.Code, s.clientAddr(r))
	if err != nil {
		s.svc.Metrics.loginFailed("code", err)
		return err
	}
	return s.startSession(w, r, sess, u)
}

// handleSession answers "GET /api/v1/auth/session": who is signed in (and the CSRF token the
// page needs), or signed_in false.
func (s *Server) handleSession(w http.ResponseWriter, r *http.Request) error {
	a, _ := registry.ActorFromContext(r.Context())
	if a.Anonymous() {
		writeJSON(w, http.StatusOK, sessionResponse{})
		return nil
	}
	u, err := s.svc.Users.FindUserByID(r.Context(), a.UserID)
	if err != nil {
		return err
	}
	resp := sessionResponse{SignedIn: true, Via: a.Kind}
	uj := toUserJSON(u)
	resp.User = &uj
	if a.Kind == "user" {
		resp.Via = "session"
		if c, err := r.Cookie(csrfCookie); err == nil {
			resp.CSRFToken = c.Value
		}
	}
	writeJSON(w, http.StatusOK, resp)
	return nil
}

// handleLogout answers "POST /api/v1/auth/logout".
func (s *Server) handleLogout(w http.ResponseWriter, r *http.Request) error {
	if c, err := r.Cookie(sessionCookie); err == nil {
		if err := s.svc.Auth.Logout(r.Context(), c.Value); err != nil {
			return err
		}
	}
	s.clearSessionCookies(w, r)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// handlePasswordChange answers "POST /api/v1/auth/password" {"current_password", "new_password"}.
func (s *Server) handlePasswordChange(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Current string `json:"current_password"`
		New     string `json:"new_password"`
	}
	if err := s.readJSONObject(w, r, &in); err != nil {
		return err
	}
	var keep string
	if a, _ := registry.ActorFromContext(r.Context()); a.Kind == "user" {
		if c, err := r.Cookie(sessionCookie); err == nil {
			keep = c.Value
		}
	}
	if err := s.svc.Auth.ChangePassword(r.Context(), in.Current, in.New, s.clientAddr(r), keep); err != nil {
		s.svc.Metrics.loginFailed("password_change", err)
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
