package registry

import "github.com/paulmach/orb"

// Kinds of change, for whoever shows the registry on a map (the tile cache).
const (
	ChangePlot         = "plot"
	ChangeGrowingArea  = "growing_area" // its codes or shape
	ChangePackingHouse = "packing_house"
	ChangeLivestock    = "livestock_facility"
	ChangeFeedMill     = "feed_facility"
	ChangeCommune      = "commune"
	ChangeProvince     = "province"
)

// Change says that objects of a kind changed inside a WGS 84 bound. A committed write reports
// every change it made, on this server at once and to the other servers through the database.
type Change struct {
	Kind string
	BBox orb.Bound
	// LSN is a position in the primary database's write-ahead log at or after the change's
	// commit, when the store tracks it (for a read replica to have replayed before it shows the
	// change); 0 otherwise.
	LSN uint64
}
