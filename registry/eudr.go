package registry

import (
	"context"
	"fmt"
	"io"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/vungtrong/vungtrong/compliance/eudr"
	"github.com/vungtrong/vungtrong/vntext"
)

// EUDR geolocation export (xuất dữ liệu định vị theo EUDR): the plots of a consignment, or of
// any selection (a producer, a cooperative's members, a growing area, a commune, a province),
// written as the EU Information System takes them (see package compliance/eudr), zipped with a
// summary and the due diligence statements' content. Producer names reach only the roles that
// may see them; the export says which were withheld.

// EUDRExportRequest is what to export: exactly one selection, an optional crop, and how.
type EUDRExportRequest struct {
	// Consignment is a consignment's public code (C-XXXXXXXX): the plots its lots came from.
	Consignment string `json:"consignment,omitempty"`
	// ProducerID: the producer's plots. CooperativeID: the plots of a cooperative's members
	// (and its own). GrowingAreaID: the area's current plots.
	ProducerID    int64 `json:"producer,omitempty"`
	CooperativeID int64 `json:"cooperative,omitempty"`
	GrowingAreaID int64 `json:"growing_area,omitempty"`
	// CommuneCode and ProvinceCode (2025 GSO codes): every plot there.
	CommuneCode  string `json:"commune,omitempty"`
	ProvinceCode string `json:"province,omitempty"`
	// Crop keeps only the plots of one crop (code or name: "coffee", "cà phê").
	Crop string `json:"crop,omitempty"`
	// Points writes plots of 4 ha or less as a point (inside the plot) with their Area, as the
	// EU rules allow; larger plots are always polygons.
	Points bool `json:"points,omitempty"`
	// MaxFileMB bounds each GeoJSON file, in MB of 1,000,000 bytes (default and most: 25).
	MaxFileMB float64 `json:"max_mb,omitempty"`
	// Activity is the statements' activity type: IMPORT (the default: the EU operator who
	// places the goods on the market), EXPORT, DOMESTIC or TRADE.
	Activity string `json:"activity,omitempty"`
}

// EUDRMinFileMB and EUDRMaxFileMB bound EUDRExportRequest.MaxFileMB.
const (
	EUDRMinFileMB = 0.05
	EUDRMaxFileMB = 25
)

var consignmentCodeRE = regexp.MustCompile(`^C-[0-9A-Z]{8}$`)

// Normalize cleans the request's text.
func (r *EUDRExportRequest) Normalize() {
	r.Consignment = strings.ToUpper(strings.TrimSpace(r.Consignment))
	r.CommuneCode, r.ProvinceCode = strings.TrimSpace(r.CommuneCode), strings.TrimSpace(r.ProvinceCode)
	r.Crop = vntext.Clean(r.Crop)
	r.Activity = strings.ToUpper(strings.TrimSpace(r.Activity))
	if r.Activity == "" {
		r.Activity = eudr.ActivityImport
	}
}

// Validate checks the request. It returns an EINVALID *Error listing every problem.
func (r *EUDRExportRequest) Validate() error {
	var details []Detail
	bad := func(field, msg string) { details = append(details, Detail{Field: field, Message: msg}) }
	n := 0
	for _, set := range []bool{r.Consignment != "", r.ProducerID != 0, r.CooperativeID != 0, r.GrowingAreaID != 0, r.CommuneCode != "", r.ProvinceCode != ""} {
		if set {
			n++
		}
	}
	if n != 1 {
		bad("selection", "name exactly one selection: consignment, producer, cooperative, growing_area, commune or province")
	}
	if r.Consignment != "" && !consignmentCodeRE.MatchString(r.Consignment) {
		bad("consignment", "a consignment's code is C- and 8 letters or digits, e.g. C-7K2M9Q4X")
	}
	for _, f := range []struct {
		name string
		id   int64
	}{{"producer", r.ProducerID}, {"cooperative", r.CooperativeID}, {"growing_area", r.GrowingAreaID}} {
		if f.id < 0 {
			bad(f.name, f.name+" must be a positive id")
		}
	}
	if r.CommuneCode != "" && !communeCodeRE.MatchString(r.CommuneCode) {
		bad("commune", "commune must be the 5-digit GSO code, e.g. \"24490\"")
	}
	if r.ProvinceCode != "" && !provinceCodeRE.MatchString(r.ProvinceCode) {
		bad("province", "province must be the 2-digit GSO code, e.g. \"66\" for Đắk Lắk")
	}
	if r.MaxFileMB != 0 && (math.IsNaN(r.MaxFileMB) || r.MaxFileMB < EUDRMinFileMB || r.MaxFileMB > EUDRMaxFileMB) {
		bad("max_mb", fmt.Sprintf("max_mb must be between %g and %g: the EU system takes GeoJSON files of at most 25 MB", EUDRMinFileMB, float64(EUDRMaxFileMB)))
	}
	if r.Activity != "" && !slices.Contains(eudr.Activities, r.Activity) {
		bad("activity", "activity must be one of "+strings.Join(eudr.Activities, ", "))
	}
	if len(details) > 0 {
		return Invalid(details)
	}
	return nil
}

// MaxFileBytes returns the file size limit in bytes.
func (r EUDRExportRequest) MaxFileBytes() int64 {
	if r.MaxFileMB == 0 {
		return eudr.DefaultMaxFileBytes
	}
	return int64(r.MaxFileMB * 1e6)
}

// Selection returns what the request selects, as summary.json names it.
func (r EUDRExportRequest) Selection() map[string]any {
	m := map[string]any{}
	switch {
	case r.Consignment != "":
		m["consignment"] = r.Consignment
	case r.ProducerID != 0:
		m["producer"] = r.ProducerID
	case r.CooperativeID != 0:
		m["cooperative"] = r.CooperativeID
	case r.GrowingAreaID != 0:
		m["growing_area"] = r.GrowingAreaID
	case r.CommuneCode != "":
		m["commune"] = r.CommuneCode
	case r.ProvinceCode != "":
		m["province"] = r.ProvinceCode
	}
	if r.Crop != "" {
		m["crop"] = r.Crop
	}
	return m
}

// Filename names the export's zip: eudr-cooperative-12.zip, eudr-C-7K2M9Q4X.zip.
func (r EUDRExportRequest) Filename() string {
	name := "eudr"
	switch {
	case r.Consignment != "":
		name += "-" + r.Consignment
	case r.ProducerID != 0:
		name += "-producer-" + strconv.FormatInt(r.ProducerID, 10)
	case r.CooperativeID != 0:
		name += "-cooperative-" + strconv.FormatInt(r.CooperativeID, 10)
	case r.GrowingAreaID != 0:
		name += "-growing-area-" + strconv.FormatInt(r.GrowingAreaID, 10)
	case r.CommuneCode != "":
		name += "-commune-" + r.CommuneCode
	case r.ProvinceCode != "":
		name += "-province-" + r.ProvinceCode
	}
	if r.Crop != "" {
		name += "-" + strings.ReplaceAll(vntext.Fold(r.Crop), " ", "-")
	}
	return name + ".zip"
}

// EUDRExportProgress is how far an export has come.
type EUDRExportProgress struct {
	// Stage is "selecting" (finding the plots), "writing" or "storing" (the zip, for a job).
	Stage string `json:"stage"`
	Plots int    `json:"plots"`
	Total int    `json:"total"`
	Files int    `json:"files"`
}

// EUDRExporter writes EUDR exports.
type EUDRExporter interface {
	// ExportEUDR writes the export of req to w as a zip, as the caller (in ctx) may see it
	// (producer names it may not see are withheld, a farmer's selection holds only their own
	// plots), and returns its summary. Returns EINVALID for a bad request or a selection without
	// plots, ENOTFOUND for a selection that does not exist or the caller may not see.
	ExportEUDR(ctx context.Context, req EUDRExportRequest, w io.Writer, progress func(EUDRExportProgress)) (*eudr.Summary, error)
}

// EUDRExportJob is an export running (or run) as a job in the database, kept a day after it
// ends.
type EUDRExportJob struct {
	ID       string             `json:"id"`
	State    string             `json:"state"` // ImportQueued, ImportRunning, ImportDone, ImportFailed
	Request  EUDRExportRequest  `json:"request"`
	Progress EUDRExportProgress `json:"progress"`
	Summary  *eudr.Summary      `json:"summary,omitempty"`
	Error    *ImportJobError    `json:"error,omitempty"`
	// File is the zip, once done.
	File    *EUDRExportFile `json:"file,omitempty"`
	Started time.Time       `json:"started"`
	Ended   *time.Time      `json:"ended,omitempty"`
	Owner   string          `json:"-"`
}

// EUDRExportFile is an export's zip.
type EUDRExportFile struct {
	Name   string `json:"name"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// EUDRExportService runs exports as jobs: any server runs them, every server shows them.
type EUDRExportService interface {
	// StartEUDRExport queues an export. Returns EINVALID for a bad request, EFORBIDDEN for a
	// role that may not export.
	StartEUDRExport(ctx context.Context, req EUDRExportRequest) (*EUDRExportJob, error)
	// FindEUDRExport returns an export the caller started (any, for an admin). Returns
	// ENOTFOUND.
	FindEUDRExport(ctx context.Context, id string) (*EUDRExportJob, error)
	// WriteEUDRExportFile writes the zip of a done export of the caller to w. Returns
	// ENOTFOUND, or ECONFLICT while it is not done.
	WriteEUDRExportFile(ctx context.Context, id string, w io.Writer) error
}

// EUDRScreener is the hook for deforestation screening: it sums up the screening outcome of
// the exported plots for summary.json. Exports without one say "not screened".
type EUDRScreener interface {
	// ScreenEUDRPlots returns the outcome over the plots: low risk, high risk, more
	// information needed, or eudr.NotScreened, with the plots counted by outcome.
	ScreenEUDRPlots(ctx context.Context, plotIDs []int64) (*eudr.Screening, error)
}

// CanExportEUDR reports whether the actor's role may export EUDR geolocation: admins,
// officers, cooperatives and exporters. Which producer names the export carries is decided
// plot by plot (ProducerAccess).
func CanExportEUDR(a Actor) bool {
	switch a.Role {
	case RoleAdmin, RoleOfficer, RoleCooperative, RoleExporter:
		return true
	}
	return false
}
