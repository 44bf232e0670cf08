package web

import (
	"net/http"
	"strconv"
	"time"

	"github.com/vungtrong/vungtrong/registry"
)

// handleUserList answers "GET /api/v1/users?role=&limit=&cursor=": the accounts the caller may see.
func (s *Server) handleUserList(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	lp, err := s.parseList(q)
	if err != nil {
		return err
	}
	users, next, err := s.svc.Users.FindUsers(r.Context(), registry.UserFilter{Role: q.Get("role"), After: lp.after, Limit: lp.limit})
	if err != nil {
		return err
	}
	out := make([]userJSON, len(users))
	for i, u := range users {
		out[i] = toUserJSON(u)
	}
	resp := map[string]any{"users": out, "numberReturned": len(out)}
	if next != 0 {
		resp["next_cursor"] = encodeCursor(next)
	}
	writeJSON(w, http.StatusOK, resp)
	return nil
}

// handleUserGet answers "GET /api/v1/users/{id}".
func (s *Server) handleUserGet(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "user")
	if err != nil {
		return err
	}
	u, err := s.svc.Users.FindUserByID(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toUserJSON(u))
	return nil
}

// handleUserCreate answers "POST /api/v1/users". Without a "password", one is made up, returned
// once in the answer, and must be changed at first sign-in.
func (s *Server) handleUserCreate(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Username      string                  `json:"username"`
		Phone         string                  `json:"phone"`
		DisplayName   string                  `json:"display_name"`
		Role          string                  `json:"role"`
		ProducerID    *int64                  `json:"producer_id"`
		Jurisdictions []registry.Jurisdiction `json:"jurisdictions"`
		Password      string                  `json:"password"`
	}
	if err := s.readJSONObject(w, r, &in); err != nil {
		return err
	}
	u := &registry.User{Username: in.Username, Phone: in.Phone, DisplayName: in.DisplayName, Role: in.Role, ProducerID: in.ProducerID, Jurisdictions: in.Jurisdictions}
	password, generated := in.Password, in.Password == ""
	if generated {
		password = registry.NewPassword()
		u.MustChangePassword = true
	}
	if err := s.svc.Users.CreateUser(r.Context(), u, password); err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/users/"+strconv.FormatInt(u.ID, 10))
	resp := map[string]any{"user": toUserJSON(u)}
	if generated {
		resp["password"] = password
	}
	writeJSON(w, http.StatusCreated, resp)
	return nil
}

// handleUserPassword answers "POST /api/v1/users/{id}/password" {"password", "must_change"}:
// an officer or cooperative sets a farmer's password (made up and returned once when absent).
func (s *Server) handleUserPassword(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "user")
	if err != nil {
		return err
	}
	var in struct {
		Password   string `json:"password"`
		MustChange *bool  `json:"must_change"`
	}
	if err := s.readJSONObject(w, r, &in); err != nil {
		return err
	}
	password, generated := in.Password, in.Password == ""
	if generated {
		password = registry.NewPassword()
	}
	mustChange := generated
	if in.MustChange != nil {
		mustChange = *in.MustChange
	}
	if err := s.svc.Users.SetPassword(r.Context(), id, password, mustChange); err != nil {
		return err
	}
	resp := map[string]any{"must_change_password": mustChange}
	if generated {
		resp["password"] = password
	}
	writeJSON(w, http.StatusOK, resp)
	return nil
}

// handleUserDisable answers "POST /api/v1/users/{id}/disable".
func (s *Server) handleUserDisable(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "user")
	if err != nil {
		return err
	}
	if err := s.svc.Users.DisableUser(r.Context(), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

type tokenJSON struct {
	ID         int64      `json:"id"`
	UserID     int64      `json:"user_id"`
	User       string     `json:"user"`
	Name       string     `json:"name"`
	Prefix     string     `json:"prefix"`
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at,omitempty"`
	RevokedAt  *time.Time `json:"revoked_at,omitempty"`
}

func toTokenJSON(t *registry.Token) tokenJSON {
	return tokenJSON{ID: t.ID, UserID: t.UserID, User: t.Username, Name: t.Name, Prefix: t.Prefix, CreatedAt: t.CreatedAt, LastUsedAt: t.LastUsedAt, RevokedAt: t.RevokedAt}
}

// handleTokenList answers "GET /api/v1/tokens": the caller's tokens (an admin's: all).
func (s *Server) handleTokenList(w http.ResponseWriter, r *http.Request) error {
	tokens, err := s.svc.Tokens.ListTokens(r.Context())
	if err != nil {
		return err
	}
	out := make([]tokenJSON, len(tokens))
	for i, t := range tokens {
		out[i] = toTokenJSON(t)
	}
	writeJSON(w, http.StatusOK, map[string]any{"tokens": out})
	return nil
}

// handleTokenCreate answers "POST /api/v1/tokens" {"name", "user_id"}: a token for the caller
// (an admin may make one for another user). The secret is in the answer, once.
func (s *Server) handleTokenCreate(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Name   string `json:"name"`
		UserID int64  `json:"user_id"`
	}
	if err := s.readJSONObject(w, r, &in); err != nil {
		return err
	}
	a, _ := registry.ActorFromContext(r.Context())
	if in.UserID == 0 {
		in.UserID = a.UserID
	}
	secret, t, err := s.svc.Tokens.CreateToken(r.Context(), in.UserID, in.Name)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, map[string]any{"token": toTokenJSON(t), "secret": secret})
	return nil
}

// handleTokenRevoke answers "DELETE /api/v1/tokens/{id}".
func (s *Server) handleTokenRevoke(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "token")
	if err != nil {
		return err
	}
	if err := s.svc.Tokens.RevokeToken(r.Context(), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// handleAuditList answers "GET /api/v1/audit?object_type=&object_id=&actor=&action=&outcome=
// &province=&request_id=&since=&until=&limit=&cursor=", newest first. Admins read everything,
// officers their jurisdiction. The log has no route that writes.
func (s *Server) handleAuditList(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	lp, err := s.parseList(q)
	if err != nil {
		return err
	}
	f := registry.AuditFilter{ObjectType: q.Get("object_type"), ObjectID: q.Get("object_id"), Actor: q.Get("actor"),
		Action: q.Get("action"), Outcome: q.Get("outcome"), ProvinceCode: q.Get("province"), RequestID: q.Get("request_id"),
		Before: lp.after, Limit: lp.limit}
	for name, dst := range map[string]**time.Time{"since": &f.Since, "until": &f.Until} {
		if v := q.Get(name); v != "" {
			t, err := time.Parse(time.RFC3339, v)
			if err != nil {
				return registry.Errorf(registry.EMALFORMED, "%s must be an RFC 3339 time such as 2026-11-23T08:00:00+07:00", name)
			}
			*dst = &t
		}
	}
	entries, next, err := s.svc.Audit.FindAuditEntries(r.Context(), f)
	if err != nil {
		return err
	}
	resp := map[string]any{"entries": entries, "numberReturned": len(entries)}
	if next != 0 {
		resp["next_cursor"] = encodeCursor(next)
	}
	writeJSON(w, http.StatusOK, resp)
	return nil
}
