package registry

import "context"

// Crop is an entry of the crop list (cây trồng).
type Crop struct {
	Code      string `json:"code"`
	NameVI    string `json:"name_vi"`
	NameEN    string `json:"name_en"`
	Perennial bool   `json:"perennial"`
}

// CropService reads the crop list.
type CropService interface {
	// ListCrops returns every crop, by Vietnamese name.
	ListCrops(ctx context.Context) ([]Crop, error)
}
