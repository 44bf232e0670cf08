// Package eudr holds the rules of the EU Deforestation Regulation (Regulation (EU) 2023/1115)
// on the geolocation of plots, and writes it: GeoJSON files as the EU Information System takes
// them, zipped with a summary and the due diligence statements' content. It is pure Go: the
// registry's store feeds it plots; PostGIS does what needs an overlay (cutting holes away).
//
// The rules (the EU's GeoJSON File Description, and ../../shared/DOMAIN.md):
//   - RFC 7946 GeoJSON, WGS 84, positions [longitude, latitude] with six decimals;
//   - each plot a Polygon or MultiPolygon (closed rings of at least four positions, simple, with
//     no holes: a holed plot is cut into hole-free parts), or a Point with its Area for a plot
//     of 4 ha or less;
//   - properties ProducerName, ProducerCountry (ISO alpha-2), ProductionPlace, Area (for a
//     point), spelled exactly so;
//   - at most 25 MB a file: larger sets are split into several files, each a FeatureCollection.
package eudr

import (
	"time"
)

// Regulation names the rules this package follows.
const Regulation = "Regulation (EU) 2023/1115 (EUDR), geolocation per the EU Information System's GeoJSON File Description"

// Country is the ProducerCountry of every plot of this registry (ISO 3166-1 alpha-2).
const Country = "VN"

// MaxPointAreaHa is the largest plot that may be given as a point (with its area); a larger one
// must be given as polygons.
const MaxPointAreaHa = 4.0

// DefaultMaxFileBytes is the largest GeoJSON file the EU Information System accepts (25 MB,
// counted in decimal megabytes so that either reading of "MB" holds).
const DefaultMaxFileBytes = 25_000_000

// NotScreened is the screening outcome of an export whose plots no screening has looked at.
const NotScreened = "not screened"

// Summary is summary.json: what an export holds, what was withheld or changed, and what could
// not be exported.
type Summary struct {
	Regulation  string         `json:"regulation"`
	GeneratedAt time.Time      `json:"generated_at"`
	Selection   map[string]any `json:"selection"`
	// Points says whether plots of 4 ha or less were asked for as points.
	Points       bool  `json:"points"`
	MaxFileBytes int64 `json:"max_file_bytes"`
	// Plots and Hectares count the plots written (areas on the ellipsoid); Producers the
	// distinct producers of those plots.
	Plots     int     `json:"plots"`
	Hectares  float64 `json:"hectares"`
	Producers int     `json:"producers"`
	// WithheldNames is how many producers' names the exporting user may not see (households'
	// names are personal data), and WithheldPlots how many features carry no name for that
	// reason (they say "ProducerNameWithheld": true).
	WithheldNames        int `json:"withheld_names"`
	WithheldPlots        int `json:"withheld_plots"`
	PlotsWithoutProducer int `json:"plots_without_producer"`
	// HSHeadings are the commodities' headings; NetMassKg the net mass declared (a
	// consignment's), nil when the selection is not a consignment.
	HSHeadings []string      `json:"hs_headings"`
	NetMassKg  *float64      `json:"net_mass_kg"`
	Crops      []CropSummary `json:"crops"`
	Screening  Screening     `json:"screening"`
	Geometry   GeometryStats `json:"geometry"`
	Files      []FileSummary `json:"files"`
	// Statements are the due diligence statements written (dds.json, or one per file).
	Statements []StatementSummary `json:"statements"`
	// Problems are plots left out, and why; Warnings what a person should know.
	Problems []Problem `json:"problems"`
	Warnings []string  `json:"warnings"`
	Elapsed  float64   `json:"elapsed_s"`
}

// CropSummary is one crop of an export.
type CropSummary struct {
	Crop      string  `json:"crop"`
	HSHeading string  `json:"hs_heading,omitempty"`
	EUDR      bool    `json:"eudr"`
	Plots     int     `json:"plots"`
	Hectares  float64 `json:"hectares"`
}

// Screening is the deforestation screening outcome of the exported plots: low risk, high
// risk, more information needed, or NotScreened.
type Screening struct {
	Outcome string `json:"outcome"`
	// Plots counts plots by outcome.
	Plots map[string]int `json:"plots,omitempty"`
	Note  string         `json:"note,omitempty"`
}

// GeometryStats says how the plots' geometry was written and what the rules changed.
type GeometryStats struct {
	Polygons int `json:"polygons"`
	Points   int `json:"points"`
	// HolesRemoved counts plots whose holes were cut away (each is written as hole-free parts of
	// the same area).
	HolesRemoved int `json:"holes_removed"`
	// VerticesDropped counts positions that rounding to six decimals made repeat the one before;
	// PartsDropped polygons that rounding left without area.
	VerticesDropped int `json:"vertices_dropped"`
	PartsDropped    int `json:"parts_dropped"`
	// Repaired counts plots whose rounded rings broke a rule (touching, crossing) and were snapped
	// to the six-decimal grid by a validity-keeping overlay instead.
	Repaired int `json:"repaired"`
	// MaxAreaChangePct is the most that rounding to six decimals (about 11 cm) changed a plot's
	// area, in percent: small plots surveyed more finely change most.
	MaxAreaChangePct float64 `json:"max_area_change_pct"`
}

// FileSummary is one GeoJSON file of an export.
type FileSummary struct {
	Name     string `json:"name"`
	Features int    `json:"features"`
	Bytes    int64  `json:"bytes"`
	SHA256   string `json:"sha256"`
}

// StatementSummary is one due diligence statement of an export.
type StatementSummary struct {
	// File is the GeoJSON file whose plots the statement's geolocation holds.
	File string `json:"geojson"`
	// Reference is what the submitter returned: the statement's file in the zip, or the EU
	// system's reference.
	Reference string `json:"reference"`
	Producers int    `json:"producers"`
	Plots     int    `json:"plots"`
}

// Problem is a plot left out of an export, and why.
type Problem struct {
	Plot    int64  `json:"plot"`
	Message string `json:"message"`
}
