package registry

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/paulmach/orb"
	"github.com/vungtrong/vungtrong/geo"
)

// Deforestation screening (EUDR, Regulation (EU) 2023/1115): each plot is overlaid with forest
// baselines (where was forest at the end of 2020, where was tree cover lost and when) and given
// a risk by Whisp's rule for perennial crops. Global maps often read Vietnam's coffee as
// forest: screening flags, a person decides.

// BaselineKind is what a baseline raster maps.
type BaselineKind string

// The kinds of baseline.
const (
	// BaselineForest2020 is JRC Global Forest Cover 2020 (10 m): 1 = forest at the end of 2020.
	BaselineForest2020 BaselineKind = "forest2020"
	// BaselineTreecover2000 is Hansen Global Forest Change treecover2000: canopy cover in 2000,
	// in percent.
	BaselineTreecover2000 BaselineKind = "treecover2000"
	// BaselineLossYear is Hansen Global Forest Change lossyear: n = tree cover lost in year
	// 2000+n, 0 = no loss.
	BaselineLossYear BaselineKind = "lossyear"
)

// BaselineKinds lists the kinds, in the order screening reads them.
var BaselineKinds = []BaselineKind{BaselineForest2020, BaselineTreecover2000, BaselineLossYear}

// ParseBaselineKind returns the kind named s. Returns EINVALID for another name.
func ParseBaselineKind(s string) (BaselineKind, error) {
	k := BaselineKind(strings.ToLower(strings.TrimSpace(s)))
	if slices.Contains(BaselineKinds, k) {
		return k, nil
	}
	return "", &Error{Code: EINVALID, Message: fmt.Sprintf("baseline kind %q: use forest2020 (JRC Global Forest Cover 2020), treecover2000 or lossyear (Hansen Global Forest Change)", s),
		Details: []Detail{{Field: "kind", Message: "forest2020, treecover2000 or lossyear"}}}
}

// ValueRange returns the values a raster of the kind may hold (no-data pixels aside), and
// what they mean, for the message that refuses a file holding others.
func (k BaselineKind) ValueRange(now time.Time) (lo, hi float64, meaning string) {
	switch k {
	case BaselineForest2020:
		return 0, 1, "1 (forest) and 0 (not forest)"
	case BaselineTreecover2000:
		return 0, 100, "canopy cover in percent, 0 to 100"
	case BaselineLossYear:
		last := float64(now.Year() - 2000)
		return 0, last, fmt.Sprintf("the year of the loss less 2000, 0 (no loss) to %.0f", last)
	}
	return 0, 0, ""
}

// DefaultDataset returns the dataset a file of the kind comes from, and the date its map stands
// for, when the loader is not told. A loss map's date is the end of the last year it holds
// (lastValue).
func (k BaselineKind) DefaultDataset(lastValue float64) (string, time.Time) {
	switch k {
	case BaselineForest2020:
		return "JRC Global Forest Cover 2020", time.Date(2020, 12, 31, 0, 0, 0, 0, time.UTC)
	case BaselineTreecover2000:
		return "Hansen Global Forest Change (treecover2000)", time.Date(2000, 12, 31, 0, 0, 0, 0, time.UTC)
	}
	year := 2000 + int(max(lastValue, 1))
	return "Hansen Global Forest Change (lossyear)", time.Date(year, 12, 31, 0, 0, 0, 0, time.UTC)
}

// RasterInfo is what a raster file says about itself, read before any pixel is loaded.
type RasterInfo struct {
	// File is the file's name, for messages.
	File string
	// CRS is the coordinate system's definition (WKT); empty when the file has none.
	CRS string
	// EPSG is the coordinate system's EPSG code, 0 when it has none.
	EPSG int
	// Bounds is the file's extent in its coordinate system.
	Bounds orb.Bound
	// PixelWidth and PixelHeight are the size of a pixel in the coordinate system's units.
	PixelWidth, PixelHeight float64
	Width, Height           int
	// Rotated is set when the grid is not aligned with the axes.
	Rotated bool
	Bands   int
	// BandType is the first band's data type (Byte, Int16, Float32...).
	BandType string
}

// Check refuses a raster screening cannot use: no coordinate system, another system than
// WGS 84 longitude/latitude (EPSG:4326, the system of the JRC and Hansen tiles), a rotated grid,
// no band, or an extent outside Vietnam. Returns EINVALID saying what to do.
func (ri RasterInfo) Check() error {
	bad := func(msg string, args ...any) error {
		m := fmt.Sprintf("%s: ", ri.File) + fmt.Sprintf(msg, args...)
		return &Error{Code: EINVALID, Message: m, Details: []Detail{{Field: "file", Message: m}}}
	}
	switch {
	case ri.CRS == "" && ri.EPSG == 0:
		return bad("the file has no coordinate system; JRC and Hansen tiles are in WGS 84 (EPSG:4326): assign it with `gdal_translate -a_srs EPSG:4326` if you know that is right")
	case ri.EPSG != geo.SRID:
		what := "another coordinate system"
		if ri.EPSG != 0 {
			what = fmt.Sprintf("EPSG:%d", ri.EPSG)
		}
		return bad("the file is in %s; baselines must be in WGS 84 longitude/latitude (EPSG:4326), as the JRC and Hansen tiles are: reproject it with `gdalwarp -t_srs EPSG:4326 -r near`", what)
	case ri.Rotated:
		return bad("the file's grid is rotated; warp it to a north-up grid with `gdalwarp -t_srs EPSG:4326`")
	case ri.Bands < 1:
		return bad("the file has no raster band")
	case ri.Width <= 0 || ri.Height <= 0 || !(ri.PixelWidth > 0) || !(ri.PixelHeight > 0):
		return bad("the file has no pixels, or pixels of no size")
	case ri.Bounds.Min[0] < -180 || ri.Bounds.Max[0] > 180 || ri.Bounds.Min[1] < -90 || ri.Bounds.Max[1] > 90:
		return bad("its extent %s is not longitude/latitude", formatBound(ri.Bounds))
	case ri.Bounds.Max[0] <= geo.VietnamBound.Min[0] || ri.Bounds.Min[0] >= geo.VietnamBound.Max[0] ||
		ri.Bounds.Max[1] <= geo.VietnamBound.Min[1] || ri.Bounds.Min[1] >= geo.VietnamBound.Max[1]:
		return bad("its extent %s lies outside Vietnam (longitude 102 to 118, latitude 6 to 23.5): is it the right tile?", formatBound(ri.Bounds))
	}
	return nil
}

func formatBound(b orb.Bound) string {
	return fmt.Sprintf("%.4f,%.4f to %.4f,%.4f (lon,lat)", b.Min[0], b.Min[1], b.Max[0], b.Max[1])
}

// Baseline is a loaded baseline file.
type Baseline struct {
	ID          int64        `json:"id"`
	Kind        BaselineKind `json:"kind"`
	SourceFile  string       `json:"source_file"`
	Dataset     string       `json:"dataset"`
	DatasetDate time.Time    `json:"dataset_date"`
	// Bounds is the part of the file inside Vietnam's extent.
	Bounds      orb.Bound `json:"bounds"`
	PixelWidth  float64   `json:"pixel_width"`
	PixelHeight float64   `json:"pixel_height"`
	Width       int       `json:"width"`
	Height      int       `json:"height"`
	Tiles       int       `json:"tiles"`
	MinValue    *float64  `json:"min_value,omitempty"`
	MaxValue    *float64  `json:"max_value,omitempty"`
	LoadedAt    time.Time `json:"loaded_at"`
	LoadedBy    string    `json:"loaded_by"`
}

// Risk is a plot's deforestation risk.
type Risk string

// The risks, as Whisp names them.
const (
	RiskLow      Risk = "low"
	RiskHigh     Risk = "high"
	RiskMoreInfo Risk = "more_info_needed"
)

// Why a plot has its risk (PlotScreening.Reason).
const (
	ReasonNoTreeCover2020     = "no_tree_cover_2020"         // low: no tree cover at the end of 2020
	ReasonCommodity2020       = "commodity_by_2020"          // low: a perennial crop planted by 2020 stood there
	ReasonDisturbedBefore2021 = "disturbed_before_2021"      // low: the tree cover was lost before 2021
	ReasonLostAfter2020       = "tree_cover_lost_after_2020" // high: tree cover of 2020 lost since
	ReasonTreeCover2020       = "tree_cover_2020"            // more information: tree cover in 2020, no loss seen since
	ReasonNoLossData          = "no_loss_data"               // more information: tree cover in 2020, no loss map covers the plot
	ReasonNoForestData        = "no_forest_data"             // more information: no forest map covers the plot
)

// EUDRCutoffYear is the year at whose end the EUDR's cut-off falls (31 December 2020).
const EUDRCutoffYear = 2020

// ScreeningRules are the settings of the risk rule.
type ScreeningRules struct {
	// MinSharePct: a map's class counts for a plot when it covers more than this share of it.
	MinSharePct float64 `json:"min_share_pct"`
	// TreecoverThresholdPct: Hansen canopy cover from which a pixel has tree cover.
	TreecoverThresholdPct float64 `json:"treecover_threshold_pct"`
}

// DefaultScreeningRules are Whisp's: 10% of the plot, 10% canopy cover.
func DefaultScreeningRules() ScreeningRules {
	return ScreeningRules{MinSharePct: 10, TreecoverThresholdPct: 10}
}

// Validate returns EINVALID for rules out of range.
func (r ScreeningRules) Validate() error {
	var d []Detail
	if !(r.MinSharePct > 0 && r.MinSharePct < 100) {
		d = append(d, Detail{Field: "min_share_pct", Message: "the share of a plot is above 0 and below 100 percent"})
	}
	if !(r.TreecoverThresholdPct > 0 && r.TreecoverThresholdPct <= 100) {
		d = append(d, Detail{Field: "treecover_threshold_pct", Message: "a canopy cover threshold is above 0 and at most 100 percent"})
	}
	if d != nil {
		return Invalid(d)
	}
	return nil
}

// Indicator is what the maps say about one question for a plot: yes, no, or unknown (no map
// covers enough of the plot to tell).
type Indicator string

// The answers of an indicator.
const (
	Yes     Indicator = "yes"
	No      Indicator = "no"
	Unknown Indicator = "unknown"
)

// Indicators are Whisp's questions about a plot.
type Indicators struct {
	TreeCover2020       Indicator `json:"tree_cover_2020"`
	Commodity2020       Indicator `json:"commodity_2020"`
	DisturbedBefore2021 Indicator `json:"disturbed_before_2021"`
	DisturbedAfter2020  Indicator `json:"disturbed_after_2020"`
}

// Cover is how much of a plot a map covers (in hectares, on the ellipsoid), and how much of
// that is of the class asked about (forest, tree cover).
type Cover struct {
	CoveredHa  float64
	PositiveHa float64
}

// PlotCover is what the overlay of a plot with the baselines measured: the input of Assess.
type PlotCover struct {
	AreaHa float64
	// Perennial and PlantingYear are the plot's crop and its declared planting year (0: none).
	Perennial    bool
	PlantingYear int
	// Forest2020 is JRC forest; Treecover2000 Hansen canopy cover at or above the threshold;
	// nil when no baseline of the kind covers the plot.
	Forest2020    *Cover
	Treecover2000 *Cover
	// LossCoveredHa is the part of the plot a loss map covers (0: none), LossHa the loss by year.
	LossCoveredHa float64
	LossHa        map[int]float64
}

// Assessment is the outcome of the risk rule for a plot.
type Assessment struct {
	Risk       Risk
	Reason     string
	Indicators Indicators
	// Forest2020Ha is the forest at the end of 2020 and ForestSource the kind that said so;
	// nil and "" when no map tells.
	Forest2020Ha     *float64
	ForestSource     BaselineKind
	Treecover2000Ha  *float64
	LossBefore2021Ha *float64
	LossAfter2020Ha  *float64
	LossYearsAfter   []int
	Commodity2020    bool
}

// indicator answers "does the class cover more than the share?" from a partial cover: yes when
// what was seen is enough, no when even the part not covered could not make it enough.
func indicator(positive, covered, area, minShare float64) Indicator {
	limit := area * minShare / 100
	switch {
	case covered <= 0:
		return Unknown
	case positive > limit:
		return Yes
	case positive+math.Max(area-covered, 0) <= limit:
		return No
	}
	return Unknown
}

// Assess applies Whisp's rule for perennial crops to a plot's cover:
//   - low if there was no tree cover in 2020, or a commodity crop was there in 2020 (a perennial
//     crop the plot declares planted in 2020 or before), or the tree cover was lost before 2021;
//   - high if tree cover of 2020 was lost after 2020;
//   - otherwise more information is needed (tree cover in 2020 and no loss since, often coffee
//     or an orchard read as forest; or no map covers the plot).
//
// Tree cover in 2020 is yes when any map says so: JRC forest, or Hansen tree cover of 2000
// less the loss of 2001-2020 (a plot-level difference: loss happens where trees were).
func Assess(c PlotCover, rules ScreeningRules) Assessment {
	var a Assessment
	area := c.AreaHa
	share := rules.MinSharePct
	var lossBefore, lossAfter float64
	for y, ha := range c.LossHa {
		if y <= EUDRCutoffYear {
			lossBefore += ha
		} else if ha > 0 {
			lossAfter += ha
			a.LossYearsAfter = append(a.LossYearsAfter, y)
		}
	}
	slices.Sort(a.LossYearsAfter)
	hasLoss := c.LossCoveredHa > 0
	if hasLoss {
		a.LossBefore2021Ha, a.LossAfter2020Ha = &lossBefore, &lossAfter
	}
	// Tree cover at the end of 2020, from each map that covers the plot.
	jrc, hansen := Unknown, Unknown
	if f := c.Forest2020; f != nil && f.CoveredHa > 0 {
		jrc = indicator(f.PositiveHa, f.CoveredHa, area, share)
		v := f.PositiveHa
		a.Forest2020Ha, a.ForestSource = &v, BaselineForest2020
	}
	if t := c.Treecover2000; t != nil && t.CoveredHa > 0 {
		v := t.PositiveHa
		a.Treecover2000Ha = &v
		if hasLoss {
			tc2020 := math.Max(t.PositiveHa-lossBefore, 0)
			covered := math.Min(t.CoveredHa, c.LossCoveredHa)
			hansen = indicator(tc2020, covered, area, share)
			if a.Forest2020Ha == nil {
				a.Forest2020Ha, a.ForestSource = &tc2020, BaselineTreecover2000
			}
		} else if indicator(t.PositiveHa, t.CoveredHa, area, share) == No {
			hansen = No // no tree cover in 2000 nor (without a gain map) in 2020
		}
	}
	switch {
	case jrc == Yes || hansen == Yes:
		a.Indicators.TreeCover2020 = Yes
	case jrc == No || hansen == No:
		a.Indicators.TreeCover2020 = No
	default:
		a.Indicators.TreeCover2020 = Unknown
	}
	a.Commodity2020 = c.Perennial && c.PlantingYear > 0 && c.PlantingYear <= EUDRCutoffYear
	a.Indicators.Commodity2020 = No
	if a.Commodity2020 {
		a.Indicators.Commodity2020 = Yes
	}
	a.Indicators.DisturbedBefore2021 = indicator(lossBefore, c.LossCoveredHa, area, share)
	a.Indicators.DisturbedAfter2020 = indicator(lossAfter, c.LossCoveredHa, area, share)
	in := a.Indicators
	switch {
	case in.TreeCover2020 == No:
		a.Risk, a.Reason = RiskLow, ReasonNoTreeCover2020
	case in.Commodity2020 == Yes:
		a.Risk, a.Reason = RiskLow, ReasonCommodity2020
	case in.DisturbedBefore2021 == Yes:
		a.Risk, a.Reason = RiskLow, ReasonDisturbedBefore2021
	case in.TreeCover2020 == Yes && in.DisturbedAfter2020 == Yes:
		a.Risk, a.Reason = RiskHigh, ReasonLostAfter2020
	case in.TreeCover2020 == Yes && in.DisturbedAfter2020 == No:
		a.Risk, a.Reason = RiskMoreInfo, ReasonTreeCover2020
	case in.TreeCover2020 == Yes:
		a.Risk, a.Reason = RiskMoreInfo, ReasonNoLossData
	default:
		a.Risk, a.Reason = RiskMoreInfo, ReasonNoForestData
	}
	return a
}

// ScreeningDataset is a dataset a screening used, and the date its map stands for.
type ScreeningDataset struct {
	Kind BaselineKind `json:"kind"`
	Name string       `json:"name"`
	// Date is the day the map stands for, "2020-12-31".
	Date string `json:"date"`
}

// PlotScreening is the screening of a plot: public (a risk is not personal data).
type PlotScreening struct {
	PlotID int64 `json:"plot_id"`
	// PlotVersion is the version of the plot that was screened; Current says whether it is
	// still the plot's version (a plot changed since is screened again within seconds).
	PlotVersion  int     `json:"plot_version"`
	Current      bool    `json:"current"`
	ProvinceCode string  `json:"province_code,omitempty"`
	AreaHa       float64 `json:"area_ha"`
	Risk         Risk    `json:"risk"`
	Reason       string  `json:"reason"`
	// Forest at the end of 2020 (hectares on the ellipsoid, percent of the plot), and the kind of
	// map that said so (forest2020, or treecover2000 less the loss of 2001-2020). Nil where no
	// map covers the plot.
	Forest2020Ha  *float64     `json:"forest_2020_ha"`
	Forest2020Pct *float64     `json:"forest_2020_pct"`
	ForestSource  BaselineKind `json:"forest_source,omitempty"`
	// Treecover2000Pct is the share with Hansen canopy cover at or above the threshold in 2000.
	Treecover2000Pct  *float64 `json:"treecover_2000_pct,omitempty"`
	LossBefore2021Ha  *float64 `json:"loss_before_2021_ha,omitempty"`
	LossBefore2021Pct *float64 `json:"loss_before_2021_pct,omitempty"`
	LossAfter2020Ha   *float64 `json:"loss_after_2020_ha"`
	LossAfter2020Pct  *float64 `json:"loss_after_2020_pct"`
	// LossYears are the years after 2020 with tree cover loss in the plot.
	LossYears []int `json:"loss_years"`
	// Commodity2020: the plot declares a perennial crop planted in 2020 or before.
	Commodity2020 bool               `json:"commodity_2020"`
	Indicators    Indicators         `json:"indicators"`
	Datasets      []ScreeningDataset `json:"datasets"`
	Rules         ScreeningRules     `json:"rules"`
	ScreenedAt    time.Time          `json:"screened_at"`
}

// RiskTally counts plots of one risk and their area.
type RiskTally struct {
	Plots  int     `json:"plots"`
	AreaHa float64 `json:"area_ha"`
}

// ScreeningSummary sums up the screening of a set of plots (a lot, a consignment, a growing
// area, an EUDR statement).
type ScreeningSummary struct {
	// Plots is how many distinct plots were asked about; Screened how many have a screening of
	// their current version.
	Plots    int `json:"plots"`
	Screened int `json:"screened"`
	// Risk is the set's: high if any plot is high, more_info_needed if any plot needs more
	// information or is not screened (or no longer exists), low when every plot is low.
	Risk     Risk      `json:"risk"`
	Low      RiskTally `json:"low"`
	High     RiskTally `json:"high"`
	MoreInfo RiskTally `json:"more_info_needed"`
	// NotScreened are plots without a current screening: never screened, changed since, or
	// not a live plot.
	NotScreened RiskTally `json:"not_screened"`
	AreaHa      float64   `json:"area_ha"`
	// Forest2020Ha and LossAfter2020Ha add up the screened plots' figures.
	Forest2020Ha    float64 `json:"forest_2020_ha"`
	LossAfter2020Ha float64 `json:"loss_after_2020_ha"`
	// HighPlots, MoreInfoPlots and NotScreenedPlots are the ids a person must look at.
	HighPlots        []int64            `json:"high_plots"`
	MoreInfoPlots    []int64            `json:"more_info_plots"`
	NotScreenedPlots []int64            `json:"not_screened_plots"`
	Datasets         []ScreeningDataset `json:"datasets"`
	// OldestScreening is when the least recently screened plot was screened.
	OldestScreening *time.Time `json:"oldest_screening,omitempty"`
}

// ScreeningRun is a batch screening of every plot, or of a province's.
type ScreeningRun struct {
	ID int64 `json:"id"`
	// ProvinceCode is empty for every province.
	ProvinceCode string     `json:"province_code,omitempty"`
	State        string     `json:"state"` // running, done, failed, abandoned
	Total        int64      `json:"total"`
	Done         int64      `json:"done"`
	LastPlotID   int64      `json:"last_plot_id"`
	StartedBy    string     `json:"started_by"`
	StartedAt    time.Time  `json:"started_at"`
	UpdatedAt    time.Time  `json:"updated_at"`
	EndedAt      *time.Time `json:"ended_at,omitempty"`
	Error        string     `json:"error,omitempty"`
}

// ScreeningService reads screening outcomes.
type ScreeningService interface {
	// PlotScreening returns the screening of a plot the caller may see, nil when it has not
	// been screened. Returns ENOTFOUND when there is no such plot or the caller may not see it.
	PlotScreening(ctx context.Context, plotID int64) (*PlotScreening, error)
	// Summary sums up the screening of plots, for the EUDR summary and the lot and consignment
	// checks. It does not check the caller's access: the caller asks about plots it has already
	// shown. Unknown or deleted plots count as not screened.
	Summary(ctx context.Context, plotIDs []int64) (ScreeningSummary, error)
	// Baselines lists the loaded baselines.
	Baselines(ctx context.Context) ([]Baseline, error)
}
