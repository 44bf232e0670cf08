package registry

import (
	"context"
	"fmt"
	"time"

	"github.com/paulmach/orb"
)

// CodeRef is a market code as traceability shows it: public.
type CodeRef struct {
	ID           int64      `json:"id"`
	Code         string     `json:"code"`
	Market       string     `json:"market"`
	Status       string     `json:"status"`
	StatusReason string     `json:"status_reason,omitempty"`
	ValidFrom    *time.Time `json:"valid_from,omitempty"`
	ValidTo      *time.Time `json:"valid_to,omitempty"`
	Document     string     `json:"approving_document,omitempty"`
	Authority    string     `json:"approving_authority,omitempty"`
}

// AreaRef names a growing area or packing house.
type AreaRef struct {
	ID    int64     `json:"id"`
	Name  string    `json:"name"`
	Codes []CodeRef `json:"codes,omitempty"`
	// ValidFrom and ValidTo are the days a packing house's link to a growing area holds.
	ValidFrom *time.Time `json:"valid_from,omitempty"`
	ValidTo   *time.Time `json:"valid_to,omitempty"`
}

// Place names where something is, with the names of its units.
type PlaceNames struct {
	ProvinceCode string `json:"province_code,omitempty"`
	ProvinceName string `json:"province_name,omitempty"`
	CommuneCode  string `json:"commune_code,omitempty"`
	CommuneName  string `json:"commune_name,omitempty"`
}

// PlotContext is what a plot's panel shows beyond the plot: its growing area and codes, and
// the names of its commune and province.
type PlotContext struct {
	PlaceNames
	GrowingArea *AreaRef `json:"growing_area,omitempty"`
}

// GrowingAreaView is the public face of a growing area: what an exporter checks.
type GrowingAreaView struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
	PlaceNames
	Crops      []string  `json:"crops"`
	AreaHa     float64   `json:"area_ha"`
	Plots      int       `json:"plots"`
	Households int       `json:"households"`
	Registrant string    `json:"registrant,omitempty"` // a cooperative's or enterprise's name
	Codes      []CodeRef `json:"codes"`
	// PackingHouses are those that may pack the area's produce.
	PackingHouses []AreaRef  `json:"packing_houses"`
	LastInspected *time.Time `json:"last_inspected,omitempty"`
	BBox          *orb.Bound `json:"-"`
}

// PackingHouseView is the public face of a packing house.
type PackingHouseView struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
	PlaceNames
	Operator string `json:"operator,omitempty"`
	// Address and CapacityTPD are the business's (not shown when a household runs it).
	Address      string     `json:"address,omitempty"`
	CapacityTPD  *float64   `json:"capacity_tpd,omitempty"`
	Codes        []CodeRef  `json:"codes"`
	GrowingAreas []AreaRef  `json:"growing_areas"`
	Location     orb.Point  `json:"-"`
	BBox         *orb.Bound `json:"-"`
}

// CodeLookup is the answer to "what is this code?": the code and what it belongs to.
type CodeLookup struct {
	Code         CodeRef
	GrowingArea  *GrowingAreaView
	PackingHouse *PackingHouseView
}

// CodeEventView is one status change of a code, as its public page shows it.
type CodeEventView struct {
	At       time.Time `json:"at"`
	From     string    `json:"from,omitempty"`
	To       string    `json:"to"`
	Reason   string    `json:"reason,omitempty"`
	Document string    `json:"document,omitempty"`
}

// Outline is a shape drawn small: an SVG path in a view box (Web Mercator metres, y down).
type Outline struct {
	Path    string
	ViewBox [4]float64
}

// CodePage is what a code's public page shows: the code's lookup, the status history of every
// code of its area (or packing house), and the area's outline. Nothing personal.
type CodePage struct {
	*CodeLookup
	History map[int64][]CodeEventView
	Outline *Outline
}

// CodeStatusChange moves a code through its states (see CanTransition).
type CodeStatusChange struct {
	To       string
	Reason   string // required to suspend: quarantine_pest, residue_violation, code_borrowing, missed_supervision, other
	Note     string
	Document string // the decision's number
	// ValidFrom and ValidTo set the validity when a code becomes active.
	ValidFrom, ValidTo *time.Time
}

// SettleValidity completes c with the validity the code keeps or takes when it moves from
// status from (with its stored validFrom and validTo) to c.To on the day now, and refuses, in
// words naming the dates, what cannot be: an issue starts today unless it says otherwise; a
// reinstatement keeps the code's validity (and its approving document); a renewal of an
// expired code needs a new valid_to; a suspension or a revocation changes no date; an active
// code must be valid today; no code ends before it begins.
func (c *CodeStatusChange) SettleValidity(from string, validFrom, validTo *time.Time, now time.Time) error {
	day := func(t *time.Time) string { return t.Format(time.DateOnly) }
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	bad := func(field, format string, args ...any) error {
		return Invalid([]Detail{{Field: field, Message: fmt.Sprintf(format, args...)}})
	}
	changes := func(given, stored *time.Time) bool {
		return given != nil && (stored == nil || day(given) != day(stored))
	}
	switch {
	case c.To != CodeActive:
		for _, d := range []struct {
			field       string
			given, kept *time.Time
		}{{"valid_from", c.ValidFrom, validFrom}, {"valid_to", c.ValidTo, validTo}} {
			if changes(d.given, d.kept) {
				return bad(d.field, "a code that becomes %s keeps its validity: leave %s out", c.To, d.field)
			}
		}
		c.ValidFrom, c.ValidTo = validFrom, validTo
		return nil
	case from == CodeSuspended:
		if changes(c.ValidFrom, validFrom) || changes(c.ValidTo, validTo) {
			return bad("valid_from", "reinstating keeps the code's validity (%s to %s) and its approving document: leave the dates out", dayOr(validFrom), dayOr(validTo))
		}
		c.ValidFrom, c.ValidTo = validFrom, validTo
	case from == CodeExpired:
		if c.ValidTo == nil {
			return bad("valid_to", "renewing an expired code needs its new valid_to (it ended on %s)", dayOr(validTo))
		}
		if c.ValidFrom == nil {
			c.ValidFrom = validFrom
		}
	default: // issued
		if c.ValidFrom == nil {
			c.ValidFrom = &today
		}
		if c.ValidTo == nil {
			c.ValidTo = validTo
		}
	}
	if c.ValidFrom != nil && c.ValidTo != nil && c.ValidTo.Before(*c.ValidFrom) {
		return bad("valid_to", "valid_to %s is before valid_from %s: a code cannot end before it begins", day(c.ValidTo), day(c.ValidFrom))
	}
	if c.ValidTo != nil && day(c.ValidTo) < today.Format(time.DateOnly) {
		return bad("valid_to", "valid_to %s has passed: an active code must be valid today (%s)", day(c.ValidTo), today.Format(time.DateOnly))
	}
	return nil
}

func dayOr(t *time.Time) string {
	if t == nil {
		return "open"
	}
	return t.Format(time.DateOnly)
}

// SearchResult is one hit of a search: something the map can fly to.
type SearchResult struct {
	Type   string     `json:"type"` // "code", "growing_area", "commune", "province"
	ID     string     `json:"id"`
	Label  string     `json:"label"`
	Detail string     `json:"detail,omitempty"`
	BBox   *orb.Bound `json:"-"`
}

// LookupService answers the map's and the exporters' questions. Everything it returns is
// public.
type LookupService interface {
	// PlotContext returns a plot's growing area, codes and unit names. Returns ENOTFOUND.
	PlotContext(ctx context.Context, plotID int64) (*PlotContext, error)
	// FindGrowingArea returns a growing area's public view. Returns ENOTFOUND.
	FindGrowingArea(ctx context.Context, id int64) (*GrowingAreaView, error)
	// FindPackingHouse returns a packing house's public view. Returns ENOTFOUND.
	FindPackingHouse(ctx context.Context, id int64) (*PackingHouseView, error)
	// LookupCode finds a code however it is written ("VN-DLOR-0017", "vndlor0017"). Returns
	// ENOTFOUND.
	LookupCode(ctx context.Context, code string) (*CodeLookup, error)
	// CodePage returns what a code's public page shows. Returns ENOTFOUND.
	CodePage(ctx context.Context, code string) (*CodePage, error)
	// Search finds codes, growing areas, communes and provinces by what is typed, with or
	// without diacritics. Returns EINVALID for a query under 2 characters.
	Search(ctx context.Context, q string, limit int) ([]SearchResult, error)
}

// CodeService changes codes.
type CodeService interface {
	// ChangeCodeStatus moves a code to another status, with its reason and document, if the
	// caller is an admin or an officer of the code's place. Returns ENOTFOUND, EFORBIDDEN or
	// EINVALID (a move the state machine does not allow, a suspension without a reason).
	ChangeCodeStatus(ctx context.Context, id int64, c CodeStatusChange) (*CodeRef, error)
}

// Visit is a supervision visit to a code's growing area or packing house (biên bản kiểm tra
// giám sát): when, by whom, the checklist as the form in use has it, and the conclusion.
type Visit struct {
	On         time.Time
	Inspectors []string
	// Checklist is a JSON object: pesticides used, farming diary, pests and their density,
	// samples and lab results, orchard hygiene...
	Checklist  []byte
	Conclusion string // pass, fail or conditional
	Notes      string
	// Photos are the visit's, with where and when each was taken.
	Photos []Photo
	// Suspend, when set, suspends the code in the same step (its To is "suspended", its
	// Reason one of the suspension reasons).
	Suspend *CodeStatusChange
}

// OverdueCode is an active code whose supervision visit is due and not made.
type OverdueCode struct {
	CodeRef
	Place        string     `json:"place"` // the growing area's or packing house's name
	ProvinceCode string     `json:"province_code"`
	LastVisit    *time.Time `json:"last_visit,omitempty"`
	Due          time.Time  `json:"due"`
	DaysOverdue  int        `json:"days_overdue"`
	// RemindedAt is when the reminder job first listed it for this visit.
	RemindedAt *time.Time `json:"reminded_at"`
	// GrowingAreaID and PackingHouseID say what the code covers, to show it on the map.
	GrowingAreaID  *int64 `json:"growing_area_id"`
	PackingHouseID *int64 `json:"packing_house_id"`
}

// SupervisionService records supervision visits and lists the codes overdue for one.
type SupervisionService interface {
	// RecordVisit records a visit to code id's area or house (officers of its province,
	// admins), refusing a visit dated in the future, a conclusion other than pass, fail or
	// conditional, or a checklist that is not a JSON object. It returns the visit's id.
	RecordVisit(ctx context.Context, id int64, v Visit) (int64, error)
	// Visits lists the supervision visits of code id, newest first, with their photos (the
	// registrant, officers of the province, admins).
	Visits(ctx context.Context, id int64) ([]InspectionView, error)
	// OverdueCodes lists the active codes of the caller's jurisdiction (every province for an
	// admin) whose last visit (or issue) is older than their supervision interval, most
	// overdue first.
	OverdueCodes(ctx context.Context) ([]OverdueCode, error)
}
