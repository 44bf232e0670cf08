package web

import (
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/vungtrong/vungtrong/geo"
	"github.com/vungtrong/vungtrong/registry"
)

// overlapJSON is a neighbour a plot overlaps, as the check and a refused write show it.
type overlapJSON struct {
	Plot     int64            `json:"plot"`
	M2       float64          `json:"m2"`
	Pct      float64          `json:"pct"`
	Blocks   bool             `json:"blocks"`
	Geometry multiPolygonJSON `json:"geometry"`
}

func toOverlapsJSON(overlaps []registry.PlotOverlap) []overlapJSON {
	out := make([]overlapJSON, len(overlaps))
	for i, o := range overlaps {
		out[i] = overlapJSON{Plot: o.Plot, M2: o.M2, Pct: o.Pct, Blocks: o.Blocks, Geometry: multiPolygonJSON{"MultiPolygon", o.Geometry}}
	}
	return out
}

// plotCheckJSON is the answer of "POST /api/v1/plots/check".
type plotCheckJSON struct {
	AreaHa       float64           `json:"area_ha"`
	Valid        bool              `json:"valid"`
	Problems     []registry.Detail `json:"problems"`
	ProvinceCode string            `json:"province_code"`
	ProvinceName string            `json:"province_name"`
	CommuneCode  string            `json:"commune_code"`
	CommuneName  string            `json:"commune_name"`
	Jurisdiction struct {
		OK      bool   `json:"ok"`
		Message string `json:"message,omitempty"`
	} `json:"jurisdiction"`
	Overlaps          []overlapJSON     `json:"overlaps"`
	Blocked           bool              `json:"blocked"`
	SuggestedGeometry *multiPolygonJSON `json:"suggested_geometry"`
	SuggestedAreaHa   *float64          `json:"suggested_area_ha"`
	Geometry          multiPolygonJSON  `json:"geometry"`
}

// handlePlotCheck answers "POST /api/v1/plots/check": what a write of the Feature would find
// (the geometry as it would be stored, its area, every problem, where it lies, whether the
// caller may write there, the overlaps and a geometry without them), without writing. A
// top-level "id" names the plot being edited: the body then patches it, as a PATCH would.
func (s *Server) handlePlotCheck(w http.ResponseWriter, r *http.Request) error {
	body, err := readBody(w, r, s.cfg.MaxBodyBytes, contentTypeGeoJSON, contentTypeJSON)
	if err != nil {
		return err
	}
	f, err := readPlotBody(body)
	if err != nil {
		return err
	}
	var editing int64
	p := &registry.Plot{}
	if len(f.ID) > 0 && !isNull(f.ID) {
		if err := json.Unmarshal(f.ID, &editing); err != nil || editing <= 0 {
			return fieldError("id", "must be the id of the plot being edited, a positive number")
		}
		if p, err = s.svc.Plots.FindPlotByID(r.Context(), editing); err != nil {
			return err
		}
	}
	var details []registry.Detail
	if editing == 0 || len(f.Geometry) > 0 {
		// Only a geometry that cannot be read at all is refused here: the check reports the
		// rules a readable one breaks (outside Vietnam, too many positions) with the others.
		mp, problems := geo.DecodePolygonal(f.Geometry, s.cfg.Geometry)
		if mp == nil {
			details = append(details, geometryDetails(problems)...)
		}
		p.Geometry = mp
	}
	if f.OverlapReason != nil {
		p.OverlapReason = *f.OverlapReason
	}
	if raw, ok := f.Properties["producer"]; ok {
		delete(f.Properties, "producer")
		details = append(details, decodeNewHousehold(raw, p, editing != 0)...)
	}
	details = append(details, applyFields(p, f.Properties, plotPropertySetters, readOnlyPlotProperties, "properties.", "property")...)
	if len(details) > 0 {
		return registry.Invalid(details)
	}
	c, err := s.svc.Plots.CheckPlot(r.Context(), p, editing)
	if err != nil {
		return err
	}
	out := plotCheckJSON{AreaHa: c.AreaHa, Valid: c.Valid, Problems: c.Problems, ProvinceCode: c.ProvinceCode, ProvinceName: c.ProvinceName,
		CommuneCode: c.CommuneCode, CommuneName: c.CommuneName, Overlaps: toOverlapsJSON(c.Overlaps), Blocked: c.Blocked,
		Geometry: multiPolygonJSON{"MultiPolygon", c.Geometry}}
	out.Jurisdiction.OK, out.Jurisdiction.Message = c.MayWrite, c.Refusal
	if c.Suggested != nil {
		out.SuggestedGeometry = &multiPolygonJSON{"MultiPolygon", c.Suggested}
		out.SuggestedAreaHa = &c.SuggestedAreaHa
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// handlePlotSplit answers "POST /api/v1/plots/{id}/split" with {"line": LineString}: the plot
// is cut along the line into new plots, and retired. Needs If-Match.
func (s *Server) handlePlotSplit(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "plot")
	if err != nil {
		return err
	}
	version, err := ifMatchVersion(r)
	if err != nil {
		return err
	}
	body, err := readBody(w, r, s.cfg.MaxBodyBytes, contentTypeJSON, contentTypeGeoJSON)
	if err != nil {
		return err
	}
	var req struct {
		Line json.RawMessage `json:"line"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		return registry.Errorf(registry.EINVALID, `the body must be {"line": {"type": "LineString", "coordinates": [[lon, lat], ...]}}`)
	}
	line, problems := geo.ParseLine(req.Line)
	if len(problems) > 0 {
		details := geometryDetails(problems)
		for i := range details {
			details[i].Field = "line" + details[i].Field[len("geometry"):]
		}
		return registry.Invalid(details)
	}
	pieces, err := s.svc.Plots.SplitPlot(r.Context(), id, version, line)
	if err != nil {
		return err
	}
	features := make([]plotFeature, len(pieces))
	for i, p := range pieces {
		features[i] = toFeature(p)
	}
	writeGeoJSON(w, http.StatusCreated, featureCollection{Type: "FeatureCollection", Features: features, NumberReturned: len(features)})
	return nil
}

// handlePlotMerge answers "POST /api/v1/plots/merge" with {"plots": [{"id": 1, "version": 3},
// ...]}: the plots, each at the version named, are joined into a new plot and retired.
func (s *Server) handlePlotMerge(w http.ResponseWriter, r *http.Request) error {
	body, err := readBody(w, r, s.cfg.MaxBodyBytes, contentTypeJSON)
	if err != nil {
		return err
	}
	var req struct {
		Plots []struct {
			ID      int64 `json:"id"`
			Version int   `json:"version"`
		} `json:"plots"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		return registry.Errorf(registry.EINVALID, `the body must be {"plots": [{"id": 1, "version": 3}, {"id": 2, "version": 1}]}: each plot with the version you read (its ETag)`)
	}
	refs := make([]registry.PlotRef, len(req.Plots))
	for i, p := range req.Plots {
		refs[i] = registry.PlotRef{ID: p.ID, Version: p.Version}
	}
	p, err := s.svc.Plots.MergePlots(r.Context(), refs)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/plots/"+strconv.FormatInt(p.ID, 10))
	w.Header().Set("ETag", etag(p.Version))
	writeGeoJSON(w, http.StatusCreated, toFeature(p))
	return nil
}

// handlePlotRestore answers "POST /api/v1/plots/{id}/restore" with {"version": N}: a new
// version of the plot equal to version N. Needs If-Match; "overlap_reason" keeps an overlap.
func (s *Server) handlePlotRestore(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "plot")
	if err != nil {
		return err
	}
	ifVersion, err := ifMatchVersion(r)
	if err != nil {
		return err
	}
	body, err := readBody(w, r, s.cfg.MaxBodyBytes, contentTypeJSON)
	if err != nil {
		return err
	}
	var req struct {
		Version       *int   `json:"version"`
		OverlapReason string `json:"overlap_reason"`
	}
	if err := json.Unmarshal(body, &req); err != nil || req.Version == nil || *req.Version <= 0 {
		return fieldError("version", `is missing or not a version number: send {"version": 1}, a version the plot's history lists`)
	}
	p, err := s.svc.Plots.RestorePlot(r.Context(), id, *req.Version, ifVersion, req.OverlapReason)
	if err != nil {
		return err
	}
	w.Header().Set("ETag", etag(p.Version))
	writeGeoJSON(w, http.StatusOK, toFeature(p))
	return nil
}
