package web

import (
	"bytes"
	"context"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/vungtrong/vungtrong/registry"
)

// The public pages a buyer or an inspector opens from a QR code on a carton: a code's
// (/v/{code}), a lot's and a consignment's (/t/{code}). Server-rendered HTML with its style
// inline and no script: fast on a cheap phone, without the map's bundle. Nothing personal.

//go:embed pages
var pagesFS embed.FS

var (
	pageCSS       = template.CSS(mustRead("pages/page.css"))
	pageTemplates = template.Must(template.New("").ParseFS(pagesFS, "pages/*.html"))
	// pageCSP lets the page's own style, and nothing else but its images, apply.
	pageCSP = func() string {
		sum := sha256.Sum256([]byte(pageCSS))
		return "default-src 'none'; style-src 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
	}()
)

func mustRead(name string) string {
	b, err := pagesFS.ReadFile(name)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// statusView is a status as a page shows it: its words and its colour (CSS class).
type statusView struct{ Class, Text string }

type fact struct{ Label, Value string }

type codeLink struct {
	Code, Href string
	Status     statusView
}

type linkRow struct {
	Name  string
	Codes []codeLink
}

type historyRow struct {
	Date, Code, Class, Status, Reason, Document string
}

type langLink struct {
	Code, Label, Href string
	Current           bool
}

// pageData is what the templates show.
type pageData struct {
	T                       map[string]string
	Lang, Title, Kind, Code string
	CSS                     template.CSS
	Langs                   []langLink
	Status                  statusView
	Market                  string
	Markets                 []codeLink
	Subject                 string
	Facts                   []fact
	LinksTitle              string
	Links                   []linkRow
	Outline                 *outlineView
	History                 []historyRow
	PageURL, QRSVG, QRPNG   string
	Checked                 string
	Chain                   []chainRow
	Checks                  bool
	Flags                   []string
}

type outlineView struct{ ViewBox, Path string }

type chainRow struct{ Label, Value, Href, Detail string }

// codeStatus is a code's status today, in words: active (within its validity), suspended
// since when, revoked, expired, or under review.
func codeStatus(lang string, c registry.CodeRef, since *time.Time) statusView {
	t := pageText[lang]
	today := time.Now().In(vietnam).Format(time.DateOnly)
	switch c.Status {
	case registry.CodeActive:
		switch {
		case c.ValidTo != nil && c.ValidTo.Format(time.DateOnly) < today:
			return statusView{"expired", t["status.expired"] + " " + t["since"] + " " + pageDate(lang, c.ValidTo.AddDate(0, 0, 1))}
		case c.ValidFrom != nil && c.ValidFrom.Format(time.DateOnly) > today:
			return statusView{"not_yet_valid", t["status.not_yet_valid"] + " (" + t["since"] + " " + pageDate(lang, *c.ValidFrom) + ")"}
		case c.ValidTo != nil:
			return statusView{"active", t["status.active"] + " " + t["until"] + " " + pageDate(lang, *c.ValidTo)}
		}
		return statusView{"active", t["status.active"]}
	case registry.CodeExpired:
		text := t["status.expired"]
		if c.ValidTo != nil {
			text += " " + t["since"] + " " + pageDate(lang, c.ValidTo.AddDate(0, 0, 1))
		}
		return statusView{"expired", text}
	case registry.CodeSuspended:
		text := t["status.suspended"]
		if since != nil {
			text += " " + t["since"] + " " + pageDate(lang, *since)
		}
		return statusView{"suspended", text}
	case registry.CodeRevoked:
		text := t["status.revoked"]
		if since != nil {
			text += " " + t["since"] + " " + pageDate(lang, *since)
		}
		return statusView{"revoked", text}
	}
	return statusView{"pending", t["status.pending"]}
}

// pageHeader fills what every page shows: language links, QR addresses, the time.
func (s *Server) pageHeader(r *http.Request, lang, path string) pageData {
	d := pageData{T: pageText[lang], Lang: lang, CSS: pageCSS}
	for _, l := range pageLangs {
		d.Langs = append(d.Langs, langLink{Code: l.Code, Label: l.Label, Href: path + "?lang=" + l.Code, Current: l.Code == lang})
	}
	d.PageURL = s.baseURL(r) + path
	d.QRSVG, d.QRPNG = path+"/qr.svg", path+"/qr.png"
	d.Checked = time.Now().In(vietnam).Format("15:04 ") + pageDate(lang, time.Now())
	return d
}

// cropNames caches the crop list's names for the pages.
type cropNameCache struct {
	mu    sync.Mutex
	at    time.Time
	names map[string][2]string
}

func (s *Server) cropName(ctx context.Context, lang, code string) string {
	c := &s.crops
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.names == nil || time.Since(c.at) > 10*time.Minute {
		if crops, err := s.svc.Crops.ListCrops(ctx); err == nil {
			c.names = map[string][2]string{}
			for _, cr := range crops {
				c.names[cr.Code] = [2]string{cr.NameVI, cr.NameEN}
			}
			c.at = time.Now()
		}
	}
	if lang == "zh" {
		if n, ok := cropNamesZH[code]; ok {
			return n
		}
	}
	if n, ok := c.names[code]; ok {
		return n[min(langIndex(lang), 1)]
	}
	return code
}

// writePage renders a page template with the page's own CSP.
func writePage(w http.ResponseWriter, status int, name string, d pageData) error {
	var b bytes.Buffer
	if err := pageTemplates.ExecuteTemplate(&b, name, d); err != nil {
		return err
	}
	w.Header().Set("Content-Security-Policy", pageCSP)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=60")
	w.Header().Set("Vary", "Accept-Language")
	w.WriteHeader(status)
	_, _ = w.Write(b.Bytes())
	return nil
}

// handleCodePage answers "GET /v/{code}": a code's public page, any spelling of the code.
func (s *Server) handleCodePage(w http.ResponseWriter, r *http.Request) error {
	lang := pageLang(r)
	code := codeFromPath(r)
	key := "page:" + lang + ":" + strings.ToUpper(nonAlnum.ReplaceAllString(code, ""))
	if v, _, ok := s.svc.LookupCache.getAny(key); ok {
		if b, ok := v.([]byte); ok {
			return writeCachedPage(w, b)
		}
	}
	_, gen, _ := s.svc.LookupCache.getAny(key)
	p, err := s.svc.Lookup.CodePage(r.Context(), code)
	if registry.ErrorCode(err) == registry.ENOTFOUND {
		d := s.pageHeader(r, lang, "/v/"+url.PathEscape(code))
		d.Title, d.Code = pageText[lang]["notfound.title"], code
		return writePage(w, http.StatusNotFound, "notfound", d)
	} else if err != nil {
		return err
	}
	d := s.codePageData(r, lang, p)
	var b bytes.Buffer
	if err := pageTemplates.ExecuteTemplate(&b, "code", d); err != nil {
		return err
	}
	s.svc.LookupCache.putAny(key, b.Bytes(), gen)
	return writeCachedPage(w, b.Bytes())
}

func writeCachedPage(w http.ResponseWriter, b []byte) error {
	w.Header().Set("Content-Security-Policy", pageCSP)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=60")
	w.Header().Set("Vary", "Accept-Language")
	_, _ = w.Write(b)
	return nil
}

// lastChange is when a code last took its present status, from its history.
func lastChange(h []registry.CodeEventView, status string) *time.Time {
	for _, e := range h {
		if e.To == status {
			at := e.At
			return &at
		}
	}
	return nil
}

func (s *Server) codePageData(r *http.Request, lang string, p *registry.CodePage) pageData {
	t := pageText[lang]
	c := p.Code
	d := s.pageHeader(r, lang, "/v/"+url.PathEscape(c.Code))
	d.Code, d.Title = c.Code, c.Code
	d.Status = codeStatus(lang, c, lastChange(p.History[c.ID], c.Status))
	d.Market = marketName(lang, c.Market)
	link := func(cr registry.CodeRef) codeLink {
		return codeLink{Code: cr.Code, Href: "/v/" + url.PathEscape(cr.Code) + "?lang=" + lang,
			Status: codeStatus(lang, cr, lastChange(p.History[cr.ID], cr.Status))}
	}
	var codes []registry.CodeRef
	if g := p.GrowingArea; g != nil {
		d.Kind, d.Subject, d.LinksTitle = t["kind.area"], t["area"]+": "+g.Name, t["houses"]
		codes = g.Codes
		crops := make([]string, len(g.Crops))
		for i, cr := range g.Crops {
			crops[i] = s.cropName(r.Context(), lang, cr)
		}
		supervised := t["never"]
		if g.LastInspected != nil {
			supervised = pageDate(lang, *g.LastInspected)
		}
		d.Facts = []fact{{t["crop"], strings.Join(crops, ", ")}, {t["size"], hectares(lang, g.AreaHa)},
			{t["place"], strings.Trim(g.CommuneName+", "+g.ProvinceName, ", ")}, {t["households"], pageNumber(lang, float64(g.Households), 0)},
			{t["plots"], pageNumber(lang, float64(g.Plots), 0)}, {t["supervised"], supervised}}
		if g.Registrant != "" {
			d.Facts = append(d.Facts, fact{t["registrant"], g.Registrant})
		}
		for _, h := range g.PackingHouses {
			row := linkRow{Name: h.Name}
			for _, hc := range h.Codes {
				row.Codes = append(row.Codes, codeLink{Code: hc.Code, Href: "/v/" + url.PathEscape(hc.Code) + "?lang=" + lang, Status: codeStatus(lang, hc, nil)})
			}
			d.Links = append(d.Links, row)
		}
		if d.Links == nil {
			d.Links = []linkRow{}
		}
		if o := p.Outline; o != nil {
			d.Outline = &outlineView{Path: o.Path, ViewBox: fmt.Sprintf("%.1f %.1f %.1f %.1f", o.ViewBox[0], o.ViewBox[1], o.ViewBox[2], o.ViewBox[3])}
		}
	} else if h := p.PackingHouse; h != nil {
		d.Kind, d.Subject, d.LinksTitle = t["kind.house"], t["house"]+": "+h.Name, t["areas"]
		codes = h.Codes
		d.Facts = []fact{{t["place"], strings.Trim(h.CommuneName+", "+h.ProvinceName, ", ")}}
		if h.Operator != "" {
			d.Facts = append(d.Facts, fact{t["operator"], h.Operator})
		}
		for _, a := range h.GrowingAreas {
			row := linkRow{Name: a.Name}
			for _, ac := range a.Codes {
				row.Codes = append(row.Codes, codeLink{Code: ac.Code, Href: "/v/" + url.PathEscape(ac.Code) + "?lang=" + lang, Status: codeStatus(lang, ac, nil)})
			}
			d.Links = append(d.Links, row)
		}
		if d.Links == nil {
			d.Links = []linkRow{}
		}
	}
	for _, cr := range codes {
		l := link(cr)
		d.Markets = append(d.Markets, codeLink{Code: cr.Code + " · " + marketName(lang, cr.Market), Href: l.Href, Status: l.Status})
		for _, e := range p.History[cr.ID] {
			st := codeStatus(lang, registry.CodeRef{Status: e.To}, nil)
			reason := ""
			if e.Reason != "" {
				reason = t["reason."+e.Reason]
			}
			d.History = append(d.History, historyRow{Date: pageDate(lang, e.At), Code: cr.Code + " (" + cr.Market + ")", Class: st.Class, Status: st.Text, Reason: reason, Document: e.Document})
		}
	}
	return d
}

// handleCodeQR answers "GET /v/{code}/qr.{ext}": the QR of the code's page address.
func (s *Server) handleCodeQR(w http.ResponseWriter, r *http.Request) error {
	l, err := s.lookupCode(r)
	if err != nil {
		return err
	}
	return writeQR(w, r, s.baseURL(r)+"/v/"+url.PathEscape(l.Code.Code), chi.URLParam(r, "ext"))
}
