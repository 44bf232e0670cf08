package web

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/go-chi/chi/v5"
	"github.com/vungtrong/vungtrong/registry"
)

// handleTracePage answers "GET /t/{code}": a lot's (L-…) or a consignment's (C-…) public page,
// the chain growing area → lot → packing house → consignment, with nothing personal.
func (s *Server) handleTracePage(w http.ResponseWriter, r *http.Request) error {
	lang := pageLang(r)
	code := strings.ToUpper(strings.TrimSpace(chi.URLParam(r, "code")))
	key := "trace:" + lang + ":" + code
	if v, _, ok := s.svc.LookupCache.getAny(key); ok {
		if b, ok := v.([]byte); ok {
			return writeCachedPage(w, b)
		}
	}
	_, gen, _ := s.svc.LookupCache.getAny(key)
	d := s.pageHeader(r, lang, "/t/"+url.PathEscape(code))
	d.Code, d.Title = code, code
	var err error
	switch {
	case strings.HasPrefix(code, "L-"):
		err = s.lotPage(r, lang, code, &d)
	case strings.HasPrefix(code, "C-"):
		err = s.consignmentPage(r, lang, code, &d)
	default:
		err = registry.Errorf(registry.ENOTFOUND, "no lot or consignment %s", code)
	}
	if registry.ErrorCode(err) == registry.ENOTFOUND {
		d.Title = pageText[lang]["notfound.title"]
		return writePage(w, http.StatusNotFound, "notfound", d)
	} else if err != nil {
		return err
	}
	var b strings.Builder
	if err := pageTemplates.ExecuteTemplate(&b, "trace", d); err != nil {
		return err
	}
	s.svc.LookupCache.putAny(key, []byte(b.String()), gen)
	return writeCachedPage(w, []byte(b.String()))
}

// areaRow is the chain's row of a lot's growing area and code.
func (s *Server) areaRow(r *http.Request, lang string, l *registry.HarvestLot) chainRow {
	t := pageText[lang]
	row := chainRow{Label: t["area"], Value: l.Code + " · " + marketName(lang, l.Market), Href: "/v/" + url.PathEscape(l.Code) + "?lang=" + lang}
	if g, err := s.svc.Lookup.FindGrowingArea(r.Context(), l.GrowingAreaID); err == nil {
		row.Detail = g.Name + " · " + strings.Trim(g.CommuneName+", "+g.ProvinceName, ", ")
	}
	return row
}

// houseRow is the chain's row of a packing house and its code.
func (s *Server) houseRow(r *http.Request, lang string, id int64, market, detail string) chainRow {
	t := pageText[lang]
	row := chainRow{Label: t["house"], Detail: detail}
	if h, err := s.svc.Lookup.FindPackingHouse(r.Context(), id); err == nil {
		row.Value = h.Name
		for _, c := range h.Codes {
			if c.Market == market {
				row.Value += " · " + c.Code
				row.Href = "/v/" + url.PathEscape(c.Code) + "?lang=" + lang
			}
		}
	}
	return row
}

func (s *Server) lotPage(r *http.Request, lang, code string, d *pageData) error {
	t := pageText[lang]
	l, err := s.svc.Trace.FindLot(r.Context(), code)
	if err != nil {
		return err
	}
	d.Kind = t["lot"]
	d.Facts = []fact{{t["crop"], s.cropName(r.Context(), lang, l.Crop)}, {t["harvest"], pageDate(lang, l.HarvestedFrom) + " – " + pageDate(lang, l.HarvestedTo)},
		{t["season"], pageNumber(lang, float64(l.Season), 0)}, {t["quantity"], pageNumber(lang, l.QuantityKg, 0) + " kg"},
		{t["plots"], pageNumber(lang, float64(len(l.PlotIDs)), 0)}, {t["market"], marketName(lang, l.Market)}}
	d.Chain = []chainRow{s.areaRow(r, lang, l), {Label: t["lot"], Value: l.PublicCode}}
	if l.PackingHouseID != nil {
		detail := t["received"]
		if l.ReceivedAt != nil {
			detail += " " + pageDate(lang, *l.ReceivedAt) + " · " + pageNumber(lang, l.ReceivedKg, 0) + " kg"
		}
		d.Chain = append(d.Chain, s.houseRow(r, lang, *l.PackingHouseID, l.Market, detail))
	}
	return nil
}

func (s *Server) consignmentPage(r *http.Request, lang, code string, d *pageData) error {
	t := pageText[lang]
	c, err := s.svc.Trace.PublicFlags(r.Context(), code)
	if err != nil {
		return err
	}
	d.Kind = t["consignment"]
	d.Facts = []fact{{t["market"], marketName(lang, c.Market)}, {t["net"], pageNumber(lang, c.NetKg, 0) + " kg"}}
	for _, f := range []struct{ label, v string }{{t["destination"], c.Destination}, {t["container"], c.ContainerNo}, {t["declaration"], c.DeclarationNo}} {
		if f.v != "" {
			d.Facts = append(d.Facts, fact{f.label, f.v})
		}
	}
	if c.ShippedOn != nil {
		d.Facts = append(d.Facts, fact{t["shipped"], pageDate(lang, *c.ShippedOn)})
	}
	for _, cl := range c.Lots {
		l, err := s.svc.Trace.FindLot(r.Context(), cl.PublicCode)
		if err != nil {
			return err
		}
		d.Chain = append(d.Chain, s.areaRow(r, lang, l), chainRow{Label: t["lot"], Value: l.PublicCode, Href: "/t/" + l.PublicCode + "?lang=" + lang,
			Detail: s.cropName(r.Context(), lang, l.Crop) + " · " + pageDate(lang, l.HarvestedFrom) + " – " + pageDate(lang, l.HarvestedTo) + " · " + pageNumber(lang, cl.QuantityKg, 0) + " kg"})
	}
	d.Chain = append(d.Chain, s.houseRow(r, lang, c.PackingHouseID, c.Market, ""), chainRow{Label: t["consignment"], Value: c.PublicCode})
	d.Checks = true
	seen := map[string]bool{}
	for _, f := range c.Flags {
		text := t["rule."+f.Rule]
		if text == "" {
			text = f.Rule
		}
		if f.Lot != "" {
			text += " (" + f.Lot + ")"
		}
		if !seen[text] {
			seen[text] = true
			d.Flags = append(d.Flags, text)
		}
	}
	return nil
}

// handleTraceQR answers "GET /t/{code}/qr.{ext}": the QR of a lot's or consignment's page.
func (s *Server) handleTraceQR(w http.ResponseWriter, r *http.Request) error {
	code := strings.ToUpper(strings.TrimSpace(chi.URLParam(r, "code")))
	var err error
	switch {
	case strings.HasPrefix(code, "L-"):
		_, err = s.svc.Trace.FindLot(r.Context(), code)
	case strings.HasPrefix(code, "C-"):
		_, err = s.svc.Trace.FindConsignment(r.Context(), code)
	default:
		err = registry.Errorf(registry.ENOTFOUND, "no lot or consignment %s", code)
	}
	if err != nil {
		return err
	}
	return writeQR(w, r, s.baseURL(r)+"/t/"+url.PathEscape(code), chi.URLParam(r, "ext"))
}
