package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/vungtrong/vungtrong/registry"
)

// date is a calendar day in JSON ("2026-11-20").
type date struct{ time.Time }

func (d *date) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("a date is written YYYY-MM-DD")
	}
	if s == "" {
		d.Time = time.Time{}
		return nil
	}
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return fmt.Errorf("%q is not a date YYYY-MM-DD", s)
	}
	d.Time = t
	return nil
}

// decodeStrict reads a JSON object into v, refusing unknown members, with the member named.
func (s *Server) decodeStrict(w http.ResponseWriter, r *http.Request, v any) error {
	if ct := r.Header.Get("Content-Type"); !isJSONType(ct) {
		return registry.Errorf(registry.EUNSUPPORTED, "send this request as application/json")
	}
	body, err := readBody(w, r, 256<<10, contentTypeJSON)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &te):
			return fieldError(te.Field, "must be %s", te.Type.String())
		case strings.HasPrefix(err.Error(), "json: unknown field "):
			name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
			return fieldError(name, "is not a member this endpoint takes")
		}
		return registry.Errorf(registry.EINVALID, "the body does not have the fields this endpoint takes: %v", err)
	}
	return nil
}

// handleLotCreate answers "POST /api/v1/lots": a cooperative records a harvest lot.
func (s *Server) handleLotCreate(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		GrowingAreaID int64   `json:"growing_area_id"`
		Code          string  `json:"code"`
		Crop          string  `json:"crop"`
		HarvestedFrom date    `json:"harvested_from"`
		HarvestedTo   date    `json:"harvested_to"`
		QuantityKg    float64 `json:"quantity_kg"`
		PlotIDs       []int64 `json:"plot_ids"`
	}
	if err := s.decodeStrict(w, r, &in); err != nil {
		return err
	}
	l := &registry.HarvestLot{GrowingAreaID: in.GrowingAreaID, Code: in.Code, Crop: in.Crop, HarvestedFrom: in.HarvestedFrom.Time,
		HarvestedTo: in.HarvestedTo.Time, QuantityKg: in.QuantityKg, PlotIDs: in.PlotIDs}
	if l.HarvestedTo.IsZero() {
		l.HarvestedTo = l.HarvestedFrom
	}
	if err := s.svc.Trace.RecordLot(r.Context(), l); err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/lots/"+l.PublicCode)
	writeJSON(w, http.StatusCreated, l)
	return nil
}

// handleLotGet answers "GET /api/v1/lots/{ref}" (id or public code): public.
func (s *Server) handleLotGet(w http.ResponseWriter, r *http.Request) error {
	l, err := s.svc.Trace.FindLot(r.Context(), chi.URLParam(r, "ref"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, l)
	return nil
}

// handleLotReceive answers "POST /api/v1/lots/{ref}/receive" {packing_house_id, quantity_kg}.
func (s *Server) handleLotReceive(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		PackingHouseID int64   `json:"packing_house_id"`
		QuantityKg     float64 `json:"quantity_kg"`
	}
	if err := s.decodeStrict(w, r, &in); err != nil {
		return err
	}
	l, err := s.svc.Trace.FindLot(r.Context(), chi.URLParam(r, "ref"))
	if err != nil {
		return err
	}
	if l, err = s.svc.Trace.ReceiveLot(r.Context(), l.ID, in.PackingHouseID, in.QuantityKg); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, l)
	return nil
}

// handleConsignmentCreate answers "POST /api/v1/consignments": an exporter builds a
// consignment for a market from lots.
func (s *Server) handleConsignmentCreate(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Market         string  `json:"market"`
		PackingHouseID int64   `json:"packing_house_id"`
		NetKg          float64 `json:"net_kg"`
		ContainerNo    string  `json:"container_no"`
		DeclarationNo  string  `json:"declaration_no"`
		Destination    string  `json:"destination"`
		ShippedOn      date    `json:"shipped_on"`
		Lots           []struct {
			Lot        string  `json:"lot"`
			QuantityKg float64 `json:"quantity_kg"`
		} `json:"lots"`
	}
	if err := s.decodeStrict(w, r, &in); err != nil {
		return err
	}
	c := &registry.Consignment{Market: in.Market, PackingHouseID: in.PackingHouseID, NetKg: in.NetKg, ContainerNo: in.ContainerNo,
		DeclarationNo: in.DeclarationNo, Destination: in.Destination}
	if !in.ShippedOn.IsZero() {
		c.ShippedOn = &in.ShippedOn.Time
	}
	for _, l := range in.Lots {
		cl := registry.ConsignmentLot{PublicCode: l.Lot, QuantityKg: l.QuantityKg}
		if id, err := strconv.ParseInt(l.Lot, 10, 64); err == nil {
			cl.LotID, cl.PublicCode = id, ""
		}
		c.Lots = append(c.Lots, cl)
	}
	if err := s.svc.Trace.RecordConsignment(r.Context(), c); err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/consignments/"+c.PublicCode)
	writeJSON(w, http.StatusCreated, c)
	return nil
}

// handleConsignmentGet answers "GET /api/v1/consignments/{ref}": public.
func (s *Server) handleConsignmentGet(w http.ResponseWriter, r *http.Request) error {
	c, err := s.svc.Trace.FindConsignment(r.Context(), chi.URLParam(r, "ref"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, c)
	return nil
}

// handleConsignmentCheck answers "GET /api/v1/consignments/{ref}/check": the checks again, as
// things stand today, and pass or the flags.
func (s *Server) handleConsignmentCheck(w http.ResponseWriter, r *http.Request) error {
	c, err := s.svc.Trace.CheckConsignment(r.Context(), chi.URLParam(r, "ref"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"consignment": c, "pass": len(c.Flags) == 0, "flags": c.Flags})
	return nil
}

// traceFilter reads a report's filters.
func traceFilter(r *http.Request) (registry.TraceFilter, error) {
	q := r.URL.Query()
	f := registry.TraceFilter{Market: strings.TrimSpace(q.Get("market")), Rule: strings.TrimSpace(q.Get("rule"))}
	var err error
	if f.ProvinceCode, err = codeParam(q, "province", provinceParamRE, "66"); err != nil {
		return f, err
	}
	if v := q.Get("flagged"); v != "" {
		if f.FlaggedOnly, err = strconv.ParseBool(v); err != nil {
			return f, registry.Errorf(registry.EMALFORMED, "flagged must be true or false")
		}
	}
	for _, d := range []struct {
		name string
		dst  **time.Time
	}{{"since", &f.Since}, {"until", &f.Until}} {
		if v := q.Get(d.name); v != "" {
			t, err := time.Parse(time.DateOnly, v)
			if err != nil {
				return f, registry.Errorf(registry.EMALFORMED, "%s must be a date YYYY-MM-DD", d.name)
			}
			*d.dst = &t
		}
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 200 {
			return f, registry.Errorf(registry.EMALFORMED, "limit must be a number from 1 to 200")
		}
		f.Limit = n
	}
	return f, nil
}

// handleConsignmentList answers "GET /api/v1/consignments": an exporter's own, an officer's
// province's, each with its checks as things stand.
func (s *Server) handleConsignmentList(w http.ResponseWriter, r *http.Request) error {
	f, err := traceFilter(r)
	if err != nil {
		return err
	}
	cs, err := s.svc.Trace.FindConsignments(r.Context(), f)
	if err != nil {
		return err
	}
	if cs == nil {
		cs = []*registry.Consignment{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"consignments": cs})
	return nil
}

// handleLotList answers "GET /api/v1/lots": a cooperative's own, an officer's province's.
func (s *Server) handleLotList(w http.ResponseWriter, r *http.Request) error {
	f, err := traceFilter(r)
	if err != nil {
		return err
	}
	ls, err := s.svc.Trace.FindLots(r.Context(), f)
	if err != nil {
		return err
	}
	if ls == nil {
		ls = []*registry.HarvestLot{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"lots": ls})
	return nil
}

// handleTraceReport answers "GET /api/v1/trace/report?province=&market=&rule=&since=&until=":
// an officer's report of the code-borrowing checks: flagged lots and consignments, and the lots
// and consignments refused (from the audit log).
func (s *Server) handleTraceReport(w http.ResponseWriter, r *http.Request) error {
	f, err := traceFilter(r)
	if err != nil {
		return err
	}
	f.FlaggedOnly = true
	lots, err := s.svc.Trace.FindLots(r.Context(), f)
	if err != nil {
		return err
	}
	cs, err := s.svc.Trace.FindConsignments(r.Context(), f)
	if err != nil {
		return err
	}
	af := registry.AuditFilter{Outcome: "rejected", ProvinceCode: f.ProvinceCode, Since: f.Since, Until: f.Until, Limit: 200}
	var refused []registry.AuditEntry
	for _, action := range []string{"lot.record", "consignment.record"} {
		af.Action = action
		entries, _, err := s.svc.Audit.FindAuditEntries(r.Context(), af)
		if err != nil {
			return err
		}
		for _, e := range entries {
			if f.Rule == "" || strings.Contains(string(e.After), `"code":"`+f.Rule+`"`) {
				refused = append(refused, e)
			}
		}
	}
	if lots == nil {
		lots = []*registry.HarvestLot{}
	}
	if cs == nil {
		cs = []*registry.Consignment{}
	}
	if refused == nil {
		refused = []registry.AuditEntry{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"lots": lots, "consignments": cs, "refused": refused})
	return nil
}

// handleCodeCheck answers "POST /api/v1/codes/check" {"market", "codes": [...]} or a pasted
// text {"market", "text"} with one code per line (or separated by commas): pass or the flags,
// line by line.
func (s *Server) handleCodeCheck(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Market string   `json:"market"`
		Codes  []string `json:"codes"`
		Text   string   `json:"text"`
	}
	if err := s.decodeStrict(w, r, &in); err != nil {
		return err
	}
	codes := in.Codes
	if in.Text != "" {
		codes = strings.FieldsFunc(in.Text, func(r rune) bool { return r == '\n' || r == ',' || r == ';' || r == '\r' })
	}
	if len(codes) == 0 {
		return fieldError("codes", "paste at least one code")
	}
	out, err := s.svc.Trace.CheckCodes(r.Context(), in.Market, codes)
	if err != nil {
		return err
	}
	pass := true
	for _, c := range out {
		pass = pass && c.Pass
	}
	writeJSON(w, http.StatusOK, map[string]any{"market": strings.ToUpper(in.Market), "pass": pass, "lines": out})
	return nil
}
