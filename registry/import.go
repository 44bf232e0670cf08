package registry

import (
	"context"
	"strconv"
	"time"
)

// Imports bring survey files (Shapefile, KML, GeoJSON, GPX, CSV) into the registry. A decoder in
// importers/ turns a file into ImportPlots; a PlotImporter checks them all (the API's checks,
// plus overlaps) and stores them in one transaction, or nothing.

// What to do with a feature that fails a check.
const (
	OnInvalidReject = "reject" // the whole import fails; nothing is stored (the default)
	OnInvalidSkip   = "skip"   // the feature is left out and reported; the rest is stored
	OnInvalidRepair = "repair" // an invalid geometry is repaired (ST_MakeValid) and the area change reported; other problems reject
)

// ImportPlot is one plot read from a file, before any check that needs the database.
type ImportPlot struct {
	// N is the 1-based number of the feature (or row) in the file.
	N int
	// ExternalID is the file's own id of the feature, or "#N" when it has none.
	ExternalID string
	// WKB is the geometry in the file's coordinate system (SRID), 2D.
	WKB  []byte
	SRID int
	// Attributes, as text from the file (NFC); empty when absent.
	Crop, Variety, Commune, Sheet, Parcel, LandCert string
	// Owner is the owner's name (a household), OwnerID their citizen ID when the file has one.
	Owner, OwnerID string
	PlantingYear   int
	// DeclaredAreaHa is the area the file states, 0 when none.
	DeclaredAreaHa float64
	// Problems found while decoding (an attribute that is not a number, a line where a polygon
	// was expected); the feature is refused with them.
	Problems []Detail
}

// ImportSource yields a file's plots one at a time; Next returns io.EOF at the end. An error
// other than io.EOF means the file cannot be read any further (truncated, corrupt).
type ImportSource interface {
	Next() (*ImportPlot, error)
}

// ImportBoundary is one administrative boundary read from a file (--layer admin): the shape
// of a commune or province of the 2025 list, named by its code.
type ImportBoundary struct {
	N          int
	Code, Name string
	WKB        []byte
	SRID       int
	Problems   []Detail
}

// Facility kinds a file may hold (--layer facilities).
const (
	FacilityLivestock    = "livestock"     // livestock_facility
	FacilityFeedMill     = "feed_mill"     // feed_facility
	FacilityPackingHouse = "packing_house" // packing_house
)

// ImportFacility is one facility read from a file (--layer facilities): a livestock farm, a
// feed mill or a packing house, at a point.
type ImportFacility struct {
	N                                              int
	ExternalID, Kind, Name, Address, Code, Commune string
	WKB                                            []byte
	SRID                                           int
	Problems                                       []Detail
}

// FacilitySource yields a file's facilities as ImportSource yields plots.
type FacilitySource interface {
	Next() (*ImportFacility, error)
}

// BoundarySource yields a file's boundaries as ImportSource yields plots.
type BoundarySource interface {
	Next() (*ImportBoundary, error)
}

// FacilityImporter stores the facilities of a file, all or nothing.
type FacilityImporter interface {
	ImportFacilities(ctx context.Context, src FacilitySource, opt ImportOptions) (*ImportReport, error)
}

// BoundaryImporter stores the administrative boundaries of a file, all or nothing.
type BoundaryImporter interface {
	ImportBoundaries(ctx context.Context, src BoundarySource, opt ImportOptions) (*ImportReport, error)
}

// ImportOptions control one import.
type ImportOptions struct {
	// Source names where the plots come from (a survey, a file); with each plot's external id it
	// matches plots of an earlier import of the same source.
	Source    string
	DryRun    bool
	OnInvalid string
	// Province is the province (2025 code) for plots whose location does not say.
	Province string
	// DeclaredAreaTolerance is the relative difference between a declared and the computed area
	// above which a warning is given (0.1 = 10%).
	DeclaredAreaTolerance float64
	// OverlapTolerance is the share of the smaller plot that two plots may overlap by before it
	// is a problem (surveys of neighbouring fields overlap by slivers).
	OverlapTolerance float64
	// Progress, when set, is called as the import advances.
	Progress func(stage string, done, total int)
	// Describe is shown in the audit log and the report: format, coordinate system, encoding.
	Describe map[string]string
}

// ImportReport says what an import did, or would do, and every problem found.
type ImportReport struct {
	// Layer is what was imported: empty for plots, "admin" for administrative boundaries.
	Layer     string            `json:"layer,omitempty"`
	Source    string            `json:"source"`
	About     map[string]string `json:"about,omitempty"`
	DryRun    bool              `json:"dry_run"`
	Committed bool              `json:"committed"`
	Features  int               `json:"features"`
	Added     int               `json:"added"`
	Updated   int               `json:"updated"`
	Unchanged int               `json:"unchanged"`
	Skipped   int               `json:"skipped"`
	Repaired  int               `json:"repaired"`
	// Problems refused a feature; Warnings did not (a declared area that differs).
	// BBox is [min lon, min lat, max lon, max lat] of the plots the file holds (after any
	// skipped ones), for a map to show them.
	BBox []float64 `json:"bbox,omitempty"`
	// Changes lists, plot by plot, what the import changes (or, in a dry run, would change) in
	// plots already registered: an import matches them by source and id, and a different file
	// that shares both would otherwise move them silently.
	Changes  []PlotChange `json:"changes,omitempty"`
	Problems []Detail     `json:"problems"`
	Warnings []Detail     `json:"warnings"`
	Elapsed  Duration     `json:"elapsed_ms"`
	Started  time.Time    `json:"started"`
	Stages   []StageTime  `json:"stages,omitempty"`
}

// PlotChange is what an import changes in one registered plot.
type PlotChange struct {
	// Feature is the feature of the file, Plot the registered plot it changes.
	Feature    int    `json:"feature"`
	Plot       int64  `json:"plot"`
	ExternalID string `json:"external_id"`
	// MovedM is how far the boundary moves: the largest distance, in metres, between a point of
	// one outline and the other (0 when the shape is the same).
	MovedM float64 `json:"moved_m"`
	// AreaBefore and AreaAfter are the areas in hectares.
	AreaBefore float64 `json:"area_before_ha"`
	AreaAfter  float64 `json:"area_after_ha"`
	// CropBefore and CropAfter are crop codes, the same when the crop does not change.
	CropBefore string `json:"crop_before"`
	CropAfter  string `json:"crop_after"`
	// CommuneBefore and CommuneAfter are commune codes.
	CommuneBefore string `json:"commune_before,omitempty"`
	CommuneAfter  string `json:"commune_after,omitempty"`
	// OwnerChanged says the plot passes to another producer; Other lists the other properties
	// that change (variety, planting_year, cadastral_sheet...).
	OwnerChanged bool     `json:"owner_changed"`
	Other        []string `json:"other,omitempty"`
}

// StageTime is how long one stage of an import took.
type StageTime struct {
	Stage   string   `json:"stage"`
	Elapsed Duration `json:"elapsed_ms"`
}

// Duration marshals as whole milliseconds.
type Duration time.Duration

// MarshalJSON writes d in milliseconds.
func (d Duration) MarshalJSON() ([]byte, error) {
	return strconv.AppendInt(nil, time.Duration(d).Milliseconds(), 10), nil
}

// PlotImporter checks and stores the plots of a file.
type PlotImporter interface {
	// ImportPlots reads src to the end and stores its plots in one transaction. With problems
	// and OnInvalid reject (or DryRun) nothing is stored; the report lists every problem and the
	// error is an EINVALID *Error carrying them.
	ImportPlots(ctx context.Context, src ImportSource, opt ImportOptions) (*ImportReport, error)
}
