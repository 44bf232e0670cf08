package registry

import (
	"strings"
	"testing"

	"github.com/paulmach/orb"
)

func TestAssessFollowsWhispForPerennialCrops(t *testing.T) {
	full := func(forest float64) *Cover { return &Cover{CoveredHa: 1, PositiveHa: forest} }
	tests := map[string]struct {
		c          PlotCover
		risk       Risk
		reason     string
		treeCover  Indicator
		forestFrom BaselineKind
	}{
		"no forest in 2020": {
			c: PlotCover{Forest2020: full(0)}, risk: RiskLow, reason: ReasonNoTreeCover2020, treeCover: No, forestFrom: BaselineForest2020},
		"forest under the share counts as none": {
			c: PlotCover{Forest2020: full(0.1)}, risk: RiskLow, reason: ReasonNoTreeCover2020, treeCover: No, forestFrom: BaselineForest2020},
		"half forest, no loss map": {
			c: PlotCover{Forest2020: full(0.5)}, risk: RiskMoreInfo, reason: ReasonNoLossData, treeCover: Yes, forestFrom: BaselineForest2020},
		"half forest, no loss since": {
			c: PlotCover{Forest2020: full(0.5), LossCoveredHa: 1}, risk: RiskMoreInfo, reason: ReasonTreeCover2020, treeCover: Yes, forestFrom: BaselineForest2020},
		"forest lost in 2022": {
			c: PlotCover{Forest2020: full(1), LossCoveredHa: 1, LossHa: map[int]float64{2022: 0.6}}, risk: RiskHigh, reason: ReasonLostAfter2020, treeCover: Yes, forestFrom: BaselineForest2020},
		"a loss in 2022 under the share": {
			c: PlotCover{Forest2020: full(1), LossCoveredHa: 1, LossHa: map[int]float64{2022: 0.05}}, risk: RiskMoreInfo, reason: ReasonTreeCover2020, treeCover: Yes, forestFrom: BaselineForest2020},
		"orchard planted 2015 in mapped forest": {
			c: PlotCover{Perennial: true, PlantingYear: 2015, Forest2020: full(1), LossCoveredHa: 1}, risk: RiskLow, reason: ReasonCommodity2020, treeCover: Yes, forestFrom: BaselineForest2020},
		"orchard planted 2020 counts too": {
			c: PlotCover{Perennial: true, PlantingYear: 2020, Forest2020: full(1), LossCoveredHa: 1, LossHa: map[int]float64{2023: 1}}, risk: RiskLow, reason: ReasonCommodity2020, treeCover: Yes, forestFrom: BaselineForest2020},
		"orchard planted 2021 does not": {
			c: PlotCover{Perennial: true, PlantingYear: 2021, Forest2020: full(1), LossCoveredHa: 1, LossHa: map[int]float64{2021: 1}}, risk: RiskHigh, reason: ReasonLostAfter2020, treeCover: Yes, forestFrom: BaselineForest2020},
		"an annual crop's planting year says nothing": {
			c: PlotCover{PlantingYear: 2015, Forest2020: full(1), LossCoveredHa: 1}, risk: RiskMoreInfo, reason: ReasonTreeCover2020, treeCover: Yes, forestFrom: BaselineForest2020},
		"lost before 2021": {
			c: PlotCover{Forest2020: full(1), LossCoveredHa: 1, LossHa: map[int]float64{2015: 0.5, 2022: 0.5}}, risk: RiskLow, reason: ReasonDisturbedBefore2021, treeCover: Yes, forestFrom: BaselineForest2020},
		"no map at all": {
			c: PlotCover{}, risk: RiskMoreInfo, reason: ReasonNoForestData, treeCover: Unknown},
		"half covered, no forest seen": {
			c: PlotCover{Forest2020: &Cover{CoveredHa: 0.5}}, risk: RiskMoreInfo, reason: ReasonNoForestData, treeCover: Unknown, forestFrom: BaselineForest2020},
		"95% covered, no forest seen": {
			c: PlotCover{Forest2020: &Cover{CoveredHa: 0.95}}, risk: RiskLow, reason: ReasonNoTreeCover2020, treeCover: No, forestFrom: BaselineForest2020},
		"Hansen tree cover lost in 2023": {
			c: PlotCover{Treecover2000: full(0.8), LossCoveredHa: 1, LossHa: map[int]float64{2023: 0.5}}, risk: RiskHigh, reason: ReasonLostAfter2020, treeCover: Yes, forestFrom: BaselineTreecover2000},
		"Hansen tree cover of 2000 without a loss map": {
			c: PlotCover{Treecover2000: full(0.8)}, risk: RiskMoreInfo, reason: ReasonNoForestData, treeCover: Unknown},
		"no Hansen tree cover in 2000": {
			c: PlotCover{Treecover2000: full(0.05)}, risk: RiskLow, reason: ReasonNoTreeCover2020, treeCover: No},
		"JRC none, Hansen some: any map saying yes wins": {
			c: PlotCover{Forest2020: full(0), Treecover2000: full(0.5), LossCoveredHa: 1}, risk: RiskMoreInfo, reason: ReasonTreeCover2020, treeCover: Yes, forestFrom: BaselineForest2020},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			tc.c.AreaHa = 1
			a := Assess(tc.c, DefaultScreeningRules())
			if a.Risk != tc.risk || a.Reason != tc.reason || a.Indicators.TreeCover2020 != tc.treeCover || a.ForestSource != tc.forestFrom {
				t.Errorf("got %s (%s), tree cover %s from %q; want %s (%s), %s from %q", a.Risk, a.Reason, a.Indicators.TreeCover2020, a.ForestSource,
					tc.risk, tc.reason, tc.treeCover, tc.forestFrom)
			}
		})
	}
}

func TestAssessReportsLossYearsAfter2020(t *testing.T) {
	a := Assess(PlotCover{AreaHa: 2, Forest2020: &Cover{CoveredHa: 2, PositiveHa: 2}, LossCoveredHa: 2,
		LossHa: map[int]float64{2023: 0.25, 2012: 0.1, 2021: 0.5}}, DefaultScreeningRules())
	if *a.LossAfter2020Ha != 0.75 || *a.LossBefore2021Ha != 0.1 || len(a.LossYearsAfter) != 2 || a.LossYearsAfter[0] != 2021 || a.LossYearsAfter[1] != 2023 {
		t.Errorf("loss after %v before %v years %v", *a.LossAfter2020Ha, *a.LossBefore2021Ha, a.LossYearsAfter)
	}
}

func TestRasterInfoCheck(t *testing.T) {
	good := RasterInfo{File: "f.tif", CRS: "GEOGCRS[...]", EPSG: 4326, Bounds: orb.Bound{Min: orb.Point{100, 10}, Max: orb.Point{110, 20}},
		PixelWidth: 0.0001, PixelHeight: 0.0001, Width: 100000, Height: 100000, Bands: 1}
	if err := good.Check(); err != nil {
		t.Fatalf("a JRC tile over Vietnam refused: %v", err)
	}
	tests := map[string]struct {
		edit func(*RasterInfo)
		want string
	}{
		"no coordinate system": {func(r *RasterInfo) { r.CRS, r.EPSG = "", 0 }, "no coordinate system"},
		"UTM":                  {func(r *RasterInfo) { r.EPSG = 32648 }, "EPSG:32648"},
		"Africa":               {func(r *RasterInfo) { r.Bounds = orb.Bound{Min: orb.Point{20, 0}, Max: orb.Point{30, 10}} }, "outside Vietnam"},
		"touching only":        {func(r *RasterInfo) { r.Bounds = orb.Bound{Min: orb.Point{92, 10}, Max: orb.Point{102, 20}} }, "outside Vietnam"},
		"rotated":              {func(r *RasterInfo) { r.Rotated = true }, "rotated"},
		"no band":              {func(r *RasterInfo) { r.Bands = 0 }, "no raster band"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			ri := good
			tc.edit(&ri)
			err := ri.Check()
			if ErrorCode(err) != EINVALID || !strings.Contains(ErrorMessage(err), tc.want) || !strings.HasPrefix(ErrorMessage(err), "f.tif: ") {
				t.Errorf("got %v, want EINVALID naming the file and saying %q", err, tc.want)
			}
		})
	}
}
