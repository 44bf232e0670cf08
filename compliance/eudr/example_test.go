package eudr_test

import (
	"bytes"
	"context"
	"fmt"

	"github.com/paulmach/orb"
	"github.com/vungtrong/vungtrong/compliance/eudr"
)

// A plot's polygon is rounded to six decimals and checked, written into a zip with its
// statement and summary, and the zip is read back by the validator.
func Example() {
	field := orb.MultiPolygon{{{{108.05, 12.68}, {108.0511, 12.6801}, {108.0512, 12.681}, {108.0499, 12.6809}, {108.05, 12.68}}}}
	shape, _, err := eudr.Round(field)
	if err == nil {
		err = shape.Check()
	}
	if err != nil {
		fmt.Println(err)
		return
	}
	var zipped bytes.Buffer
	w := eudr.NewWriter(context.Background(), &zipped, eudr.Options{Statement: &eudr.StatementTemplate{
		OperatorType: "OPERATOR", ActivityType: eudr.ActivityImport, InternalReference: "C-7K2M9Q4X",
		Commodities: map[string]eudr.CommodityInfo{"0901": {Description: "Coffee (cà phê), grown in Viet Nam"}}}})
	if err := w.Add(&eudr.Plot{ID: 1, Shape: shape, AreaHa: 1.2, ProducerName: "HTX Cà phê Ea Kiết",
		ProductionPlace: "Xã Ea Kiết, Tỉnh Đắk Lắk, Việt Nam", Producer: 7, HSHeading: "0901"}); err != nil {
		fmt.Println(err)
		return
	}
	sum := &eudr.Summary{Plots: 1}
	if err := w.Close(sum); err != nil {
		fmt.Println(err)
		return
	}
	rep, err := eudr.Validate(bytes.NewReader(zipped.Bytes()), int64(zipped.Len()), eudr.ValidateOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(sum.Files[0].Name, sum.Statements[0].Reference, rep.Features, rep.OK())
	// Output: plots.geojson dds.json 1 true
}
