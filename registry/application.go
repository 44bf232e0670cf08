package registry

import (
	"context"
	"encoding/json"
	"time"
)

// Application statuses (hồ sơ đăng ký). An application moves
//
//	draft -> submitted -> under_review -> inspection_scheduled -> inspected -> approved | rejected
//
// with "returned for changes" (back to the registrant, who submits again) and "withdrawn".
const (
	AppDraft               = "draft"
	AppSubmitted           = "submitted"
	AppReturned            = "returned"
	AppUnderReview         = "under_review"
	AppInspectionScheduled = "inspection_scheduled"
	AppInspected           = "inspected"
	AppApproved            = "approved"
	AppRejected            = "rejected"
	AppWithdrawn           = "withdrawn"
)

// AppStep is one move of an application: to a status, by whom ("registrant": the cooperative
// or enterprise that applies; "officer": an officer of the province or an admin).
type AppStep struct {
	To string
	By string
}

// appSteps lists the moves from each status. Inspected is reached by recording the
// inspection; approved and rejected by a decision.
var appSteps = map[string][]AppStep{
	AppDraft:               {{AppSubmitted, "registrant"}, {AppWithdrawn, "registrant"}},
	AppSubmitted:           {{AppUnderReview, "officer"}, {AppReturned, "officer"}, {AppWithdrawn, "registrant"}},
	AppReturned:            {{AppSubmitted, "registrant"}, {AppWithdrawn, "registrant"}},
	AppUnderReview:         {{AppInspectionScheduled, "officer"}, {AppReturned, "officer"}, {AppRejected, "officer"}, {AppWithdrawn, "registrant"}},
	AppInspectionScheduled: {{AppInspected, "officer"}, {AppInspectionScheduled, "officer"}, {AppRejected, "officer"}, {AppWithdrawn, "registrant"}},
	AppInspected:           {{AppApproved, "officer"}, {AppRejected, "officer"}, {AppInspectionScheduled, "officer"}},
}

// AppNext lists the statuses an application of status from may move to (by anyone).
func AppNext(from string) []string {
	var out []string
	for _, s := range appSteps[from] {
		out = append(out, s.To)
	}
	return out
}

// AppStepBy says who may move an application from one status to another ("" if no one).
func AppStepBy(from, to string) string {
	for _, s := range appSteps[from] {
		if s.To == to {
			return s.By
		}
	}
	return ""
}

// AppNextFor lists the statuses the caller may move an application of status from to:
// registrant's moves when registrant, officer's when officer.
func AppNextFor(from string, registrant, officer bool) []string {
	out := []string{}
	for _, s := range appSteps[from] {
		if (s.By == "registrant" && registrant) || (s.By == "officer" && officer) {
			out = append(out, s.To)
		}
	}
	return out
}

// Standard is a standard the area applies (VietGAP, GlobalGAP, organic...) with its certificate.
type Standard struct {
	Name        string `json:"name"`
	Certificate string `json:"certificate,omitempty"`
	IssuedOn    string `json:"issued_on,omitempty"`
	ValidTo     string `json:"valid_to,omitempty"`
}

// ApplicationForm holds the fields of Form 01 the registrant fills; a nil field is not given
// (a PATCH changes only what it names).
type ApplicationForm struct {
	Representative      *string     `json:"representative"`
	Phone               *string     `json:"phone"`
	Email               *string     `json:"email"`
	Address             *string     `json:"address"`
	Crop                *string     `json:"crop"`
	Varieties           *[]string   `json:"varieties"`
	TreeAgeYears        *float64    `json:"tree_age_years"`
	ExpectedHarvestFrom *int        `json:"expected_harvest_from"` // month 1-12
	ExpectedHarvestTo   *int        `json:"expected_harvest_to"`   // month 1-12
	ExpectedOutputT     *float64    `json:"expected_output_t"`
	AvgYield3yTHa       *float64    `json:"avg_yield_3y_t_ha"`
	HarvestsPerYear     *int        `json:"harvests_per_year"`
	Standards           *[]Standard `json:"standards"`
	Commitment          *bool       `json:"commitment"`
}

// ApplicationRequest opens an application for a growing area (or a packing house) and a market.
type ApplicationRequest struct {
	GrowingAreaID  *int64 `json:"growing_area_id"`
	PackingHouseID *int64 `json:"packing_house_id"`
	Market         string `json:"market"`
	ApplicationForm
}

// Ref names an object: its id and name.
type Ref struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
}

// Application is an application as its readers see it.
type Application struct {
	ID               int64      `json:"id"`
	Status           string     `json:"status"`
	Market           string     `json:"market"`
	GrowingArea      *Ref       `json:"growing_area"`
	PackingHouse     *Ref       `json:"packing_house"`
	Registrant       Ref        `json:"registrant"`
	ProvinceCode     string     `json:"province_code"`
	AreaHa           *float64   `json:"area_ha"`
	HouseholdCount   *int       `json:"household_count"`
	SubmittedAt      *time.Time `json:"submitted_at"`
	DecidedAt        *time.Time `json:"decided_at"`
	InspectionOn     *string    `json:"inspection_on"`
	Inspectors       []string   `json:"inspectors"`
	ReturnNote       string     `json:"return_note,omitempty"`
	RejectionReasons []string   `json:"rejection_reasons"`
	Code             *string    `json:"code"`
	CreatedAt        time.Time  `json:"created_at"`
	UpdatedAt        time.Time  `json:"updated_at"`
	ApplicationForm
}

// AttachmentInfo describes an attachment.
type AttachmentInfo struct {
	ID          int64     `json:"id"`
	Kind        string    `json:"kind"`
	Filename    string    `json:"filename"`
	ContentType string    `json:"content_type"`
	Size        int       `json:"size"`
	CreatedAt   time.Time `json:"created_at"`
}

// PhotoInfo describes an inspection photo: where and when it was taken.
type PhotoInfo struct {
	ID        int64      `json:"id"`
	TakenAt   *time.Time `json:"taken_at"`
	Lon       *float64   `json:"lon"`
	Lat       *float64   `json:"lat"`
	AccuracyM *float64   `json:"accuracy_m"`
}

// InspectionView is an inspection (biên bản kiểm tra) as its readers see it.
type InspectionView struct {
	ID         int64           `json:"id"`
	On         string          `json:"on"`
	Inspectors []string        `json:"inspectors"`
	Checklist  json.RawMessage `json:"checklist"`
	Conclusion string          `json:"conclusion"`
	Reasons    string          `json:"reasons"`
	Photos     []PhotoInfo     `json:"photos"`
	By         string          `json:"by"`
}

// AppEvent is one step of an application.
type AppEvent struct {
	At    time.Time `json:"at"`
	From  string    `json:"from"`
	To    string    `json:"to"`
	Actor string    `json:"actor"`
	Note  string    `json:"note,omitempty"`
}

// ApplicationDetail is an application with everything about it.
type ApplicationDetail struct {
	Application Application      `json:"application"`
	Allowed     []string         `json:"allowed"`
	Attachments []AttachmentInfo `json:"attachments"`
	Inspections []InspectionView `json:"inspections"`
	Events      []AppEvent       `json:"events"`
}

// AppMove moves an application: to a status, with a note (required to return it), and for a
// scheduled inspection its day and inspectors.
type AppMove struct {
	To         string
	Note       string
	On         *time.Time
	Inspectors []string
}

// Attachment is a file attached to an application.
type Attachment struct {
	Kind     string
	Filename string
	Data     []byte
}

// Photo is an inspection photo, with where and when it was taken.
type Photo struct {
	Data      []byte
	TakenAt   *time.Time
	Lon, Lat  *float64
	AccuracyM *float64
}

// InspectionRecord is an inspection as the officer records it in the field.
type InspectionRecord struct {
	On         time.Time
	Inspectors []string
	Checklist  json.RawMessage
	Conclusion string
	Reasons    string
	Photos     []Photo
}

// Decision approves an application (issuing its code) or rejects it with its reasons.
type Decision struct {
	Approve            bool
	Document           string
	Authority          string
	ValidFrom, ValidTo *time.Time
	Reasons            []string
}

// Limits of what an application and an inspection hold.
const (
	MaxAttachmentBytes = 10 << 20
	MaxAttachments     = 20
	MaxPhotoBytes      = 10 << 20
	MaxPhotos          = 20
)

// ApplicationService runs applications through their procedure. Registrants (the area's
// cooperative or enterprise) open, fill, submit and withdraw them; officers of the province
// review, return, schedule and record inspections and decide; admins do either.
type ApplicationService interface {
	CreateApplication(ctx context.Context, req ApplicationRequest) (int64, error)
	UpdateApplication(ctx context.Context, id int64, f ApplicationForm) error
	Application(ctx context.Context, id int64) (*ApplicationDetail, error)
	// Applications lists the applications the caller may see, of the given statuses (all if none).
	Applications(ctx context.Context, statuses []string) ([]Application, error)
	// MoveApplication moves an application; a move not allowed from its status is ECONFLICT
	// with the allowed statuses in the error's "allowed".
	MoveApplication(ctx context.Context, id int64, m AppMove) error
	AddAttachment(ctx context.Context, id int64, a Attachment) (*AttachmentInfo, error)
	Attachment(ctx context.Context, id, attachment int64) (*AttachmentInfo, []byte, error)
	DeleteAttachment(ctx context.Context, id, attachment int64) error
	RecordInspection(ctx context.Context, id int64, r InspectionRecord) (int64, error)
	InspectionPhoto(ctx context.Context, inspection, photo int64) (contentType string, data []byte, err error)
	// Decide approves (issuing the code, numbered per province and kind) or rejects.
	Decide(ctx context.Context, id int64, d Decision) (*CodeRef, error)
}

// SniffDocument returns the type of an attachment by its content: PDF, JPEG or PNG, "" for
// anything else.
func SniffDocument(b []byte) string {
	switch {
	case len(b) >= 5 && string(b[:5]) == "%PDF-":
		return "application/pdf"
	case len(b) >= 3 && b[0] == 0xFF && b[1] == 0xD8 && b[2] == 0xFF:
		return "image/jpeg"
	case len(b) >= 8 && string(b[:8]) == "\x89PNG\r\n\x1a\n":
		return "image/png"
	}
	return ""
}

// ExpiringCode is an active code whose valid_to is near.
type ExpiringCode struct {
	CodeRef
	Place        string `json:"place"`
	ProvinceCode string `json:"province_code"`
	DaysLeft     int    `json:"days_left"`
	// GrowingAreaID and PackingHouseID say what the code covers, to show it on the map.
	GrowingAreaID  *int64 `json:"growing_area_id"`
	PackingHouseID *int64 `json:"packing_house_id"`
}

// MissingReport is an active export code of a growing area with no seasonal report for a season.
type MissingReport struct {
	Code          string `json:"code"`
	Market        string `json:"market"`
	GrowingAreaID int64  `json:"growing_area_id"`
	Name          string `json:"name"`
	ProvinceCode  string `json:"province_code"`
	Season        string `json:"season"`
}

// Inbox is an officer's work in their jurisdiction.
type Inbox struct {
	Counts         map[string]int  `json:"counts"`
	Review         []Application   `json:"review"`
	Inspections    []Application   `json:"inspections"`
	Overdue        []OverdueCode   `json:"overdue"`
	Expiring       []ExpiringCode  `json:"expiring"`
	ReportsMissing []MissingReport `json:"reports_missing"`
}

// AreaSummary is a growing area in a list.
type AreaSummary struct {
	ID         int64    `json:"id"`
	Name       string   `json:"name"`
	Crops      []string `json:"crops"`
	AreaHa     float64  `json:"area_ha"`
	Households int      `json:"households"`
	Plots      int      `json:"plot_count"`
}

// OrgCode is a code of a registrant, with what it covers.
type OrgCode struct {
	CodeRef
	GrowingAreaID  *int64 `json:"growing_area_id"`
	PackingHouseID *int64 `json:"packing_house_id"`
	Place          string `json:"place"`
}

// Organisation is a cooperative's (or enterprise's) page: its areas, applications, codes and
// the seasonal reports it owes.
type Organisation struct {
	Producer      Ref             `json:"producer"`
	Areas         []AreaSummary   `json:"areas"`
	Applications  []Application   `json:"applications"`
	Codes         []OrgCode       `json:"codes"`
	ReportsDue    []MissingReport `json:"reports_due"`
	PackingHouses []AreaRef       `json:"packing_houses"`
	FreePlots     int             `json:"members_plots_free"`
	// FreePlotIDs are those plots (the first 5,000), FreeBBox where they lie, for the map.
	FreePlotIDs []int64   `json:"members_plots_free_ids"`
	FreeBBox    []float64 `json:"members_plots_free_bbox"`
}

// WorkQueueService answers the work queues: an officer's inbox and a registrant's page.
type WorkQueueService interface {
	Inbox(ctx context.Context, season string) (*Inbox, error)
	Organisation(ctx context.Context, season string) (*Organisation, error)
	MissingReports(ctx context.Context, season string) ([]MissingReport, error)
}

// DossierPlot is a plot of a growing area as the dossier lists it.
type DossierPlot struct {
	ID          int64      `json:"id"`
	Household   string     `json:"household"`
	Commune     string     `json:"commune"`
	Crop        string     `json:"crop"`
	Variety     string     `json:"variety"`
	AreaHa      float64    `json:"area_ha"`
	PlantedYear *int       `json:"planted_year"`
	KML         string     `json:"-"` // the plot's geometry as KML
	Centroid    [2]float64 `json:"centroid"`
}

// AreaDossier is what the official dossier asks for, from the registry itself: the area, its
// registrant and its plots with their households.
type AreaDossier struct {
	ID           int64         `json:"id"`
	Name         string        `json:"name"`
	Registrant   Ref           `json:"registrant"`
	ProvinceCode string        `json:"province_code"`
	Province     string        `json:"province"`
	Commune      string        `json:"commune"`
	Crops        []string      `json:"crops"`
	AreaHa       float64       `json:"area_ha"`
	Households   int           `json:"households"`
	Plots        []DossierPlot `json:"plots"`
}

// DecisionPage is a code's decision as its print-ready page shows it.
type DecisionPage struct {
	Code          CodeRef
	Kind          string // OR or PH
	ApplicationID *int64
	DecidedAt     *time.Time
	Area          *AreaDossier
	House         *Ref
	HouseAddress  string
	Province      string
}

// DossierService answers the dossier and the decision's page (the registrant, officers of the
// province and admins).
type DossierService interface {
	AreaDossier(ctx context.Context, id int64) (*AreaDossier, error)
	DecisionPage(ctx context.Context, code string) (*DecisionPage, error)
}
