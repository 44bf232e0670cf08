package registry

import (
	"context"
	"regexp"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/paulmach/orb"
	"github.com/vungtrong/vungtrong/vntext"
)

// Plot is a farm plot (thửa, điểm sản xuất): a polygon in WGS 84 with what grows on it.
type Plot struct {
	ID         int64
	ProducerID *int64
	// ProvinceCode and CommuneCode are 2025-scheme GSO codes ("66", "24280").
	ProvinceCode string
	CommuneCode  string
	// Crop is a crop code from the crop list ("coffee"); input may name it in Vietnamese or English.
	Crop            string
	Variety         string
	PlantingYear    int
	CadastralSheet  string // số tờ
	CadastralParcel string // số thửa
	LandCertNo      string `personal:"true"` // số giấy chứng nhận QSDĐ
	// Source and ExternalID name the plot in the file or system it came from.
	Source     string
	ExternalID string
	Geometry   orb.MultiPolygon
	// AreaHa is computed by the store on the ellipsoid; input is ignored.
	AreaHa    float64
	Version   int
	CreatedAt time.Time
	UpdatedAt time.Time
	CreatedBy string
	UpdatedBy string
	DeletedAt *time.Time
}

// PlotFilter selects plots for FindPlots. Zero fields do not filter.
type PlotFilter struct {
	// BBox keeps plots whose geometry intersects it.
	BBox         *orb.Bound
	ProvinceCode string
	CommuneCode  string
	Crop         string
	ProducerID   int64
	// After is the cursor: only plots with a larger id.
	After int64
	// Limit is the page size; the store caps it.
	Limit int
}

// PlotPage is one page of plots, and the cursor of the next page (0 when this is the last).
type PlotPage struct {
	Plots []*Plot
	Next  int64
}

// PlotService stores plots. Every write runs in one transaction with the plot's history and
// its audit record.
type PlotService interface {
	// FindPlotByID returns a live plot. Returns ENOTFOUND.
	FindPlotByID(ctx context.Context, id int64) (*Plot, error)
	// FindPlots returns one page of live plots in id order. Returns EINVALID for a bad filter.
	FindPlots(ctx context.Context, f PlotFilter) (*PlotPage, error)
	// CreatePlot validates and stores p, and fills in its id, area, version and times.
	// Returns EINVALID for a geometry or property that breaks a rule.
	CreatePlot(ctx context.Context, p *Plot) error
	// UpdatePlot replaces the plot p.ID with p if its current version is ifVersion, keeping the
	// earlier version in the history. Returns ENOTFOUND, EPRECONDITION (another change came
	// first) or EINVALID.
	UpdatePlot(ctx context.Context, p *Plot, ifVersion int) error
	// DeletePlot marks the plot deleted if its current version is ifVersion. Returns ENOTFOUND
	// or EPRECONDITION.
	DeletePlot(ctx context.Context, id int64, ifVersion int) error
	// PlotHistory returns the earlier versions of a plot, newest first. Returns ENOTFOUND.
	PlotHistory(ctx context.Context, id int64) ([]*Plot, error)
}

var (
	provinceCodeRE = regexp.MustCompile(`^[0-9]{2}$`)
	communeCodeRE  = regexp.MustCompile(`^[0-9]{5}$`)
)

// Normalize cleans the plot's text fields (NFC, trimmed, single spaces).
func (p *Plot) Normalize() {
	for _, s := range []*string{&p.Crop, &p.Variety, &p.CadastralSheet, &p.CadastralParcel, &p.LandCertNo, &p.Source, &p.ExternalID, &p.ProvinceCode, &p.CommuneCode} {
		*s = vntext.Clean(*s)
	}
}

// Validate checks the plot's properties (the geometry has its own checks in package geo and in
// the store). It returns an EINVALID *Error listing every problem.
func (p *Plot) Validate(now time.Time) error {
	var details []Detail
	bad := func(field, msg string) { details = append(details, Detail{Field: field, Message: msg}) }
	if p.Crop == "" {
		bad("properties.crop", "crop is required, e.g. \"cà phê\" or \"coffee\"")
	}
	if p.PlantingYear != 0 && (p.PlantingYear < 1900 || p.PlantingYear > now.Year()+1) {
		bad("properties.planting_year", "planting_year must be a year between 1900 and next year")
	}
	if p.ProvinceCode != "" && !provinceCodeRE.MatchString(p.ProvinceCode) {
		bad("properties.province_code", "province_code must be the 2-digit GSO code, e.g. \"66\" for Đắk Lắk")
	}
	if p.CommuneCode != "" && !communeCodeRE.MatchString(p.CommuneCode) {
		bad("properties.commune_code", "commune_code must be the 5-digit GSO code, e.g. \"24280\"")
	}
	for _, f := range []struct {
		name  string
		value string
		max   int
	}{
		{"crop", p.Crop, 60}, {"variety", p.Variety, 100}, {"cadastral_sheet", p.CadastralSheet, 20},
		{"cadastral_parcel", p.CadastralParcel, 20}, {"land_cert_no", p.LandCertNo, 40},
		{"source", p.Source, 200}, {"external_id", p.ExternalID, 200},
	} {
		if utf8.RuneCountInString(f.value) > f.max {
			bad("properties."+f.name, f.name+" is longer than "+strconv.Itoa(f.max)+" characters")
		}
	}
	if p.ProducerID != nil && *p.ProducerID <= 0 {
		bad("properties.producer_id", "producer_id must be a positive id")
	}
	if len(details) > 0 {
		return Invalid(details)
	}
	return nil
}
