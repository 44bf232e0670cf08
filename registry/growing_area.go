package registry

import (
	"context"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/paulmach/orb"
)

// GrowingArea is a growing area (vùng trồng): plots of many households farmed under one control
// procedure, registered by a cooperative or enterprise.
type GrowingArea struct {
	ID           int64
	Name         string
	RegistrantID *int64
	Crops        []string
	ProvinceCode string
	CommuneCode  string
	// Outline is a drawn outline, when there is one; the member plots are the truth.
	Outline    orb.MultiPolygon
	Source     string
	ExternalID string
	Version    int
}

// Market code statuses. A code moves draft -> submitted -> inspected -> active, may be
// suspended and reinstated (active <-> suspended), and ends revoked.
const (
	CodeDraft     = "draft"
	CodeSubmitted = "submitted"
	CodeInspected = "inspected"
	CodeActive    = "active"
	CodeSuspended = "suspended"
	CodeExpired   = "expired" // its valid_to has passed: set by the expiry job, read at once
	CodeRevoked   = "revoked"
)

// codeTransitions lists the statuses each status may move to.
var codeTransitions = map[string][]string{
	CodeDraft:     {CodeSubmitted, CodeRevoked},
	CodeSubmitted: {CodeInspected, CodeDraft, CodeRevoked},
	CodeInspected: {CodeActive, CodeSubmitted, CodeRevoked},
	CodeActive:    {CodeSuspended, CodeRevoked},
	CodeSuspended: {CodeActive, CodeRevoked},
	// An expired code is renewed (active again, with a new valid_to) or revoked.
	CodeExpired: {CodeActive, CodeRevoked},
}

// AllowedTransitions lists the statuses a code of status from may move to.
func AllowedTransitions(from string) []string { return codeTransitions[from] }

// CanTransition reports whether a code may move from one status to another.
func CanTransition(from, to string) bool {
	for _, s := range codeTransitions[from] {
		if s == to {
			return true
		}
	}
	return false
}

// Suspension reasons.
const (
	ReasonQuarantinePest    = "quarantine_pest"
	ReasonResidueViolation  = "residue_violation"
	ReasonCodeBorrowing     = "code_borrowing"
	ReasonMissedSupervision = "missed_supervision"
	ReasonOther             = "other"
)

// MarketCode is a growing-area code (mã số vùng trồng, PUC) or a packing-house code (PHC) for
// one importing market. Exactly one of GrowingAreaID and PackingHouseID is set.
type MarketCode struct {
	ID             int64
	Code           string
	GrowingAreaID  *int64
	PackingHouseID *int64
	// Market is the importing market: ISO 3166-1 alpha-2 ("CN", "US"), "EU", or "VN" for a
	// domestic code.
	Market string
	// The parts of the code as issued, when it follows the export format.
	CodeCountry, CodeProvince, CodeKind string
	CodeSequence                        int
	Status                              string
	StatusReason                        string
	ValidFrom, ValidTo                  *time.Time
	ApprovingDocument                   string
	ApprovingAuthority                  string
	ProvinceCode                        string
}

// exportCodeRE matches the export format seen on real codes: country, 2-letter province,
// 2-letter kind (OR orchard, PH packing house), sequence: "VN-DLOR-0017", also "VNDLPH-0001".
var exportCodeRE = regexp.MustCompile(`^([A-Z]{2})-?([A-Z]{2})(OR|PH)-?([0-9]{3,6})$`)

// ParseExportCode splits a code in the export format into its parts. ok is false for codes in
// other formats (domestic codes vary by province), which are still valid opaque codes.
func ParseExportCode(code string) (country, province, kind string, seq int, ok bool) {
	m := exportCodeRE.FindStringSubmatch(strings.ToUpper(strings.TrimSpace(code)))
	if m == nil {
		return "", "", "", 0, false
	}
	seq, _ = strconv.Atoi(m[4])
	return m[1], m[2], m[3], seq, true
}

// GrowingAreaRequest forms a growing area from plots: its name, the cooperative or enterprise
// that registers it (a cooperative registers its own; an officer or an admin names it), and
// the plots. Its crops, size, households, province and commune are derived from the plots.
type GrowingAreaRequest struct {
	Name         string
	RegistrantID *int64
	PlotIDs      []int64
}

// GrowingAreaService forms growing areas.
type GrowingAreaService interface {
	// CreateGrowingArea forms a growing area from member plots, refusing (EINVALID, every
	// problem at once, each naming its plot and rule) plots that do not exist, are already in
	// a current area, are not the registrant's members' (or its own), lie in more than one
	// province or overlap one another, and areas smaller than their crops' minimum; officers
	// act in their jurisdiction (EFORBIDDEN). It returns the new area's id.
	CreateGrowingArea(ctx context.Context, req GrowingAreaRequest) (int64, error)
}
