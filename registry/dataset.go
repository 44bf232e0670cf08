package registry

import (
	"context"

	"github.com/paulmach/orb"
)

// Dataset is a bundle of registry objects that refer to each other by their external ids, as
// read from a set of files (the demo dataset). Loading one twice changes nothing the second
// time: objects are matched by source and external id.
type Dataset struct {
	// Source names the dataset; with each object's ExternalID it identifies the object.
	Source        string
	Communes      []CommuneBoundary
	Producers     []DatasetProducer
	Plots         []DatasetPlot
	GrowingAreas  []DatasetGrowingArea
	PackingHouses []DatasetPackingHouse
	Livestock     []DatasetLivestockFacility
	FeedMills     []DatasetFeedFacility
	Users         []DatasetUser
}

// DatasetUser is an account of a demo dataset, with its password in clear (demo data only)
// and the external id of the producer it speaks for.
type DatasetUser struct {
	User
	Password    string
	ProducerRef string
}

// CommuneBoundary is the boundary of a commune of the 2025 list.
type CommuneBoundary struct {
	Code     string
	Boundary orb.MultiPolygon
}

// DatasetProducer is a producer and the external id of its cooperative.
type DatasetProducer struct {
	Producer
	CooperativeRef string
}

// DatasetPlot is a plot and the external id of its producer.
type DatasetPlot struct {
	Plot
	ProducerRef string
}

// DatasetGrowingArea is a growing area, its registrant, member plots and codes.
type DatasetGrowingArea struct {
	GrowingArea
	RegistrantRef string
	PlotRefs      []string
	Codes         []MarketCode
}

// DatasetPackingHouse is a packing house, its operator, the growing areas it packs and its codes.
type DatasetPackingHouse struct {
	PackingHouse
	OperatorRef     string
	GrowingAreaRefs []string
	Codes           []MarketCode
}

// DatasetLivestockFacility is a livestock facility and its operator.
type DatasetLivestockFacility struct {
	LivestockFacility
	OperatorRef string
}

// DatasetFeedFacility is a feed mill and its operator.
type DatasetFeedFacility struct {
	FeedFacility
	OperatorRef string
}

// LoadStats counts what a load added and what it found already there.
type LoadStats struct {
	Added, Existing map[string]int
}

// DatasetLoader loads datasets in one transaction: all of it or nothing.
type DatasetLoader interface {
	// LoadDataset validates and stores ds. Returns EINVALID listing every problem found.
	LoadDataset(ctx context.Context, ds *Dataset) (LoadStats, error)
}
