package registry

import (
	"context"
	"time"

	"github.com/paulmach/orb"
)

// ProvinceLetters are the letters of a province in its codes (VN-<letters>OR-0001).
type ProvinceLetters struct {
	ProvinceCode string    `json:"province_code"`
	Name         string    `json:"name"`
	Letters      string    `json:"letters"`
	UpdatedAt    time.Time `json:"updated_at"`
	UpdatedBy    string    `json:"updated_by"`
}

// MarketSteps are the two steps of an export code: proposed by the national authority, then
// confirmed by the importing country (with the date of its list).
type MarketSteps struct {
	Code              string     `json:"code"`
	Market            string     `json:"market"`
	ProposedOn        *time.Time `json:"proposed_on"`
	ProposedDocument  string     `json:"proposed_document,omitempty"`
	ConfirmedOn       *time.Time `json:"confirmed_on"`
	ConfirmedListDate *time.Time `json:"confirmed_list_date"`
	ConfirmedRef      string     `json:"confirmed_reference,omitempty"`
}

// MarketStep records one of them: Step "proposed" (On, Document) or "confirmed" (On, ListDate, Reference).
type MarketStep struct {
	Step      string
	On        *time.Time
	Document  string
	ListDate  *time.Time
	Reference string
}

// SeasonalReport is a seasonal report (Phụ lục 2): planned at the start of a season, the
// actual output after the harvest.
type SeasonalReport struct {
	ID                  int64      `json:"id"`
	GrowingAreaID       int64      `json:"growing_area_id"`
	Season              string     `json:"season"`
	Crop                string     `json:"crop"`
	Variety             string     `json:"variety,omitempty"`
	AreaHa              *float64   `json:"area_ha"`
	Standard            string     `json:"standard,omitempty"`
	Market              string     `json:"market,omitempty"`
	ExpectedOutputT     *float64   `json:"expected_output_t"`
	ExpectedHarvestFrom *string    `json:"expected_harvest_from"`
	ExpectedHarvestTo   *string    `json:"expected_harvest_to"`
	ActualOutputT       *float64   `json:"actual_output_t"`
	ReportedAt          time.Time  `json:"reported_at"`
	ActualReportedAt    *time.Time `json:"actual_reported_at"`
}

// PackingHouseRequest creates or changes a packing house (nil fields unchanged on a change).
type PackingHouseRequest struct {
	Name        *string    `json:"name"`
	OperatorID  *int64     `json:"operator_id"`
	Address     *string    `json:"address"`
	Location    *orb.Point `json:"-"`
	CapacityTPD *float64   `json:"capacity_tpd"`
}

// PackingLink is a packing house's link to a growing area whose produce it may pack, with the
// days it holds.
type PackingLink struct {
	PackingHouseID int64      `json:"packing_house_id"`
	GrowingAreaID  int64      `json:"growing_area_id"`
	ValidFrom      time.Time  `json:"valid_from"`
	ValidTo        *time.Time `json:"valid_to"`
}

// ProcedureService holds the rest of the code procedure: province letters, the export steps,
// seasonal reports, packing houses and their links, and a growing area's plots changed.
type ProcedureService interface {
	ProvinceLetters(ctx context.Context) ([]ProvinceLetters, error)
	SetProvinceLetters(ctx context.Context, province, letters string) (*ProvinceLetters, error)
	RecordMarketStep(ctx context.Context, code string, s MarketStep) (*MarketSteps, error)
	MarketSteps(ctx context.Context, codeID int64) (*MarketSteps, error)
	FileSeasonalReport(ctx context.Context, r SeasonalReport) (int64, error)
	ReportActualOutput(ctx context.Context, id int64, tonnes float64) error
	SeasonalReports(ctx context.Context, area int64) ([]SeasonalReport, error)
	CreatePackingHouse(ctx context.Context, h PackingHouseRequest) (int64, error)
	UpdatePackingHouse(ctx context.Context, id int64, h PackingHouseRequest) error
	LinkPackingHouse(ctx context.Context, l PackingLink) error
	SetAreaPlots(ctx context.Context, area int64, plots []int64) error
}
