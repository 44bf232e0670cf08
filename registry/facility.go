package registry

import "github.com/paulmach/orb"

// PackingHouse is a packing house (cơ sở đóng gói, PHC).
type PackingHouse struct {
	ID           int64
	Name         string
	OperatorID   *int64
	Address      string
	ProvinceCode string
	CommuneCode  string
	Location     orb.Point
	CapacityTPD  float64 // tonnes a day
	Source       string
	ExternalID   string
	Version      int
}

// LivestockFacility is a livestock farm (cơ sở chăn nuôi).
type LivestockFacility struct {
	ID           int64
	FacilityCode string
	Name         string
	OperatorID   *int64
	Address      string `personal:"household"`
	ProvinceCode string
	CommuneCode  string
	Location     orb.Point
	// HeadCounts is the number of animals per species code ("pig", "cattle", ...).
	HeadCounts map[string]int
	// AnimalUnits (đơn vị vật nuôi, 1 ĐVN = 500 kg live weight) is computed by the store.
	AnimalUnits  float64
	ScaleClass   string
	Biosecurity  string
	Certificates []string
	Source       string
	ExternalID   string
	Version      int
}

// Livestock scale classes (Decree 13/2020).
const (
	ScaleLarge     = "large"     // >= 300 ĐVN
	ScaleMedium    = "medium"    // 30 to < 300
	ScaleSmall     = "small"     // 10 to < 30
	ScaleHousehold = "household" // < 10
)

// ScaleClass returns the scale class of a facility with the given animal units.
func ScaleClass(animalUnits float64) string {
	switch {
	case animalUnits >= 300:
		return ScaleLarge
	case animalUnits >= 30:
		return ScaleMedium
	case animalUnits >= 10:
		return ScaleSmall
	}
	return ScaleHousehold
}

// FeedFacility is a feed production facility (cơ sở sản xuất thức ăn chăn nuôi).
type FeedFacility struct {
	ID                  int64
	Name                string
	OperatorID          *int64
	Address             string
	ProvinceCode        string
	CommuneCode         string
	Location            orb.Point
	DesignCapacityTPY   float64 // tonnes a year
	Products            []string
	CertificateNo       string
	CertificateIssuer   string
	CertificateIssuedOn string // YYYY-MM-DD
	Source              string
	ExternalID          string
	Version             int
}
