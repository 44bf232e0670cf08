package registry

import (
	"context"
	"errors"
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
	// ParentIDs are the plots a split or a merge made this one from.
	ParentIDs []int64
	// Retired says how a plot that left the registry left it: RetiredSplit or RetiredMerge,
	// with RetiredInto the plots that replace it; RetiredDeleted for a plain deletion (history
	// only).
	Retired     string
	RetiredInto []int64
	// OverlapReason, on a write, keeps an overlap with a neighbour that the overlap rule would
	// refuse, saying why (officers and administrators only). It is recorded in the write's
	// audit entry, not stored with the plot.
	OverlapReason string
	// NewProducer, on a create, is a household registered with the plot in the same
	// transaction (a cooperative's new member and their first plot): the plot's producer, in
	// the plot's commune and the cooperative's membership when a cooperative writes.
	NewProducer *Producer
}

// How a plot left the registry (Plot.Retired).
const (
	RetiredSplit   = "split"   // cut in pieces by a line
	RetiredMerge   = "merge"   // joined with its neighbours into one plot
	RetiredDeleted = "deleted" // deleted
)

// PlotVersion is one version of a plot, as its history keeps it.
type PlotVersion struct {
	*Plot
	// ValidFrom is when this version was written; ValidTo when the next one replaced it (nil
	// for the current version of a live plot).
	ValidFrom time.Time
	ValidTo   *time.Time
	// WrittenBy is who wrote this version (empty in the public view).
	WrittenBy string
	// Changes names what this version changed from the one before ("geometry", "area_ha",
	// "crop"...); empty for the first version.
	Changes []string
}

// PlotRef names a plot at the version the caller read.
type PlotRef struct {
	ID      int64
	Version int
}

// PlotOverlap is a live neighbour whose interior overlaps a plot.
type PlotOverlap struct {
	// Plot is the neighbour's id.
	Plot int64
	// M2 is the overlap's area in square metres (on the ellipsoid), and Pct that as a share of
	// the smaller of the two plots, in percent.
	M2, Pct float64
	// Blocks says the overlap is above the tolerance: a write would be refused for it.
	Blocks bool
	// Geometry is the overlap itself.
	Geometry orb.MultiPolygon
}

// PlotCheck is what a write of a plot would find, without writing it: the geometry as it
// would be stored (snapped onto its neighbours), its area, every problem, where it lies and
// whether the caller may write there, its overlaps, and a geometry without them.
type PlotCheck struct {
	// Geometry is the plot as a write would store it, and AreaHa its area on the ellipsoid.
	Geometry orb.MultiPolygon
	AreaHa   float64
	// Valid says the geometry passes every geometry rule (OGC validity, inside Vietnam, the
	// vertex and area limits); Problems lists every problem a write would refuse, geometry
	// ones and others (an unknown crop, a commune that does not hold the plot), each located.
	Valid    bool
	Problems []Detail
	// Where the plot lies (2025-scheme codes and names; empty where nothing says).
	ProvinceCode, ProvinceName, CommuneCode, CommuneName string
	// MayWrite says the caller may write the plot there (and, for an edit, where it was);
	// Refusal says why not, as the write's 403 would.
	MayWrite bool
	Refusal  string
	// Overlaps are the live neighbours whose interiors overlap the plot, largest first.
	Overlaps []PlotOverlap
	// Blocked says a write would be refused: a problem, a blocking overlap without an accepted
	// reason, or the jurisdiction.
	Blocked bool
	// Suggested is the plot without the neighbours it overlaps, cleaned of slivers and snapped
	// onto their edges, when some overlap blocks (nil when nothing sensible is left), and
	// SuggestedAreaHa its area.
	Suggested       orb.MultiPolygon
	SuggestedAreaHa float64
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
	// PlotHistory returns every version of a plot, newest first, the current one included; a
	// retired or deleted plot's history is kept for those who could write it. Returns ENOTFOUND.
	PlotHistory(ctx context.Context, id int64) ([]*PlotVersion, error)
	// CheckPlot finds what a write of p would find, without writing anything: for an edit,
	// editing is the plot's id (its current version is left out of the overlaps, and where it
	// lies now is checked too), else 0. Returns ENOTFOUND for an editing id the caller cannot
	// see, EINVALID for a geometry too broken to check.
	CheckPlot(ctx context.Context, p *Plot, editing int64) (*PlotCheck, error)
	// SplitPlot cuts plot id (at version ifVersion) in pieces along line: the pieces become new
	// plots with the plot's properties, and the plot is retired. Returns ENOTFOUND,
	// EPRECONDITION, EFORBIDDEN, or EINVALID for a line that does not cut it in two.
	SplitPlot(ctx context.Context, id int64, ifVersion int, line orb.LineString) ([]*Plot, error)
	// MergePlots joins adjacent plots of one producer (each at the version named) into one new
	// plot, and retires them. Returns ENOTFOUND, EPRECONDITION, EFORBIDDEN, or EINVALID for
	// plots that are not adjacent or not of one producer.
	MergePlots(ctx context.Context, plots []PlotRef) (*Plot, error)
	// RestorePlot writes, as a new version of plot id (at version ifVersion), the plot as it was
	// at version. The overlap rule applies (overlapReason keeps an overlap). Returns
	// ENOTFOUND, EPRECONDITION, EFORBIDDEN or EINVALID.
	RestorePlot(ctx context.Context, id int64, version, ifVersion int, overlapReason string) (*Plot, error)
}

var (
	provinceCodeRE = regexp.MustCompile(`^[0-9]{2}$`)
	communeCodeRE  = regexp.MustCompile(`^[0-9]{5}$`)
)

// Normalize cleans the plot's text fields (NFC, trimmed, single spaces).
func (p *Plot) Normalize() {
	for _, s := range []*string{&p.Crop, &p.Variety, &p.CadastralSheet, &p.CadastralParcel, &p.LandCertNo, &p.Source, &p.ExternalID, &p.ProvinceCode, &p.CommuneCode, &p.OverlapReason} {
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
	if utf8.RuneCountInString(p.OverlapReason) > 500 {
		bad("overlap_reason", "overlap_reason is longer than 500 characters")
	}
	if p.ProducerID != nil && *p.ProducerID <= 0 {
		bad("properties.producer_id", "producer_id must be a positive id")
	}
	if np := p.NewProducer; np != nil {
		if p.ProducerID != nil {
			bad("properties.producer", "give either producer_id (an existing producer) or producer (a new household), not both")
		}
		np.Normalize()
		if np.Kind == "" {
			np.Kind = ProducerHousehold
		}
		if np.Kind != ProducerHousehold {
			bad("properties.producer.kind", "a producer registered with a plot is a household; register a cooperative or enterprise on its own")
		} else if err := np.Validate(); err != nil {
			var e *Error
			if errors.As(err, &e) {
				for _, d := range e.Details {
					d.Field = "properties.producer." + d.Field
					details = append(details, d)
				}
			} else {
				return err
			}
		}
	}
	if len(details) > 0 {
		return Invalid(details)
	}
	return nil
}
