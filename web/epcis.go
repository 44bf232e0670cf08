package web

import (
	"context"
	"net/http"
	"net/url"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/vungtrong/vungtrong/compliance/epcis"
)

// contentTypeJSONLD is the media type of EPCIS 2.0 documents.
const contentTypeJSONLD = "application/ld+json"

// StoryReader reads what a consignment's EPCIS events tell.
type StoryReader interface {
	// ConsignmentStory returns the story of a consignment, by id or public code: its lots,
	// their growing areas and codes, its packing houses and codes, its exporter's public name.
	// Returns ENOTFOUND, or EFORBIDDEN unless the caller is its exporter, an officer of its
	// packing house's province or an administrator.
	ConsignmentStory(ctx context.Context, ref string) (*epcis.Story, error)
}

// handleConsignmentEPCIS answers "GET /api/v1/consignments/{ref}/epcis": the consignment's
// story as a GS1 EPCIS 2.0 document (JSON-LD): each lot's harvest (commissioning, with the lot's
// master data) and receiving at the packing house, the packing of the lots into the
// consignment and its shipping. Identifiers are URLs under the registry's public address, the
// ones its public pages and QR codes use.
func (s *Server) handleConsignmentEPCIS(w http.ResponseWriter, r *http.Request) error {
	story, err := s.svc.Stories.ConsignmentStory(r.Context(), chi.URLParam(r, "ref"))
	if err != nil {
		return err
	}
	doc, err := epcis.Build(story, epcis.Options{Base: s.baseURL(r), Created: time.Now()})
	if err != nil {
		return err
	}
	name := url.PathEscape(story.Consignment.PublicCode) + ".epcis.jsonld"
	w.Header().Set("Content-Disposition", `inline; filename="`+name+`"`)
	writeEncoded(w, http.StatusOK, contentTypeJSONLD, doc)
	return nil
}
