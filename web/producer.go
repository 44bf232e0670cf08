package web

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/vungtrong/vungtrong/registry"
)

// producerJSON is a producer as the API shows it: as the service returned it, already without
// the personal fields the caller may not see.
type producerJSON struct {
	ID            int64     `json:"id"`
	Kind          string    `json:"kind"`
	Name          string    `json:"name,omitempty"`
	CitizenID     string    `json:"citizen_id,omitempty"`
	TaxCode       string    `json:"tax_code,omitempty"`
	Phone         string    `json:"phone,omitempty"`
	Address       string    `json:"address,omitempty"`
	CooperativeID *int64    `json:"cooperative_id"`
	ProvinceCode  string    `json:"province_code,omitempty"`
	CommuneCode   string    `json:"commune_code,omitempty"`
	Source        string    `json:"source,omitempty"`
	ExternalID    string    `json:"external_id,omitempty"`
	Version       int       `json:"version"`
	CreatedAt     time.Time `json:"created_at"`
	UpdatedAt     time.Time `json:"updated_at"`
}

func toProducerJSON(p *registry.Producer) producerJSON {
	return producerJSON{ID: p.ID, Kind: p.Kind, Name: p.Name, CitizenID: p.CitizenID, TaxCode: p.TaxCode,
		Phone: p.Phone, Address: p.Address, CooperativeID: p.CooperativeID, ProvinceCode: p.ProvinceCode,
		CommuneCode: p.CommuneCode, Source: p.Source, ExternalID: p.ExternalID, Version: p.Version,
		CreatedAt: p.CreatedAt, UpdatedAt: p.UpdatedAt}
}

// handleProducerList answers "GET /api/v1/producers?q=&kind=&province=&commune=&cooperative=&limit=&cursor=".
// q finds producers by name, citizen ID or phone, among those whose data the caller may see.
func (s *Server) handleProducerList(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	lp, err := s.parseList(q)
	if err != nil {
		return err
	}
	f := registry.ProducerFilter{Limit: lp.limit, After: lp.after, Kind: q.Get("kind"), Q: q.Get("q")}
	if utf8.RuneCountInString(f.Q) > 100 {
		return registry.Errorf(registry.EMALFORMED, "q is longer than 100 characters: search by a name, a citizen ID or a phone number")
	}
	switch f.Kind {
	case "", registry.ProducerHousehold, registry.ProducerCooperative, registry.ProducerEnterprise:
	default:
		return registry.Errorf(registry.EMALFORMED, "kind must be household, cooperative or enterprise")
	}
	if f.CommuneCode, err = codeParam(q, "commune", communeParamRE, "24280"); err != nil {
		return err
	}
	if f.ProvinceCode, err = codeParam(q, "province", provinceParamRE, "66"); err != nil {
		return err
	}
	if f.CooperativeID, err = optionalID(q, "cooperative"); err != nil {
		return err
	}
	page, err := s.svc.Producers.FindProducers(r.Context(), f)
	if err != nil {
		return err
	}
	out := make([]producerJSON, len(page.Producers))
	for i, p := range page.Producers {
		out[i] = toProducerJSON(p)
	}
	resp := map[string]any{"producers": out, "numberReturned": len(out)}
	if page.Next != 0 {
		resp["next_cursor"] = encodeCursor(page.Next)
		resp["links"] = []link{{Rel: "next", Href: nextLink(r, page.Next), Type: contentTypeJSON}}
		w.Header().Set("Link", fmt.Sprintf(`<%s>; rel="next"`, nextLink(r, page.Next)))
	}
	writeJSON(w, http.StatusOK, resp)
	return nil
}

// handleProducerGet answers "GET /api/v1/producers/{id}".
func (s *Server) handleProducerGet(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "producer")
	if err != nil {
		return err
	}
	p, err := s.svc.Producers.FindProducerByID(r.Context(), id)
	if err != nil {
		return err
	}
	w.Header().Set("ETag", etag(p.Version))
	writeJSON(w, http.StatusOK, toProducerJSON(p))
	return nil
}

// handleProducerCreate answers "POST /api/v1/producers".
func (s *Server) handleProducerCreate(w http.ResponseWriter, r *http.Request) error {
	body, err := readBody(w, r, s.cfg.MaxBodyBytes, contentTypeJSON)
	if err != nil {
		return err
	}
	p := &registry.Producer{}
	if err := decodeProducer(body, p); err != nil {
		return err
	}
	if err := s.svc.Producers.CreateProducer(r.Context(), p); err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/producers/"+strconv.FormatInt(p.ID, 10))
	w.Header().Set("ETag", etag(p.Version))
	writeJSON(w, http.StatusCreated, toProducerJSON(p))
	return nil
}

// handleProducerReplace answers "PUT /api/v1/producers/{id}". Needs If-Match.
func (s *Server) handleProducerReplace(w http.ResponseWriter, r *http.Request) error {
	return s.updateProducer(w, r, false)
}

// handleProducerPatch answers "PATCH /api/v1/producers/{id}" (merge patch). Needs If-Match.
func (s *Server) handleProducerPatch(w http.ResponseWriter, r *http.Request) error {
	return s.updateProducer(w, r, true)
}

func (s *Server) updateProducer(w http.ResponseWriter, r *http.Request, patch bool) error {
	id, err := pathID(r, "producer")
	if err != nil {
		return err
	}
	version, err := ifMatchVersion(r)
	if err != nil {
		return err
	}
	body, err := readBody(w, r, s.cfg.MaxBodyBytes, contentTypeJSON, "application/merge-patch+json")
	if err != nil {
		return err
	}
	p := &registry.Producer{}
	if patch {
		if p, err = s.svc.Producers.FindProducerByID(r.Context(), id); err != nil {
			return err
		}
	}
	if err := decodeProducer(body, p); err != nil {
		return err
	}
	p.ID = id
	if err := s.svc.Producers.UpdateProducer(r.Context(), p, version); err != nil {
		return err
	}
	w.Header().Set("ETag", etag(p.Version))
	writeJSON(w, http.StatusOK, toProducerJSON(p))
	return nil
}

// handleProducerDelete answers "DELETE /api/v1/producers/{id}". Needs If-Match.
func (s *Server) handleProducerDelete(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "producer")
	if err != nil {
		return err
	}
	version, err := ifMatchVersion(r)
	if err != nil {
		return err
	}
	if err := s.svc.Producers.DeleteProducer(r.Context(), id, version); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

var readOnlyProducerFields = map[string]bool{"id": true, "version": true, "created_at": true, "updated_at": true}

var producerFieldSetters = map[string]fieldSetter[registry.Producer]{
	"kind":           stringField(func(p *registry.Producer) *string { return &p.Kind }),
	"name":           stringField(func(p *registry.Producer) *string { return &p.Name }),
	"citizen_id":     stringField(func(p *registry.Producer) *string { return &p.CitizenID }),
	"tax_code":       stringField(func(p *registry.Producer) *string { return &p.TaxCode }),
	"phone":          stringField(func(p *registry.Producer) *string { return &p.Phone }),
	"address":        stringField(func(p *registry.Producer) *string { return &p.Address }),
	"province_code":  stringField(func(p *registry.Producer) *string { return &p.ProvinceCode }),
	"commune_code":   stringField(func(p *registry.Producer) *string { return &p.CommuneCode }),
	"source":         stringField(func(p *registry.Producer) *string { return &p.Source }),
	"external_id":    stringField(func(p *registry.Producer) *string { return &p.ExternalID }),
	"cooperative_id": idField(func(p *registry.Producer) **int64 { return &p.CooperativeID }, "a cooperative"),
}

// decodeProducer applies the fields of a JSON object to p: a full body for a create or
// replace (p starts empty), a merge patch for a patch. Every problem is reported at once.
func decodeProducer(body []byte, p *registry.Producer) error {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(body, &fields); err != nil {
		return registry.Errorf(registry.EINVALID, "the body must be a JSON object such as {\"kind\": \"household\", \"name\": \"Nguyễn Văn A\"}")
	}
	if details := applyFields(p, fields, producerFieldSetters, readOnlyProducerFields, "", "field"); len(details) > 0 {
		return registry.Invalid(details)
	}
	return nil
}
