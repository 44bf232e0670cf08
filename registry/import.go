package registry

import (
	"context"
	"io"
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

// ImportRequest is an uploaded file and the options of its import, as `vungtrong import` takes
// them.
type ImportRequest struct {
	// UploadID is the uploaded file (see UploadStore); Filename its name on the user's machine,
	// which tells its format.
	UploadID int64  `json:"upload_id"`
	Filename string `json:"filename"`
	Source   string `json:"source"`
	DryRun   bool   `json:"dry_run"`
	// OnInvalid is reject, skip or repair.
	OnInvalid string            `json:"on_invalid,omitempty"`
	Province  string            `json:"province,omitempty"`
	SRS       string            `json:"srs,omitempty"`
	Encoding  string            `json:"encoding,omitempty"`
	Map       map[string]string `json:"map,omitempty"`
	Set       map[string]string `json:"set,omitempty"`
	// Layer is what the file holds: plots (the default), facilities or admin.
	Layer string `json:"layer,omitempty"`
}

// ImportProgress is how far an import has come.
type ImportProgress struct {
	Stage    string `json:"stage"`
	Features int    `json:"features"`
	Bytes    int64  `json:"bytes"`
	Size     int64  `json:"size"`
}

// Import job states.
const (
	ImportQueued  = "queued"
	ImportRunning = "running"
	ImportDone    = "done"
	ImportFailed  = "failed"
)

// ImportJob is an upload being imported: it runs on whichever server takes it, and every
// server sees its progress and report, kept for a day after it ends.
type ImportJob struct {
	ID       string          `json:"id"`
	Filename string          `json:"filename"`
	State    string          `json:"state"`
	Request  ImportRequest   `json:"request"`
	Progress ImportProgress  `json:"progress"`
	Report   *ImportReport   `json:"report,omitempty"`
	Error    *ImportJobError `json:"error,omitempty"`
	// Commits is the import that confirms this dry run, once asked for; CommitOf the dry run
	// that a confirming import commits.
	Commits  string     `json:"committed_by,omitempty"`
	CommitOf string     `json:"commit_of,omitempty"`
	Started  time.Time  `json:"started"`
	Ended    *time.Time `json:"ended,omitempty"`
	// Owner is who started it (the audit log's actor name).
	Owner string `json:"-"`
}

// ImportJobError is why an import failed, as the API shows errors.
type ImportJobError struct {
	Code    string   `json:"code"`
	Message string   `json:"message"`
	Details []Detail `json:"details,omitempty"`
}

// ImportJobService runs imports of uploaded files as jobs in the database.
type ImportJobService interface {
	// StartImport queues the import of an uploaded file and returns its job. Returns EFORBIDDEN
	// for a role that may not import, ENOTFOUND for an upload that is not the caller's.
	StartImport(ctx context.Context, req ImportRequest) (*ImportJob, error)
	// FindImport returns an import the caller started (any, for an admin). Returns ENOTFOUND.
	FindImport(ctx context.Context, id string) (*ImportJob, error)
	// CommitImport imports for real the file of a finished dry run of the caller, with the same
	// options. Returns ENOTFOUND, or ECONFLICT when the dry run has not ended, failed, or was
	// committed already.
	CommitImport(ctx context.Context, id string) (*ImportJob, error)
}

// Upload is a file received from a user, kept in the database so that every server (and every
// backup) has it.
type Upload struct {
	ID       int64
	Filename string
	Size     int64
	SHA256   []byte
}

// UploadStore keeps uploaded files.
type UploadStore interface {
	// StoreUpload reads the file from r, up to limit bytes, and stores it. Returns ETOOLARGE
	// for a file over the limit, EMALFORMED when reading it fails.
	StoreUpload(ctx context.Context, filename string, r io.Reader, limit int64) (*Upload, error)
	// DeleteUpload forgets an upload that will not be used.
	DeleteUpload(ctx context.Context, id int64) error
}
