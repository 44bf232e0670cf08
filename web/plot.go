package web

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/paulmach/orb"
	"github.com/vungtrong/vungtrong/geo"
	"github.com/vungtrong/vungtrong/registry"
)

// multiPolygonJSON is a GeoJSON MultiPolygon: orb's types marshal to nested coordinate arrays.
type multiPolygonJSON struct {
	Type        string           `json:"type"`
	Coordinates orb.MultiPolygon `json:"coordinates"`
}

// plotFeature is a plot as a GeoJSON Feature.
type plotFeature struct {
	Type       string           `json:"type"`
	ID         int64            `json:"id"`
	Geometry   multiPolygonJSON `json:"geometry"`
	Properties plotProperties   `json:"properties"`
}

type plotProperties struct {
	Crop            string     `json:"crop"`
	Variety         string     `json:"variety,omitempty"`
	PlantingYear    int        `json:"planting_year,omitempty"`
	AreaHa          float64    `json:"area_ha"`
	ProducerID      *int64     `json:"producer_id"`
	ProvinceCode    string     `json:"province_code,omitempty"`
	CommuneCode     string     `json:"commune_code,omitempty"`
	CadastralSheet  string     `json:"cadastral_sheet,omitempty"`
	CadastralParcel string     `json:"cadastral_parcel,omitempty"`
	LandCertNo      string     `json:"land_cert_no,omitempty"`
	Source          string     `json:"source,omitempty"`
	ExternalID      string     `json:"external_id,omitempty"`
	Version         int        `json:"version"`
	CreatedAt       time.Time  `json:"created_at"`
	UpdatedAt       time.Time  `json:"updated_at"`
	DeletedAt       *time.Time `json:"deleted_at,omitempty"`
	// ParentIDs name the plots a split or merge made this one from; Retired and RetiredInto
	// say how a plot left the registry, and for what (history only).
	ParentIDs   []int64 `json:"parent_ids,omitempty"`
	Retired     string  `json:"retired,omitempty"`
	RetiredInto []int64 `json:"retired_into,omitempty"`
	// Context is the growing area, codes and unit names (a single plot's answer only).
	*registry.PlotContext `json:",omitempty"`
	// Screening is the plot's deforestation screening (a single plot's answer, once screened).
	Screening *registry.PlotScreening `json:"screening,omitempty"`
}

// toFeature renders a plot as the service returned it: already redacted for the caller.
func toFeature(p *registry.Plot) plotFeature {
	f := plotFeature{Type: "Feature", ID: p.ID, Geometry: multiPolygonJSON{"MultiPolygon", p.Geometry}, Properties: plotProperties{
		Crop: p.Crop, Variety: p.Variety, PlantingYear: p.PlantingYear, AreaHa: p.AreaHa, ProducerID: p.ProducerID,
		ProvinceCode: p.ProvinceCode, CommuneCode: p.CommuneCode, CadastralSheet: p.CadastralSheet,
		CadastralParcel: p.CadastralParcel, LandCertNo: p.LandCertNo, Source: p.Source, ExternalID: p.ExternalID,
		Version: p.Version, CreatedAt: p.CreatedAt, UpdatedAt: p.UpdatedAt, DeletedAt: p.DeletedAt,
		ParentIDs: p.ParentIDs, Retired: p.Retired, RetiredInto: p.RetiredInto,
	}}
	return f
}

// historyFeature is one version of a plot as a GeoJSON Feature.
type historyFeature struct {
	Type       string            `json:"type"`
	ID         int64             `json:"id"`
	Geometry   multiPolygonJSON  `json:"geometry"`
	Properties historyProperties `json:"properties"`
}

type historyProperties struct {
	plotProperties
	ValidFrom time.Time  `json:"valid_from"`
	ValidTo   *time.Time `json:"valid_to"`
	WrittenBy string     `json:"written_by,omitempty"`
	Changes   []string   `json:"changes"`
}

// toHistoryFeature renders a version of a plot as the service returned it (redacted already).
func toHistoryFeature(v *registry.PlotVersion) historyFeature {
	f := toFeature(v.Plot)
	return historyFeature{Type: f.Type, ID: f.ID, Geometry: f.Geometry, Properties: historyProperties{plotProperties: f.Properties,
		ValidFrom: v.ValidFrom, ValidTo: v.ValidTo, WrittenBy: v.WrittenBy, Changes: v.Changes}}
}

type featureCollection struct {
	Type           string `json:"type"`
	Features       any    `json:"features"`
	NumberReturned int    `json:"numberReturned"`
	NextCursor     string `json:"next_cursor,omitempty"`
	Links          []link `json:"links,omitempty"`
}

type link struct {
	Rel  string `json:"rel"`
	Href string `json:"href"`
	Type string `json:"type,omitempty"`
}

// handlePlotList answers "GET /api/v1/plots?bbox=&commune=&crop=&producer=&limit=&cursor=".
func (s *Server) handlePlotList(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	lp, err := s.parseList(q)
	if err != nil {
		return err
	}
	f := registry.PlotFilter{Limit: lp.limit, After: lp.after, Crop: strings.TrimSpace(q.Get("crop"))}
	if f.BBox, err = parseBBox(q.Get("bbox")); err != nil {
		return err
	}
	if f.CommuneCode, err = codeParam(q, "commune", communeParamRE, "24280"); err != nil {
		return err
	}
	if f.ProvinceCode, err = codeParam(q, "province", provinceParamRE, "66"); err != nil {
		return err
	}
	if f.ProducerID, err = optionalID(q, "producer"); err != nil {
		return err
	}
	page, err := s.svc.Plots.FindPlots(r.Context(), f)
	if err != nil {
		return err
	}
	features := make([]plotFeature, len(page.Plots))
	for i, p := range page.Plots {
		features[i] = toFeature(p)
	}
	fc := featureCollection{Type: "FeatureCollection", Features: features, NumberReturned: len(features)}
	if page.Next != 0 {
		fc.NextCursor = encodeCursor(page.Next)
		fc.Links = []link{{Rel: "next", Href: nextLink(r, page.Next), Type: contentTypeGeoJSON}}
		w.Header().Set("Link", fmt.Sprintf(`<%s>; rel="next"`, nextLink(r, page.Next)))
	}
	writeGeoJSON(w, http.StatusOK, fc)
	return nil
}

// handlePlotGet answers "GET /api/v1/plots/{id}".
func (s *Server) handlePlotGet(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "plot")
	if err != nil {
		return err
	}
	p, err := s.svc.Plots.FindPlotByID(r.Context(), id)
	if err != nil {
		return err
	}
	f := toFeature(p)
	if s.svc.Lookup != nil {
		if f.Properties.PlotContext, err = s.svc.Lookup.PlotContext(r.Context(), id); err != nil {
			return err
		}
	}
	if s.svc.Screening != nil {
		if f.Properties.Screening, err = s.svc.Screening.PlotScreening(r.Context(), id); err != nil {
			return err
		}
	}
	w.Header().Set("ETag", etag(p.Version))
	writeGeoJSON(w, http.StatusOK, f)
	return nil
}

// handlePlotHistory answers "GET /api/v1/plots/{id}/history": every version, newest first, the
// current one included, each with when it was valid, who wrote it and what it changed.
func (s *Server) handlePlotHistory(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "plot")
	if err != nil {
		return err
	}
	hist, err := s.svc.Plots.PlotHistory(r.Context(), id)
	if err != nil {
		return err
	}
	features := make([]historyFeature, len(hist))
	for i, v := range hist {
		features[i] = toHistoryFeature(v)
	}
	writeGeoJSON(w, http.StatusOK, featureCollection{Type: "FeatureCollection", Features: features, NumberReturned: len(features)})
	return nil
}

// handlePlotCreate answers "POST /api/v1/plots" with a GeoJSON Feature body.
func (s *Server) handlePlotCreate(w http.ResponseWriter, r *http.Request) error {
	body, err := readBody(w, r, s.cfg.MaxBodyBytes, contentTypeGeoJSON, contentTypeJSON)
	if err != nil {
		return err
	}
	p := &registry.Plot{}
	if err := s.decodePlot(body, p, false); err != nil {
		return err
	}
	if err := s.svc.Plots.CreatePlot(r.Context(), p); err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/plots/"+strconv.FormatInt(p.ID, 10))
	w.Header().Set("ETag", etag(p.Version))
	writeGeoJSON(w, http.StatusCreated, toFeature(p))
	return nil
}

// handlePlotReplace answers "PUT /api/v1/plots/{id}": the body replaces the plot; properties
// it leaves out are cleared. Needs If-Match.
func (s *Server) handlePlotReplace(w http.ResponseWriter, r *http.Request) error {
	return s.updatePlot(w, r, false)
}

// handlePlotPatch answers "PATCH /api/v1/plots/{id}" with a merge patch (RFC 7396): the
// geometry and the properties it names change, a property set to null is cleared. Needs If-Match.
func (s *Server) handlePlotPatch(w http.ResponseWriter, r *http.Request) error {
	return s.updatePlot(w, r, true)
}

func (s *Server) updatePlot(w http.ResponseWriter, r *http.Request, patch bool) error {
	id, err := pathID(r, "plot")
	if err != nil {
		return err
	}
	version, err := ifMatchVersion(r)
	if err != nil {
		return err
	}
	body, err := readBody(w, r, s.cfg.MaxBodyBytes, contentTypeGeoJSON, contentTypeJSON, "application/merge-patch+json")
	if err != nil {
		return err
	}
	p := &registry.Plot{}
	if patch {
		if p, err = s.svc.Plots.FindPlotByID(r.Context(), id); err != nil {
			return err
		}
	}
	if err := s.decodePlot(body, p, patch); err != nil {
		return err
	}
	p.ID = id
	if err := s.svc.Plots.UpdatePlot(r.Context(), p, version); err != nil {
		return err
	}
	w.Header().Set("ETag", etag(p.Version))
	writeGeoJSON(w, http.StatusOK, toFeature(p))
	return nil
}

// handlePlotDelete answers "DELETE /api/v1/plots/{id}". Needs If-Match.
func (s *Server) handlePlotDelete(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "plot")
	if err != nil {
		return err
	}
	version, err := ifMatchVersion(r)
	if err != nil {
		return err
	}
	if err := s.svc.Plots.DeletePlot(r.Context(), id, version); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// readOnlyPlotProperties are sent back by clients that PUT what they GET; they are ignored.
var readOnlyPlotProperties = map[string]bool{
	"area_ha": true, "version": true, "created_at": true, "updated_at": true, "deleted_at": true,
	"created_by": true, "updated_by": true, "id": true, "parent_ids": true, "retired": true, "retired_into": true,
	// What a history's versions carry, sent back by a client that restores one by hand.
	"valid_from": true, "valid_to": true, "written_by": true, "changes": true,
}

// plotPropertySetters decode each writable property into the plot; null clears it.
var plotPropertySetters = map[string]fieldSetter[registry.Plot]{
	"crop":             stringField(func(p *registry.Plot) *string { return &p.Crop }),
	"variety":          stringField(func(p *registry.Plot) *string { return &p.Variety }),
	"cadastral_sheet":  stringField(func(p *registry.Plot) *string { return &p.CadastralSheet }),
	"cadastral_parcel": stringField(func(p *registry.Plot) *string { return &p.CadastralParcel }),
	"land_cert_no":     stringField(func(p *registry.Plot) *string { return &p.LandCertNo }),
	"province_code":    stringField(func(p *registry.Plot) *string { return &p.ProvinceCode }),
	"commune_code":     stringField(func(p *registry.Plot) *string { return &p.CommuneCode }),
	"source":           stringField(func(p *registry.Plot) *string { return &p.Source }),
	"external_id":      stringField(func(p *registry.Plot) *string { return &p.ExternalID }),
	"producer_id":      idField(func(p *registry.Plot) **int64 { return &p.ProducerID }, "a producer"),
	"planting_year": func(p *registry.Plot, raw json.RawMessage) error {
		if isNull(raw) {
			p.PlantingYear = 0
			return nil
		}
		var n int
		if err := json.Unmarshal(raw, &n); err != nil {
			return fmt.Errorf("must be a whole number such as 2018")
		}
		p.PlantingYear = n
		return nil
	},
}

// plotBody is a plot Feature as a request sends it: besides the GeoJSON members, the reason
// to keep an overlap, and (for a check) the id of the plot being edited.
type plotBody struct {
	Type          *string                    `json:"type"`
	ID            json.RawMessage            `json:"id"`
	Geometry      json.RawMessage            `json:"geometry"`
	Properties    map[string]json.RawMessage `json:"properties"`
	OverlapReason *string                    `json:"overlap_reason"`
}

// readPlotBody decodes a request's plot Feature.
func readPlotBody(body []byte) (*plotBody, error) {
	var f plotBody
	if err := json.Unmarshal(body, &f); err != nil {
		return nil, registry.Errorf(registry.EINVALID, "the body must be a GeoJSON Feature: {\"type\": \"Feature\", \"geometry\": {...}, \"properties\": {\"crop\": \"cà phê\"}}")
	}
	if f.Type != nil && *f.Type != "Feature" {
		return nil, fieldError("type", "is %q: send one GeoJSON Feature (for many plots use `vungtrong import`)", *f.Type)
	}
	return &f, nil
}

// geometryDetails turns package geo's problems into details located in the request.
func geometryDetails(problems []geo.Problem) []registry.Detail {
	var details []registry.Detail
	for _, pr := range problems {
		d := registry.Detail{Field: "geometry", Message: pr.Message, Code: pr.Code, Args: pr.Args}
		if pr.Path != "" {
			d.Field = "geometry." + pr.Path
		}
		if pr.Location != nil {
			d.Location = []float64{pr.Location[0], pr.Location[1]}
		}
		details = append(details, d)
	}
	return details
}

// decodePlot reads a GeoJSON Feature into p. For a patch only the members present change;
// otherwise every writable property is taken from the body (absent ones cleared). Every
// problem of the properties is reported at once; geometry problems come from package geo.
func (s *Server) decodePlot(body []byte, p *registry.Plot, patch bool) error {
	f, err := readPlotBody(body)
	if err != nil {
		return err
	}
	if !patch {
		*p = registry.Plot{}
	}
	var details []registry.Detail
	if !patch || len(f.Geometry) > 0 {
		mp, problems := geo.ParsePolygonal(f.Geometry, s.cfg.Geometry)
		details = append(details, geometryDetails(problems)...)
		p.Geometry = mp
	}
	if f.OverlapReason != nil {
		p.OverlapReason = *f.OverlapReason
	}
	if raw, ok := f.Properties["producer"]; ok {
		delete(f.Properties, "producer")
		details = append(details, decodeNewHousehold(raw, p, patch)...)
	}
	details = append(details, applyFields(p, f.Properties, plotPropertySetters, readOnlyPlotProperties, "properties.", "property")...)
	if len(details) > 0 {
		return registry.Invalid(details)
	}
	return nil
}

// decodeNewHousehold reads properties.producer, a household registered with a new plot
// ({"name": …, "citizen_id": …, "phone": …, "address": …}), into p.NewProducer.
func decodeNewHousehold(raw json.RawMessage, p *registry.Plot, patch bool) []registry.Detail {
	if string(raw) == "null" {
		return nil
	}
	if patch {
		return []registry.Detail{{Field: "properties.producer", Message: "a new household can be registered only with a new plot; register it with POST /api/v1/producers, then set producer_id"}}
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil || fields == nil {
		return []registry.Detail{{Field: "properties.producer", Message: "must be an object such as {\"name\": \"Nguyễn Văn A\", \"citizen_id\": \"066…\", \"phone\": \"0912…\"}"}}
	}
	np := &registry.Producer{}
	p.NewProducer = np
	return applyFields(np, fields, producerFieldSetters, readOnlyProducerFields, "properties.producer.", "field")
}
