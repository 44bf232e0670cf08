package registry

import (
	"context"
	"reflect"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/vungtrong/vungtrong/vntext"
)

// Producer kinds.
const (
	ProducerHousehold   = "household"   // nông hộ
	ProducerCooperative = "cooperative" // hợp tác xã (HTX)
	ProducerEnterprise  = "enterprise"  // doanh nghiệp
)

// Producer is a household, cooperative or enterprise that farms plots or runs a facility.
// Fields tagged personal hold personal data when the producer is a household.
type Producer struct {
	ID            int64
	Kind          string
	Name          string `personal:"household"`
	CitizenID     string `personal:"true"` // CCCD, 12 digits
	TaxCode       string `personal:"household"`
	Phone         string `personal:"true"` // E.164, +84...
	Address       string `personal:"household"`
	CooperativeID *int64
	ProvinceCode  string
	CommuneCode   string
	Source        string
	ExternalID    string
	Version       int
	CreatedAt     time.Time
	UpdatedAt     time.Time
	CreatedBy     string
	UpdatedBy     string
}

// ProducerFilter selects producers for FindProducers. Zero fields do not filter.
type ProducerFilter struct {
	Kind          string
	ProvinceCode  string
	CommuneCode   string
	CooperativeID int64
	// Q finds producers by name (compared without diacritics, anywhere in the name), citizen ID
	// or phone number; the personal ones only among the producers whose personal data the
	// caller may see: for anyone else it finds cooperatives and enterprises by name.
	Q     string
	After int64
	Limit int
}

// ProducerPage is one page of producers and the cursor of the next (0 when last).
type ProducerPage struct {
	Producers []*Producer
	Next      int64
}

// ProducerService stores producers, with an audit record for every write.
type ProducerService interface {
	// FindProducerByID returns a live producer. Returns ENOTFOUND.
	FindProducerByID(ctx context.Context, id int64) (*Producer, error)
	// FindProducers returns one page of live producers in id order.
	FindProducers(ctx context.Context, f ProducerFilter) (*ProducerPage, error)
	// CreateProducer validates and stores p. Returns EINVALID or ECONFLICT (citizen ID taken).
	CreateProducer(ctx context.Context, p *Producer) error
	// UpdateProducer replaces producer p.ID if its version is ifVersion. Returns ENOTFOUND,
	// EPRECONDITION, EINVALID or ECONFLICT.
	UpdateProducer(ctx context.Context, p *Producer, ifVersion int) error
	// DeleteProducer marks the producer deleted if its version is ifVersion. Returns
	// ENOTFOUND, EPRECONDITION or ECONFLICT (it still has plots).
	DeleteProducer(ctx context.Context, id int64, ifVersion int) error
}

var (
	citizenIDRE = regexp.MustCompile(`^[0-9]{12}$`)
	taxCodeRE   = regexp.MustCompile(`^[0-9]{10}(-[0-9]{3})?$`)
	phoneRE     = regexp.MustCompile(`^\+84[0-9]{9,10}$`)
)

// Normalize cleans the text fields (NFC, single spaces) and writes the phone number in E.164
// (+84...), accepting the national form 09x..., spaces, dots and dashes.
func (p *Producer) Normalize() {
	for _, s := range []*string{&p.Kind, &p.Name, &p.CitizenID, &p.TaxCode, &p.Address, &p.ProvinceCode, &p.CommuneCode, &p.Source, &p.ExternalID} {
		*s = vntext.Clean(*s)
	}
	p.Kind = strings.ToLower(p.Kind)
	p.Phone = NormalizePhone(p.Phone)
}

// NormalizePhone returns a Vietnamese phone number in E.164 form: "0912 345 678" and
// "+84 912-345-678" become "+84912345678". Input it cannot read is returned cleaned, for
// Validate to refuse.
func NormalizePhone(s string) string {
	var b strings.Builder
	for i, r := range strings.TrimSpace(s) {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == '+' && i == 0:
			b.WriteRune(r)
		case r == ' ' || r == '.' || r == '-' || r == '(' || r == ')':
		default:
			return vntext.Clean(s)
		}
	}
	d := b.String()
	switch {
	case strings.HasPrefix(d, "+84"):
		return d
	case strings.HasPrefix(d, "84") && len(d) >= 11:
		return "+" + d
	case strings.HasPrefix(d, "0") && len(d) >= 10:
		return "+84" + d[1:]
	}
	return d
}

// Validate checks the producer. It returns an EINVALID *Error listing every problem.
func (p *Producer) Validate() error {
	var details []Detail
	bad := func(field, msg string) { details = append(details, Detail{Field: field, Message: msg}) }
	switch p.Kind {
	case ProducerHousehold, ProducerCooperative, ProducerEnterprise:
	case "":
		bad("kind", "kind is required: household, cooperative or enterprise")
	default:
		bad("kind", "kind must be household, cooperative or enterprise, not "+quote(p.Kind))
	}
	if p.Name == "" {
		bad("name", "name is required")
	} else if utf8.RuneCountInString(p.Name) > 200 {
		bad("name", "name is longer than 200 characters")
	}
	if p.CitizenID != "" && !citizenIDRE.MatchString(p.CitizenID) {
		bad("citizen_id", "citizen_id must be the 12 digits of a CCCD")
	}
	if p.TaxCode != "" && !taxCodeRE.MatchString(p.TaxCode) {
		bad("tax_code", "tax_code must be 10 digits, or 10 digits, a dash and 3 digits for a branch")
	}
	if p.Phone != "" && !phoneRE.MatchString(p.Phone) {
		bad("phone", "phone must be a Vietnamese number such as 0912345678 or +84912345678")
	}
	if p.CitizenID != "" && p.Kind != ProducerHousehold {
		bad("citizen_id", "only a household has a citizen ID; a cooperative or enterprise has a tax_code")
	}
	if p.ProvinceCode != "" && !provinceCodeRE.MatchString(p.ProvinceCode) {
		bad("province_code", "province_code must be the 2-digit GSO code, e.g. \"66\"")
	}
	if p.CommuneCode != "" && !communeCodeRE.MatchString(p.CommuneCode) {
		bad("commune_code", "commune_code must be the 5-digit GSO code, e.g. \"24280\"")
	}
	if utf8.RuneCountInString(p.Address) > 300 {
		bad("address", "address is longer than 300 characters")
	}
	if len(details) > 0 {
		return Invalid(details)
	}
	return nil
}

// Public returns a copy of the producer without its personal data: what anyone may see.
// A household keeps only its kind, place and id; a cooperative or enterprise keeps its name,
// address and tax code (public business records) but not a contact person's phone.
func (p *Producer) Public() *Producer {
	q := *p
	v := reflect.ValueOf(&q).Elem()
	t := v.Type()
	for i := range t.NumField() {
		switch t.Field(i).Tag.Get("personal") {
		case "true":
			v.Field(i).SetZero()
		case "household":
			if p.Kind == ProducerHousehold {
				v.Field(i).SetZero()
			}
		}
	}
	return &q
}

func quote(s string) string { return "\"" + s + "\"" }
