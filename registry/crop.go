package registry

import "context"

// Crop is an entry of the crop list (cây trồng), with the rules the traceability checks apply
// to its harvests.
type Crop struct {
	Code      string `json:"code"`
	NameVI    string `json:"name_vi"`
	NameEN    string `json:"name_en"`
	Perennial bool   `json:"perennial"`
	// YieldCapTHa is the most a hectare yields in a season, in tonnes: a growing area's lots of
	// a season above its hectares × this (and the tolerance) are flagged. Nil: no cap.
	YieldCapTHa *float64 `json:"yield_cap_t_ha,omitempty"`
	// HarvestMonths are the months (1-12) the crop is harvested in; a lot harvested outside
	// them is flagged. Empty: any month.
	HarvestMonths []int `json:"harvest_months,omitempty"`
	// HSHeading is the customs heading of its produce (0901 coffee); EUDR says whether the EU
	// Deforestation Regulation covers it.
	HSHeading string `json:"hs_heading,omitempty"`
	EUDR      bool   `json:"eudr"`
	// MinAreaHa is the smallest growing area of the crop (1 ha for perennial crops, 0.1 ha
	// for annual ones unless set).
	MinAreaHa float64 `json:"min_area_ha"`
}

// CropRules changes a crop's traceability rules: a nil field is left as it is.
type CropRules struct {
	// YieldCapTHa > 0 sets the cap; 0 removes it.
	YieldCapTHa *float64
	// HarvestMonths sets the season's months; an empty (non-nil) list allows any month.
	HarvestMonths []int
	// MinAreaHa sets the smallest growing area of the crop, in hectares.
	MinAreaHa *float64
}

// CropService reads the crop list.
type CropService interface {
	// ListCrops returns every crop, by Vietnamese name.
	ListCrops(ctx context.Context) ([]Crop, error)
}
