package registry

import (
	"context"
	"slices"
	"time"
)

// Traceability: the chain an inspector follows, growing area (its code for the market) →
// harvest lot (plots, dates, kg) → packing house (its code, its link to the area) → consignment
// (market, net weight, container). China and others turn back consignments, and revoke codes,
// when the chain does not hold: "code borrowing".

// HarvestLot is what a cooperative harvested from plots of one growing area, declared under
// the area's code for a market (lô hàng thu hoạch).
type HarvestLot struct {
	ID int64 `json:"id"`
	// PublicCode names the lot on its QR and public page ("L-7KQ2M9XA").
	PublicCode    string `json:"public_code"`
	GrowingAreaID int64  `json:"growing_area_id"`
	// Code is the area's code the lot is declared under; Market its market.
	Code   string `json:"code"`
	Market string `json:"market"`
	Crop   string `json:"crop"`
	// Season is the year the harvest's season starts in.
	Season         int        `json:"season"`
	HarvestedFrom  time.Time  `json:"harvested_from"`
	HarvestedTo    time.Time  `json:"harvested_to"`
	QuantityKg     float64    `json:"quantity_kg"`
	PlotIDs        []int64    `json:"plot_ids"`
	RegistrantID   *int64     `json:"registrant_id,omitempty"`
	PackingHouseID *int64     `json:"packing_house_id,omitempty"`
	ReceivedAt     *time.Time `json:"received_at,omitempty"`
	ReceivedKg     float64    `json:"received_kg,omitempty"`
	// Flags are what the code-borrowing checks found when it was recorded and received.
	Flags        []Flag    `json:"flags"`
	ProvinceCode string    `json:"province_code"`
	CreatedAt    time.Time `json:"created_at"`
	Version      int       `json:"version"`
}

// Consignment is lots an exporter ships to a market through a packing house under its code
// (lô hàng xuất khẩu).
type Consignment struct {
	ID             int64  `json:"id"`
	PublicCode     string `json:"public_code"`
	ExporterID     *int64 `json:"exporter_id,omitempty"`
	Market         string `json:"market"`
	PackingHouseID int64  `json:"packing_house_id"`
	// PackingCode is the packing house's code for the market.
	PackingCode   string           `json:"packing_code,omitempty"`
	NetKg         float64          `json:"net_kg"`
	ContainerNo   string           `json:"container_no,omitempty"`
	DeclarationNo string           `json:"declaration_no,omitempty"`
	Destination   string           `json:"destination,omitempty"`
	ShippedOn     *time.Time       `json:"shipped_on,omitempty"`
	Lots          []ConsignmentLot `json:"lots"`
	Flags         []Flag           `json:"flags"`
	ProvinceCode  string           `json:"province_code"`
	CreatedAt     time.Time        `json:"created_at"`
	Version       int              `json:"version"`
}

// ConsignmentLot is how much of a lot a consignment carries.
type ConsignmentLot struct {
	LotID      int64   `json:"lot_id"`
	PublicCode string  `json:"public_code,omitempty"`
	QuantityKg float64 `json:"quantity_kg"`
}

// Rules of the code-borrowing checks. Each flag names one, with its numbers.
const (
	// RuleCodeNotActive: the area's code was not active for the market on the harvest date.
	RuleCodeNotActive = "code_not_active"
	// RulePackingCode: the packing house holds no active code for the market.
	RulePackingCode = "packing_house_code"
	// RuleNotLinked: the packing house is not linked to the growing area.
	RuleNotLinked = "packing_house_not_linked"
	// RuleYieldCap: the season's lots of the area weigh more than area × the crop's yield cap.
	RuleYieldCap = "yield_cap"
	// RuleSeasonalOutput: more than the season's expected output (seasonal report).
	RuleSeasonalOutput = "seasonal_output"
	// RulePlotNotMember: a plot named is not a member of the area.
	RulePlotNotMember = "plot_not_member"
	// RuleOutOfSeason: the harvest date falls outside the crop's season.
	RuleOutOfSeason = "harvest_out_of_season"
	// RuleOverShipped: the consignment carries more of a lot than was harvested (or received).
	RuleOverShipped = "lot_over_shipped"
	// RuleMarket: a lot is declared for another market than the consignment's.
	RuleMarket = "market_mismatch"
	// RuleDeforestation: a plot of the lot is at high risk of deforestation after 2020.
	RuleDeforestation = "deforestation_risk"
)

// Flag is one finding of the code-borrowing checks: the rule, a message that gives the
// numbers, the numbers themselves (for a screen to say in its language), and the line (a lot
// of a consignment, a code of a pasted list) it is about.
type Flag struct {
	Rule    string            `json:"rule"`
	Message string            `json:"message"`
	Args    map[string]string `json:"args,omitempty"`
	// Lot is the public code of the lot the flag is about, in a consignment's flags.
	Lot string `json:"lot,omitempty"`
}

// TraceFilter selects lots and consignments for an officer's report.
type TraceFilter struct {
	ProvinceCode, Market, Rule string
	// FlaggedOnly keeps those with at least one flag.
	FlaggedOnly  bool
	Since, Until *time.Time
	Limit        int
}

// CodeCheck is the answer for one code of a pasted list: valid for the market today, or why not.
type CodeCheck struct {
	Line   int    `json:"line"`
	Input  string `json:"input"`
	Code   string `json:"code,omitempty"`
	Market string `json:"market,omitempty"`
	Pass   bool   `json:"pass"`
	Flags  []Flag `json:"flags"`
}

// TraceService records lots and consignments and checks them against the codes, the links and
// the yields. Writes are audited like every other.
type TraceService interface {
	// RecordLot checks and stores a lot. Returns EINVALID (a plot outside the area, a bad
	// quantity or date, a code suspended on the harvest date…), EFORBIDDEN or ENOTFOUND.
	RecordLot(ctx context.Context, l *HarvestLot) error
	// ReceiveLot records that a packing house received a lot (kg), and checks the link.
	ReceiveLot(ctx context.Context, lotID, packingHouseID int64, kg float64) (*HarvestLot, error)
	// FindLot returns a lot by id or public code. Returns ENOTFOUND.
	FindLot(ctx context.Context, ref string) (*HarvestLot, error)
	// RecordConsignment checks and stores a consignment. Returns EINVALID (a market a lot's code
	// does not cover…), EFORBIDDEN or ENOTFOUND.
	RecordConsignment(ctx context.Context, c *Consignment) error
	// FindConsignment returns a consignment by id or public code. Returns ENOTFOUND.
	FindConsignment(ctx context.Context, ref string) (*Consignment, error)
	// CheckConsignment runs the checks again, as things stand today, for its exporter, the
	// officers of its packing house's province and admins. Returns EFORBIDDEN or ENOTFOUND.
	CheckConsignment(ctx context.Context, ref string) (*Consignment, error)
	// PublicFlags runs a consignment's checks for its public page. Returns ENOTFOUND.
	PublicFlags(ctx context.Context, ref string) (*Consignment, error)
	// FindConsignments lists the caller's consignments (an exporter's own; an officer's province).
	FindConsignments(ctx context.Context, f TraceFilter) ([]*Consignment, error)
	// FindFlaggedLots lists lots for an officer's report.
	FindLots(ctx context.Context, f TraceFilter) ([]*HarvestLot, error)
	// CheckCodes checks a pasted list of codes for a market, line by line.
	CheckCodes(ctx context.Context, market string, codes []string) ([]CodeCheck, error)
}

// HasRule reports whether flags hold rule.
func HasRule(flags []Flag, rule string) bool {
	return slices.ContainsFunc(flags, func(f Flag) bool { return f.Rule == rule })
}

// SeasonOf returns the season a harvest on day d belongs to, named by the year the season
// starts in: a crop whose harvest months run across the new year (coffee, October to February)
// harvested in January belongs to the season of the October before. months are the crop's
// harvest months (empty or all twelve: the calendar year).
func SeasonOf(months []int, d time.Time) int {
	start := seasonStart(months)
	if start == 0 || int(d.Month()) >= start || !slices.Contains(months, int(d.Month())) {
		return d.Year()
	}
	return d.Year() - 1
}

// seasonStart is the first month of a season that runs across the new year (a month in months
// whose previous month is not), or 0 when the season does not cross the year's end.
func seasonStart(months []int) int {
	if len(months) == 0 || len(months) == 12 || !slices.Contains(months, 12) || !slices.Contains(months, 1) {
		return 0
	}
	for _, m := range months {
		prev := (m+10)%12 + 1
		if !slices.Contains(months, prev) {
			return m
		}
	}
	return 0
}

// InSeason reports whether every month of the harvest from..to is one of the crop's harvest
// months (always, for a crop whose months are not set).
func InSeason(months []int, from, to time.Time) bool {
	if len(months) == 0 {
		return true
	}
	for d := time.Date(from.Year(), from.Month(), 1, 0, 0, 0, 0, time.UTC); !d.After(to); d = d.AddDate(0, 1, 0) {
		if !slices.Contains(months, int(d.Month())) {
			return false
		}
	}
	return true
}

// CodeEvent is one status change of a code.
type CodeEvent struct {
	At       time.Time
	From, To string
	Reason   string
}

// CodeHistory is a code's statuses over time: its events in order, and its validity.
type CodeHistory struct {
	Code               string
	Events             []CodeEvent
	Current            string
	ValidFrom, ValidTo *time.Time
}

// InactiveDuring returns, when the code was not active for a moment of the days from..to (its
// status was another, or the days fall outside its validity), that status ("suspended",
// "expired"...), since when, and why; ok is true when it was active throughout. Before its
// first event a code had the status that event gave it when it was entered (no from-status),
// since its validity began.
func (h CodeHistory) InactiveDuring(from, to time.Time) (status string, since time.Time, reason string, ok bool) {
	end := time.Date(to.Year(), to.Month(), to.Day(), 23, 59, 59, 0, time.UTC)
	start := time.Date(from.Year(), from.Month(), from.Day(), 0, 0, 0, 0, time.UTC)
	if h.ValidFrom != nil && start.Before(*h.ValidFrom) {
		return "not_yet_valid", *h.ValidFrom, "", false
	}
	if h.ValidTo != nil && end.After(h.ValidTo.Add(24*time.Hour-time.Second)) {
		return "expired", *h.ValidTo, "", false
	}
	// The statuses as intervals: [at_i, at_i+1) has Events[i].To; before the first, its From
	// (or its To when it was the code's entry).
	status = h.Current
	if len(h.Events) > 0 {
		status = cmpOr(h.Events[0].From, h.Events[0].To)
	}
	since = time.Time{}
	if status != CodeActive && (len(h.Events) == 0 || start.Before(h.Events[0].At)) {
		return status, since, "", false
	}
	for i, e := range h.Events {
		next := time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)
		if i+1 < len(h.Events) {
			next = h.Events[i+1].At
		}
		// The interval [e.At, next) overlaps the harvest's days?
		if e.To != CodeActive && e.At.Before(end) && next.After(start) {
			return e.To, e.At, e.Reason, false
		}
	}
	return "", time.Time{}, "", true
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
