package web

import (
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/paulmach/orb"
	"github.com/vungtrong/vungtrong/registry"
)

// bbox renders a bound as GeoJSON does: [minLon, minLat, maxLon, maxLat].
func bbox(b *orb.Bound) []float64 {
	if b == nil {
		return nil
	}
	return []float64{b.Min[0], b.Min[1], b.Max[0], b.Max[1]}
}

// handleGrowingAreaGet answers "GET /api/v1/growing-areas/{id}": the public view an exporter
// checks (codes per market, packing houses, size).
func (s *Server) handleGrowingAreaGet(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "growing area")
	if err != nil {
		return err
	}
	g, err := s.svc.Lookup.FindGrowingArea(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, struct {
		*registry.GrowingAreaView
		BBox []float64 `json:"bbox,omitempty"`
	}{g, bbox(g.BBox)})
	return nil
}

// handleGrowingAreaCreate answers "POST /api/v1/growing-areas" {"name", "registrant_id",
// "plots": [ids]}: 201 with the area as GET answers it, its size, households and crops derived
// from its plots.
func (s *Server) handleGrowingAreaCreate(w http.ResponseWriter, r *http.Request) error {
	if s.svc.Areas == nil {
		return registry.Errorf(registry.ENOTFOUND, "growing areas cannot be formed on this server")
	}
	var in struct {
		Name         string  `json:"name"`
		RegistrantID *int64  `json:"registrant_id"`
		Plots        []int64 `json:"plots"`
	}
	if err := s.readJSONObject(w, r, &in); err != nil {
		return err
	}
	id, err := s.svc.Areas.CreateGrowingArea(r.Context(), registry.GrowingAreaRequest{Name: in.Name, RegistrantID: in.RegistrantID, PlotIDs: in.Plots})
	if err != nil {
		return err
	}
	g, err := s.svc.Lookup.FindGrowingArea(r.Context(), id)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/growing-areas/"+strconv.FormatInt(id, 10))
	writeJSON(w, http.StatusCreated, struct {
		*registry.GrowingAreaView
		BBox []float64 `json:"bbox,omitempty"`
	}{g, bbox(g.BBox)})
	return nil
}

// handleCodeVisit answers "POST /api/v1/codes/{code}/visits" {"on", "inspectors", "checklist",
// "conclusion", "notes", "suspend": {"reason", "note", "document"}}: an officer records a
// supervision visit (201 with its id), suspending the code in the same step when "suspend" says so.
// Like an inspection it may come as a multipart form: the "visit" (JSON) and its photos.
func (s *Server) handleCodeVisit(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		On         string          `json:"on"`
		Inspectors []string        `json:"inspectors"`
		Checklist  json.RawMessage `json:"checklist"`
		Conclusion string          `json:"conclusion"`
		Notes      string          `json:"notes"`
		Suspend    *struct {
			Reason   string `json:"reason"`
			Note     string `json:"note"`
			Document string `json:"document"`
		} `json:"suspend"`
	}
	photos, err := s.readRecord(w, r, "visit", &in)
	if err != nil {
		return err
	}
	v := registry.Visit{Inspectors: in.Inspectors, Checklist: in.Checklist, Conclusion: in.Conclusion, Notes: in.Notes, Photos: photos}
	if in.Suspend != nil {
		v.Suspend = &registry.CodeStatusChange{To: registry.CodeSuspended, Reason: in.Suspend.Reason, Note: in.Suspend.Note, Document: in.Suspend.Document}
	}
	on, err := parseDay("on", in.On)
	if err != nil {
		return err
	}
	if on != nil {
		v.On = *on
	}
	l, err := s.svc.Lookup.LookupCode(r.Context(), codeFromPath(r))
	if err != nil {
		return err
	}
	id, err := s.svc.Supervision.RecordVisit(r.Context(), l.Code.ID, v)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, map[string]any{"id": id, "code": l.Code.Code})
	return nil
}

// handleCodeVisits answers "GET /api/v1/codes/{code}/visits": the code's supervision visits,
// newest first, with their photos.
func (s *Server) handleCodeVisits(w http.ResponseWriter, r *http.Request) error {
	l, err := s.svc.Lookup.LookupCode(r.Context(), codeFromPath(r))
	if err != nil {
		return err
	}
	visits, err := s.svc.Supervision.Visits(r.Context(), l.Code.ID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"code": l.Code.Code, "visits": visits})
	return nil
}

// handleOverdue answers "GET /api/v1/supervision/overdue": the active codes of the caller's
// jurisdiction overdue for a supervision visit, most overdue first.
func (s *Server) handleOverdue(w http.ResponseWriter, r *http.Request) error {
	codes, err := s.svc.Supervision.OverdueCodes(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"codes": codes})
	return nil
}

// handlePackingHouseGet answers "GET /api/v1/packing-houses/{id}".
func (s *Server) handlePackingHouseGet(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "packing house")
	if err != nil {
		return err
	}
	h, err := s.svc.Lookup.FindPackingHouse(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, struct {
		*registry.PackingHouseView
		Location []float64 `json:"location"`
		BBox     []float64 `json:"bbox,omitempty"`
	}{h, []float64{h.Location[0], h.Location[1]}, bbox(h.BBox)})
	return nil
}

// codeParam reads the {code} of a route, however the code is written.
func codeFromPath(r *http.Request) string {
	c, err := url.PathUnescape(chi.URLParam(r, "code"))
	if err != nil {
		return chi.URLParam(r, "code")
	}
	return c
}

// handleCodeGet answers "GET /api/v1/codes/{code}": is this code valid, for which market, and
// what does it cover? Public: what a QR code on a box leads to.
func (s *Server) handleCodeGet(w http.ResponseWriter, r *http.Request) error {
	l, err := s.lookupCode(r)
	if err != nil {
		return err
	}
	resp := map[string]any{"code": l.Code, "valid_today": validToday(l.Code)}
	if l.GrowingArea != nil {
		resp["growing_area"] = struct {
			*registry.GrowingAreaView
			BBox []float64 `json:"bbox,omitempty"`
		}{l.GrowingArea, bbox(l.GrowingArea.BBox)}
	}
	if l.PackingHouse != nil {
		resp["packing_house"] = struct {
			*registry.PackingHouseView
			BBox []float64 `json:"bbox,omitempty"`
		}{l.PackingHouse, bbox(l.PackingHouse.BBox)}
	}
	writeJSON(w, http.StatusOK, resp)
	return nil
}

// lookupCode looks the code of the path up, through the lookup cache.
func (s *Server) lookupCode(r *http.Request) (*registry.CodeLookup, error) {
	code := codeFromPath(r)
	key := strings.ToUpper(nonAlnum.ReplaceAllString(code, ""))
	if l, _, ok := s.svc.LookupCache.get(key); ok {
		return l, nil
	}
	_, gen, _ := s.svc.LookupCache.get(key)
	l, err := s.svc.Lookup.LookupCode(r.Context(), code)
	if err != nil {
		return nil, err
	}
	s.svc.LookupCache.put(key, l, gen)
	return l, nil
}

var nonAlnum = regexp.MustCompile(`[^A-Za-z0-9]`)

// validToday says whether a code may be used today: active, and inside its validity.
func validToday(c registry.CodeRef) bool {
	today := time.Now().In(vietnam).Format(time.DateOnly)
	return c.Status == registry.CodeActive &&
		(c.ValidFrom == nil || c.ValidFrom.Format(time.DateOnly) <= today) &&
		(c.ValidTo == nil || c.ValidTo.Format(time.DateOnly) >= today)
}

var vietnam = time.FixedZone("ICT", 7*3600)

// handleCodeStatus answers "POST /api/v1/codes/{code}/status" {"status", "reason", "note",
// "document", "valid_from", "valid_to"}: an officer issues, suspends, reinstates or revokes.
func (s *Server) handleCodeStatus(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Status    string `json:"status"`
		Reason    string `json:"reason"`
		Note      string `json:"note"`
		Document  string `json:"document"`
		ValidFrom string `json:"valid_from"`
		ValidTo   string `json:"valid_to"`
	}
	if err := s.readJSONObject(w, r, &in); err != nil {
		return err
	}
	change := registry.CodeStatusChange{To: in.Status, Reason: in.Reason, Note: in.Note, Document: in.Document}
	var err error
	if change.ValidFrom, err = parseDay("valid_from", in.ValidFrom); err != nil {
		return err
	}
	if change.ValidTo, err = parseDay("valid_to", in.ValidTo); err != nil {
		return err
	}
	l, err := s.svc.Lookup.LookupCode(r.Context(), codeFromPath(r))
	if err != nil {
		return err
	}
	c, err := s.svc.Codes.ChangeCodeStatus(r.Context(), l.Code.ID, change)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"code": c, "valid_today": validToday(*c)})
	return nil
}

// handleSearch answers "GET /api/v1/search?q=&limit=": codes, growing areas, communes and
// provinces, each with the bound to fly to when it has one.
func (s *Server) handleSearch(w http.ResponseWriter, r *http.Request) error {
	limit := 10
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 50 {
			return registry.Errorf(registry.EMALFORMED, "limit must be a number from 1 to 50")
		}
		limit = n
	}
	results, err := s.svc.Lookup.Search(r.Context(), r.URL.Query().Get("q"), limit)
	if err != nil {
		return err
	}
	type hit struct {
		registry.SearchResult
		BBox []float64 `json:"bbox,omitempty"`
	}
	out := make([]hit, len(results))
	for i, res := range results {
		out[i] = hit{res, bbox(res.BBox)}
	}
	writeJSON(w, http.StatusOK, map[string]any{"results": out})
	return nil
}
