package epcis_test

import (
	"fmt"
	"time"

	"github.com/vungtrong/vungtrong/compliance/epcis"
)

// A lot of durian harvested under VN-DLOR-0321, packed and shipped to China through a packing
// house with the code VN-DLPH-0012.
func ExampleBuild() {
	shipped := time.Date(2026, 6, 20, 0, 0, 0, 0, time.UTC)
	story := &epcis.Story{
		Consignment: epcis.Consignment{
			PublicCode: "C-4HX8W2QP", Market: "CN", NetKg: 1450, ShippedOn: &shipped,
			CreatedAt:    time.Date(2026, 6, 19, 8, 0, 0, 0, time.UTC),
			PackingHouse: epcis.House{ID: 1, Name: "Phước An", Code: "VN-DLPH-0012"},
		},
		Lots: []epcis.Lot{{
			PublicCode: "L-7KQ2M9XA", Crop: "durian", Season: 2026, Code: "VN-DLOR-0321", Market: "CN", Plots: 3,
			HarvestedFrom: time.Date(2026, 6, 10, 0, 0, 0, 0, time.UTC), HarvestedTo: time.Date(2026, 6, 12, 0, 0, 0, 0, time.UTC),
			QuantityKg: 1500, ShippedKg: 1480,
		}},
	}
	doc, err := epcis.Build(story, epcis.Options{Base: "https://vungtrong.example.vn"})
	if err != nil {
		panic(err)
	}
	for _, e := range doc.Body.EventList {
		fmt.Println(e.EventTime.Format(time.DateOnly), e.Type, e.BizStep, e.ReadPoint.ID)
	}
	// Output:
	// 2026-06-12 ObjectEvent commissioning https://vungtrong.example.vn/v/VN-DLOR-0321
	// 2026-06-19 AggregationEvent packing https://vungtrong.example.vn/v/VN-DLPH-0012
	// 2026-06-20 ObjectEvent shipping https://vungtrong.example.vn/v/VN-DLPH-0012
}
