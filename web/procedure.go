package web

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/paulmach/orb"
	"github.com/vungtrong/vungtrong/registry"
)

func (s *Server) procedure() (registry.ProcedureService, error) {
	if s.svc.Procedure == nil {
		return nil, registry.Errorf(registry.EUNAVAILABLE, "the code procedure is not available on this server")
	}
	return s.svc.Procedure, nil
}

// parseDay reads an optional "YYYY-MM-DD" field.
func parseDay(field, v string) (*time.Time, error) {
	if v == "" {
		return nil, nil
	}
	t, err := time.Parse(time.DateOnly, v)
	if err != nil {
		return nil, fieldError(field, "must be a date YYYY-MM-DD")
	}
	return &t, nil
}

// handleProvinceLetters answers "GET /api/v1/province-letters".
func (s *Server) handleProvinceLetters(w http.ResponseWriter, r *http.Request) error {
	p, err := s.procedure()
	if err != nil {
		return err
	}
	l, err := p.ProvinceLetters(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"provinces": l})
	return nil
}

// handleProvinceLettersSet answers "PUT /api/v1/province-letters/{province}" {"letters"}.
func (s *Server) handleProvinceLettersSet(w http.ResponseWriter, r *http.Request) error {
	p, err := s.procedure()
	if err != nil {
		return err
	}
	var in struct {
		Letters string `json:"letters"`
	}
	if err := s.readJSONObject(w, r, &in); err != nil {
		return err
	}
	l, err := p.SetProvinceLetters(r.Context(), chi.URLParam(r, "province"), in.Letters)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, l)
	return nil
}

// handleMarketStep answers "POST /api/v1/codes/{code}/market-steps" {"step": "proposed", "on",
// "document"} or {"step": "confirmed", "on", "list_date", "reference"}.
func (s *Server) handleMarketStep(w http.ResponseWriter, r *http.Request) error {
	p, err := s.procedure()
	if err != nil {
		return err
	}
	var in struct {
		Step      string `json:"step"`
		On        string `json:"on"`
		Document  string `json:"document"`
		ListDate  string `json:"list_date"`
		Reference string `json:"reference"`
	}
	if err := s.readJSONObject(w, r, &in); err != nil {
		return err
	}
	st := registry.MarketStep{Step: in.Step, Document: in.Document, Reference: in.Reference}
	if st.On, err = parseDay("on", in.On); err != nil {
		return err
	}
	if st.ListDate, err = parseDay("list_date", in.ListDate); err != nil {
		return err
	}
	m, err := p.RecordMarketStep(r.Context(), codeFromPath(r), st)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, m)
	return nil
}

// handleMarketSteps answers "GET /api/v1/codes/{code}/market-steps": the export market's two
// steps recorded for the code (public: no personal data).
func (s *Server) handleMarketSteps(w http.ResponseWriter, r *http.Request) error {
	p, err := s.procedure()
	if err != nil {
		return err
	}
	l, err := s.lookupCode(r)
	if err != nil {
		return err
	}
	m, err := p.MarketSteps(r.Context(), l.Code.ID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, m)
	return nil
}

// handleAreaPlotsSet answers "PUT /api/v1/growing-areas/{id}/plots" {"plots": [ids]}: the area's
// plots, under the rules it was formed by.
func (s *Server) handleAreaPlotsSet(w http.ResponseWriter, r *http.Request) error {
	p, err := s.procedure()
	if err != nil {
		return err
	}
	id, err := pathID(r, "growing area")
	if err != nil {
		return err
	}
	var in struct {
		Plots []int64 `json:"plots"`
	}
	if err := s.readJSONObject(w, r, &in); err != nil {
		return err
	}
	if err := p.SetAreaPlots(r.Context(), id, in.Plots); err != nil {
		return err
	}
	return s.handleGrowingAreaGet(w, r)
}

// seasonalJSON is a seasonal report as the registrant files it.
type seasonalJSON struct {
	Season              string   `json:"season"`
	Crop                string   `json:"crop"`
	Variety             string   `json:"variety"`
	AreaHa              *float64 `json:"area_ha"`
	Standard            string   `json:"standard"`
	Market              string   `json:"market"`
	ExpectedOutputT     *float64 `json:"expected_output_t"`
	ExpectedHarvestFrom *string  `json:"expected_harvest_from"`
	ExpectedHarvestTo   *string  `json:"expected_harvest_to"`
}

// handleSeasonalReportCreate answers "POST /api/v1/growing-areas/{id}/seasonal-reports".
func (s *Server) handleSeasonalReportCreate(w http.ResponseWriter, r *http.Request) error {
	p, err := s.procedure()
	if err != nil {
		return err
	}
	area, err := pathID(r, "growing area")
	if err != nil {
		return err
	}
	var in seasonalJSON
	if err := s.readJSONObject(w, r, &in); err != nil {
		return err
	}
	crop := in.Crop
	id, err := p.FileSeasonalReport(r.Context(), registry.SeasonalReport{GrowingAreaID: area, Season: in.Season, Crop: crop, Variety: in.Variety, AreaHa: in.AreaHa,
		Standard: in.Standard, Market: in.Market, ExpectedOutputT: in.ExpectedOutputT, ExpectedHarvestFrom: in.ExpectedHarvestFrom, ExpectedHarvestTo: in.ExpectedHarvestTo})
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/seasonal-reports/"+strconv.FormatInt(id, 10))
	writeJSON(w, http.StatusCreated, map[string]any{"id": id})
	return nil
}

// handleSeasonalReports answers "GET /api/v1/growing-areas/{id}/seasonal-reports".
func (s *Server) handleSeasonalReports(w http.ResponseWriter, r *http.Request) error {
	p, err := s.procedure()
	if err != nil {
		return err
	}
	area, err := pathID(r, "growing area")
	if err != nil {
		return err
	}
	list, err := p.SeasonalReports(r.Context(), area)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"reports": list})
	return nil
}

// handleSeasonalReportPatch answers "PATCH /api/v1/seasonal-reports/{id}" {"actual_output_t"}.
func (s *Server) handleSeasonalReportPatch(w http.ResponseWriter, r *http.Request) error {
	p, err := s.procedure()
	if err != nil {
		return err
	}
	id, err := pathID(r, "seasonal report")
	if err != nil {
		return err
	}
	var in struct {
		Actual *float64 `json:"actual_output_t"`
	}
	if err := s.readJSONObject(w, r, &in); err != nil {
		return err
	}
	if in.Actual == nil {
		return fieldError("actual_output_t", "the harvest's actual output in tonnes is required")
	}
	if err := p.ReportActualOutput(r.Context(), id, *in.Actual); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"id": id, "actual_output_t": *in.Actual})
	return nil
}

// houseJSON is a packing house as its registrant sends it.
type houseJSON struct {
	registry.PackingHouseRequest
	Location json.RawMessage `json:"location"`
}

func (s *Server) readHouse(w http.ResponseWriter, r *http.Request) (registry.PackingHouseRequest, error) {
	var in houseJSON
	if err := s.readJSONObject(w, r, &in); err != nil {
		return in.PackingHouseRequest, err
	}
	h := in.PackingHouseRequest
	if len(in.Location) > 0 && !isNull(in.Location) {
		var pt []float64
		if err := json.Unmarshal(in.Location, &pt); err != nil || len(pt) != 2 {
			return h, fieldError("location", "is [lon, lat], such as [108.31, 12.70]")
		}
		p := orb.Point{pt[0], pt[1]}
		h.Location = &p
	}
	return h, nil
}

// handlePackingHouseCreate answers "POST /api/v1/packing-houses" {"name", "operator_id",
// "address", "location": [lon, lat], "capacity_tpd"}.
func (s *Server) handlePackingHouseCreate(w http.ResponseWriter, r *http.Request) error {
	p, err := s.procedure()
	if err != nil {
		return err
	}
	h, err := s.readHouse(w, r)
	if err != nil {
		return err
	}
	id, err := p.CreatePackingHouse(r.Context(), h)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/packing-houses/"+strconv.FormatInt(id, 10))
	v, err := s.svc.Lookup.FindPackingHouse(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, struct {
		*registry.PackingHouseView
		Location []float64 `json:"location"`
	}{v, []float64{v.Location[0], v.Location[1]}})
	return nil
}

// handlePackingHousePatch answers "PATCH /api/v1/packing-houses/{id}".
func (s *Server) handlePackingHousePatch(w http.ResponseWriter, r *http.Request) error {
	p, err := s.procedure()
	if err != nil {
		return err
	}
	id, err := pathID(r, "packing house")
	if err != nil {
		return err
	}
	h, err := s.readHouse(w, r)
	if err != nil {
		return err
	}
	if err := p.UpdatePackingHouse(r.Context(), id, h); err != nil {
		return err
	}
	return s.handlePackingHouseGet(w, r)
}

// handlePackingLink answers "PUT /api/v1/packing-houses/{id}/growing-areas/{area}"
// {"valid_from", "valid_to"}: the house may pack the area's produce on those days.
func (s *Server) handlePackingLink(w http.ResponseWriter, r *http.Request) error {
	p, err := s.procedure()
	if err != nil {
		return err
	}
	id, err := pathID(r, "packing house")
	if err != nil {
		return err
	}
	area, err := strconv.ParseInt(chi.URLParam(r, "area"), 10, 64)
	if err != nil || area <= 0 {
		return registry.Errorf(registry.ENOTFOUND, "growing area %q not found: ids are positive numbers", chi.URLParam(r, "area"))
	}
	var in struct {
		ValidFrom string `json:"valid_from"`
		ValidTo   string `json:"valid_to"`
	}
	if err := s.readJSONObject(w, r, &in); err != nil {
		return err
	}
	l := registry.PackingLink{PackingHouseID: id, GrowingAreaID: area}
	from, err := parseDay("valid_from", in.ValidFrom)
	if err != nil {
		return err
	}
	if from != nil {
		l.ValidFrom = *from
	}
	if l.ValidTo, err = parseDay("valid_to", in.ValidTo); err != nil {
		return err
	}
	if err := p.LinkPackingHouse(r.Context(), l); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, l)
	return nil
}
