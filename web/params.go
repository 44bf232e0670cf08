package web

import (
	"encoding/base64"
	"math"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"
	"github.com/paulmach/orb"
	"github.com/vungtrong/vungtrong/registry"
)

// pathID parses the {id} of a route.
func pathID(r *http.Request, what string) (int64, error) {
	raw := chi.URLParam(r, "id")
	id, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || id <= 0 {
		return 0, registry.Errorf(registry.ENOTFOUND, "%s %q not found: ids are positive numbers", what, raw)
	}
	return id, nil
}

// parseBBox parses "minLon,minLat,maxLon,maxLat" (WGS 84 degrees).
func parseBBox(s string) (*orb.Bound, error) {
	if s == "" {
		return nil, nil
	}
	parts := strings.Split(s, ",")
	if len(parts) != 4 {
		return nil, registry.Errorf(registry.EMALFORMED, "bbox must be 4 numbers minLon,minLat,maxLon,maxLat, e.g. bbox=108.0,12.6,108.2,12.8")
	}
	var v [4]float64
	for i, p := range parts {
		f, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, registry.Errorf(registry.EMALFORMED, "bbox value %d (%q) is not a number", i+1, p)
		}
		v[i] = f
	}
	if v[0] > v[2] || v[1] > v[3] {
		return nil, registry.Errorf(registry.EMALFORMED, "bbox minimum is above its maximum: the order is minLon,minLat,maxLon,maxLat")
	}
	if v[0] < -180 || v[2] > 180 || v[1] < -90 || v[3] > 90 {
		return nil, registry.Errorf(registry.EMALFORMED, "bbox is outside longitude -180..180 / latitude -90..90: use WGS 84 degrees, longitude first")
	}
	return &orb.Bound{Min: orb.Point{v[0], v[1]}, Max: orb.Point{v[2], v[3]}}, nil
}

var (
	communeParamRE  = regexp.MustCompile(`^[0-9]{5}$`)
	provinceParamRE = regexp.MustCompile(`^[0-9]{2}$`)
)

// listParams are the parameters every list shares.
type listParams struct {
	limit int
	after int64
}

func (s *Server) parseList(q url.Values) (listParams, error) {
	p := listParams{limit: s.cfg.PageSize}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > s.cfg.MaxPageSize {
			return p, registry.Errorf(registry.EMALFORMED, "limit must be a number from 1 to %d", s.cfg.MaxPageSize)
		}
		p.limit = n
	}
	if v := q.Get("cursor"); v != "" {
		after, ok := decodeCursor(v)
		if !ok {
			return p, registry.Errorf(registry.EMALFORMED, "cursor %q is not one this server gave out: use the next link of the previous page", v)
		}
		p.after = after
	}
	return p, nil
}

func optionalID(q url.Values, name string) (int64, error) {
	v := q.Get(name)
	if v == "" {
		return 0, nil
	}
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id <= 0 {
		return 0, registry.Errorf(registry.EMALFORMED, "%s must be a positive id, not %q", name, v)
	}
	return id, nil
}

func codeParam(q url.Values, name string, re *regexp.Regexp, example string) (string, error) {
	v := strings.TrimSpace(q.Get(name))
	if v != "" && !re.MatchString(v) {
		return "", registry.Errorf(registry.EMALFORMED, "%s must be a GSO code like %s, not %q", name, example, v)
	}
	return v, nil
}

// A cursor is the last id of a page, opaque to clients.
func encodeCursor(after int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte("a" + strconv.FormatInt(after, 10)))
}

func decodeCursor(s string) (int64, bool) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) < 2 || b[0] != 'a' {
		return 0, false
	}
	n, err := strconv.ParseInt(string(b[1:]), 10, 64)
	return n, err == nil && n > 0
}

// nextLink returns the URL of the next page: this request's URL with the cursor replaced.
func nextLink(r *http.Request, next int64) string {
	u := *r.URL
	q := u.Query()
	q.Set("cursor", encodeCursor(next))
	u.RawQuery = q.Encode()
	return u.RequestURI()
}

// etag is a representation's version as an entity tag.
func etag(version int) string { return `"v` + strconv.Itoa(version) + `"` }

// ifMatchVersion returns the version named by the If-Match header. An update without one is
// EPRECONDREQ: silently overwriting someone else's change is what the header prevents.
func ifMatchVersion(r *http.Request) (int, error) {
	h := strings.TrimSpace(r.Header.Get("If-Match"))
	if h == "" {
		return 0, registry.Errorf(registry.EPRECONDREQ, "send the ETag of the version you read in an If-Match header, so that a change made since is not overwritten")
	}
	if h == "*" {
		return 0, registry.Errorf(registry.EPRECONDREQ, "If-Match: * would overwrite any version: send the ETag of the version you read")
	}
	h = strings.TrimPrefix(h, "W/")
	if v, ok := strings.CutPrefix(strings.Trim(h, `"`), "v"); ok {
		if n, err := strconv.Atoi(v); err == nil && n > 0 {
			return n, nil
		}
	}
	return 0, registry.Errorf(registry.EPRECONDITION, "If-Match %s is not an ETag of this resource (they look like \"v3\")", h)
}
