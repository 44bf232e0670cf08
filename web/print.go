package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"encoding/csv"
	"fmt"
	"html/template"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/vungtrong/vungtrong/registry"
)

// The dossier a growing area's application needs, generated from the registry (its KML for
// Google Earth, its household and plot list as CSV and as a printable page), and each code's
// print-ready decision page (Vietnamese, A4, with a QR code that opens the public lookup).
// Signed in only: they name households.

//go:embed print
var printFS embed.FS

var (
	printCSS       = template.CSS(mustReadFS(printFS, "print/print.css"))
	printTemplates = template.Must(template.New("").ParseFS(printFS, "print/*.html"))
	printCSP       = func() string {
		sum := sha256.Sum256([]byte(printCSS))
		return "default-src 'none'; style-src 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'self'"
	}()
)

func mustReadFS(fs embed.FS, name string) string {
	b, err := fs.ReadFile(name)
	if err != nil {
		panic(err)
	}
	return string(b)
}

func (s *Server) dossiers() (registry.DossierService, error) {
	if s.svc.Dossiers == nil {
		return nil, registry.Errorf(registry.EUNAVAILABLE, "dossiers are not available on this server")
	}
	return s.svc.Dossiers, nil
}

// printPlot is a plot row of a printed list.
type printPlot struct {
	N                                                   int
	ID                                                  int64
	Household, Commune, Crop, Planted, AreaHa, Position string
}

// printData is what the print templates show.
type printData struct {
	CSS                                               template.CSS
	Code, KindText, Market, MarketCode, Status        string
	ValidFrom, ValidTo, Document, Authority, Province string
	Day, Month, Year                                  string
	AreaName, Registrant, Place, Crops, AreaHa        string
	PlotCount, Households                             int
	HouseName, HouseAddress                           string
	Plots                                             []printPlot
	QR                                                template.URL
	LookupURL, Printed                                string
}

func dossierData(d *registry.AreaDossier, p *printData) {
	p.AreaName, p.Registrant, p.Crops = d.Name, d.Registrant.Name, strings.Join(d.Crops, ", ")
	p.Place = strings.Trim(d.Commune+", "+d.Province, ", ")
	p.AreaHa = pageNumber("vi", d.AreaHa, 4)
	p.PlotCount, p.Households = len(d.Plots), d.Households
	for i, pl := range d.Plots {
		planted := ""
		if pl.PlantedYear != nil {
			planted = strconv.Itoa(*pl.PlantedYear)
		}
		crop := pl.Crop
		if pl.Variety != "" {
			crop += ", " + pl.Variety
		}
		p.Plots = append(p.Plots, printPlot{N: i + 1, ID: pl.ID, Household: pl.Household, Commune: pl.Commune, Crop: crop, Planted: planted,
			AreaHa: pageNumber("vi", pl.AreaHa, 4), Position: fmt.Sprintf("%.6f, %.6f", pl.Centroid[0], pl.Centroid[1])})
	}
}

func writePrint(w http.ResponseWriter, name string, d printData) error {
	d.CSS = printCSS
	d.Printed = pageDate("vi", time.Now())
	var b bytes.Buffer
	if err := printTemplates.ExecuteTemplate(&b, name, d); err != nil {
		return err
	}
	w.Header().Set("Content-Security-Policy", printCSP)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "private, no-store")
	_, _ = w.Write(b.Bytes())
	return nil
}

var vietStatus = map[string]string{registry.CodeActive: "đang hiệu lực", registry.CodeSuspended: "tạm dừng", registry.CodeExpired: "hết hạn",
	registry.CodeRevoked: "bị thu hồi", registry.CodeDraft: "dự thảo", registry.CodeSubmitted: "đã nộp", registry.CodeInspected: "đã kiểm tra"}

// handleDecisionPrint answers "GET /print/codes/{code}": the decision that issued a code, to print.
func (s *Server) handleDecisionPrint(w http.ResponseWriter, r *http.Request) error {
	svc, err := s.dossiers()
	if err != nil {
		return err
	}
	p, err := svc.DecisionPage(r.Context(), codeFromPath(r))
	if err != nil {
		return err
	}
	lookup := s.baseURL(r) + "/v/" + url.PathEscape(p.Code.Code)
	dark, err := qrModules(lookup)
	if err != nil {
		return err
	}
	d := printData{Code: p.Code.Code, Market: marketName("vi", p.Code.Market), MarketCode: p.Code.Market, Status: vietStatus[p.Code.Status],
		Document: cmpOr(p.Code.Document, "……"), Authority: p.Code.Authority, Province: cmpOr(p.Province, "……"), LookupURL: lookup,
		QR: template.URL("data:image/svg+xml;base64," + base64.StdEncoding.EncodeToString(qrSVG(dark, p.Code.Code)))}
	d.KindText = "vùng trồng"
	if p.House != nil {
		d.KindText = "cơ sở đóng gói"
		d.HouseName, d.HouseAddress = p.House.Name, p.HouseAddress
	}
	if p.Code.ValidFrom != nil {
		d.ValidFrom = p.Code.ValidFrom.Format("02/01/2006")
	}
	if p.Code.ValidTo != nil {
		d.ValidTo = p.Code.ValidTo.Format("02/01/2006")
	}
	on := time.Now()
	if p.DecidedAt != nil {
		on = *p.DecidedAt
	} else if p.Code.ValidFrom != nil {
		on = *p.Code.ValidFrom
	}
	on = on.In(vietnam)
	d.Day, d.Month, d.Year = on.Format("02"), on.Format("01"), on.Format("2006")
	if p.Area != nil {
		dossierData(p.Area, &d)
	}
	return writePrint(w, "decision", d)
}

// handleHouseholdsPrint answers "GET /print/growing-areas/{id}/households": the household and
// plot list of the dossier, to print.
func (s *Server) handleHouseholdsPrint(w http.ResponseWriter, r *http.Request) error {
	d, err := s.areaDossier(r)
	if err != nil {
		return err
	}
	var p printData
	dossierData(d, &p)
	return writePrint(w, "households", p)
}

func (s *Server) areaDossier(r *http.Request) (*registry.AreaDossier, error) {
	svc, err := s.dossiers()
	if err != nil {
		return nil, err
	}
	id, err := pathID(r, "growing area")
	if err != nil {
		return nil, err
	}
	return svc.AreaDossier(r.Context(), id)
}

// handleAreaPlots answers "GET /api/v1/growing-areas/{id}/plots": the area's plots with their
// households (the registrant, officers of the province).
func (s *Server) handleAreaPlots(w http.ResponseWriter, r *http.Request) error {
	d, err := s.areaDossier(r)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, d)
	return nil
}

// handleHouseholdsCSV answers "GET /api/v1/growing-areas/{id}/households.csv".
func (s *Server) handleHouseholdsCSV(w http.ResponseWriter, r *http.Request) error {
	d, err := s.areaDossier(r)
	if err != nil {
		return err
	}
	var b bytes.Buffer
	b.WriteString("\ufeff") // so that Excel reads the Vietnamese as UTF-8
	cw := csv.NewWriter(&b)
	_ = cw.Write([]string{"stt", "ma_thua", "ho", "xa", "cay_trong", "giong", "nam_trong", "dien_tich_ha", "kinh_do", "vi_do"})
	for i, p := range d.Plots {
		planted := ""
		if p.PlantedYear != nil {
			planted = strconv.Itoa(*p.PlantedYear)
		}
		_ = cw.Write([]string{strconv.Itoa(i + 1), strconv.FormatInt(p.ID, 10), p.Household, p.Commune, p.Crop, p.Variety, planted,
			strconv.FormatFloat(p.AreaHa, 'f', 4, 64), strconv.FormatFloat(p.Centroid[0], 'f', 6, 64), strconv.FormatFloat(p.Centroid[1], 'f', 6, 64)})
	}
	cw.Flush()
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": fmt.Sprintf("vung-trong-%d-danh-sach-ho.csv", d.ID)}))
	w.Header().Set("Cache-Control", "private, no-store")
	_, _ = w.Write(b.Bytes())
	return nil
}

// handleDossierKML answers "GET /api/v1/growing-areas/{id}/dossier.kml": the area's plots for
// Google Earth, each named by its id and household.
func (s *Server) handleDossierKML(w http.ResponseWriter, r *http.Request) error {
	d, err := s.areaDossier(r)
	if err != nil {
		return err
	}
	var b strings.Builder
	esc := func(v string) string { return template.HTMLEscapeString(v) }
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n" + `<kml xmlns="http://www.opengis.net/kml/2.2"><Document>`)
	fmt.Fprintf(&b, "<name>%s</name><description>%s; %s ha; %d thửa; %d hộ</description>", esc(d.Name), esc(d.Registrant.Name), pageNumber("vi", d.AreaHa, 4), len(d.Plots), d.Households)
	b.WriteString(`<Style id="plot"><LineStyle><color>ff1f7a2e</color><width>2</width></LineStyle><PolyStyle><color>552e7d4f</color></PolyStyle></Style>`)
	for _, p := range d.Plots {
		fmt.Fprintf(&b, "\n<Placemark><name>Thửa %d</name><description>%s; %s; %s ha</description><styleUrl>#plot</styleUrl>", p.ID, esc(p.Household), esc(p.Crop), pageNumber("vi", p.AreaHa, 4))
		fmt.Fprintf(&b, `<ExtendedData><Data name="plot_id"><value>%d</value></Data><Data name="household"><value>%s</value></Data><Data name="area_ha"><value>%.4f</value></Data></ExtendedData>`, p.ID, esc(p.Household), p.AreaHa)
		b.WriteString(p.KML)
		b.WriteString("</Placemark>")
	}
	b.WriteString("\n</Document></kml>\n")
	w.Header().Set("Content-Type", "application/vnd.google-earth.kml+xml")
	w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": fmt.Sprintf("vung-trong-%d.kml", d.ID)}))
	w.Header().Set("Cache-Control", "private, no-store")
	_, _ = w.Write([]byte(b.String()))
	return nil
}
