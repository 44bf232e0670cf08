package epcis

import (
	"crypto/sha1"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Errors of Build.
var (
	// ErrBase: the base is not an absolute http(s) URL.
	ErrBase = errors.New("epcis: the base must be an absolute http or https URL")
	// ErrNoLots: a consignment's story needs its lots.
	ErrNoLots = errors.New("epcis: the consignment carries no lot")
	// ErrStory: a field the events need is missing.
	ErrStory = errors.New("epcis: incomplete story")
)

// Story is what the registry knows of a consignment and of the lots it carries, in plain
// values: the input of Build. It holds no person's name or number.
type Story struct {
	Consignment Consignment
	// Lots are the lots the consignment carries, each with how much of it.
	Lots []Lot
}

// Consignment is a consignment (lô hàng xuất khẩu) as its events tell it.
type Consignment struct {
	// PublicCode names it ("C-4HX8W2QP").
	PublicCode string
	// Market is the importing market (ISO 3166-1 alpha-2, "EU" for the Union).
	Market string
	// NetKg is the net weight declared.
	NetKg float64
	// ContainerNo, DeclarationNo and Destination are as recorded (each may be empty).
	ContainerNo, DeclarationNo, Destination string
	// ShippedOn is the day it was shipped (nil: not recorded; its recording stands in).
	ShippedOn *time.Time
	// CreatedAt is when it was recorded.
	CreatedAt time.Time
	// PackingHouse packed it, under its code for the market (if it holds one).
	PackingHouse House
	// Exporter owns it; nil when the registry knows no enterprise for it.
	Exporter *Party
}

// House is a packing house (cơ sở đóng gói) and its code for a market.
type House struct {
	ID   int64
	Name string
	// Code is its code for the market ("VN-DLPH-0012"); empty when it holds none.
	Code string
}

// Party is an enterprise: its id in the registry and its public name.
type Party struct {
	ID   int64
	Name string
}

// Lot is a harvest lot (lô hàng thu hoạch) of a consignment.
type Lot struct {
	// PublicCode names it ("L-7KQ2M9XA").
	PublicCode string
	// Crop is the crop's code ("durian"), HSHeading its HS heading ("0810", may be empty).
	Crop, HSHeading string
	// Season is the year the harvest's season starts in.
	Season int
	// HarvestedFrom and HarvestedTo are the harvest's first and last days.
	HarvestedFrom, HarvestedTo time.Time
	// QuantityKg is what was harvested; ShippedKg what this consignment carries of it.
	QuantityKg, ShippedKg float64
	// Code is the growing area's code the lot is declared under, Market that code's market.
	Code, Market string
	// GrowingAreaID, GrowingAreaName and ProvinceCode say where it was harvested.
	GrowingAreaID   int64
	GrowingAreaName string
	ProvinceCode    string
	// Plots is how many plots it was harvested from.
	Plots int
	// CreatedAt is when it was recorded.
	CreatedAt time.Time
	// Received, when set, is its receipt at a packing house.
	Received *Receipt
}

// Receipt is a lot's arrival at a packing house.
type Receipt struct {
	At    time.Time
	Kg    float64
	House House
}

// Options are what Build needs beside the story.
type Options struct {
	// Base is the registry's public address ("https://vungtrong.example.vn", with an optional
	// path): the base of every identifier.
	Base string
	// Created is the document's creationDate (zero: now).
	Created time.Time
}

// Build returns the consignment's story as an EPCIS document: per lot its commissioning and
// (when recorded) its receiving, then the packing and the shipping, in time order. Returns
// ErrBase, ErrNoLots or ErrStory.
func Build(s *Story, o Options) (*Document, error) {
	base, err := normalizeBase(o.Base)
	if err != nil {
		return nil, err
	}
	if len(s.Lots) == 0 {
		return nil, ErrNoLots
	}
	c := s.Consignment
	if c.PublicCode == "" || c.Market == "" || c.CreatedAt.IsZero() {
		return nil, fmt.Errorf("%w: the consignment needs its public code, market and recording time", ErrStory)
	}
	for i, l := range s.Lots {
		if l.PublicCode == "" || l.Code == "" || l.HarvestedTo.IsZero() {
			return nil, fmt.Errorf("%w: lot %d needs its public code, code and harvest days", ErrStory, i)
		}
	}
	id := ids{base: base}
	created := o.Created
	if created.IsZero() {
		created = time.Now()
	}
	doc := &Document{
		Context:       []any{ContextURL, map[string]string{Prefix: id.vocabulary()}},
		Type:          "EPCISDocument",
		SchemaVersion: SchemaVersion,
		CreationDate:  local(created),
	}
	// Causal order breaks ties between events at the same moment (days without hours).
	type timed struct {
		e     Event
		order int
	}
	var events []timed
	add := func(e Event) { events = append(events, timed{e, len(events)}) }

	// The registry knows the day a consignment was shipped, not the hour: the start of that
	// day, or the last receipt of a lot that day when there was one. Packing is when the
	// consignment was recorded, unless it was shipped before.
	shipped := local(c.CreatedAt)
	if c.ShippedOn != nil {
		shipped = onDay(*c.ShippedOn, time.Time{})
		for _, l := range s.Lots {
			if l.Received != nil {
				if at := onDay(*c.ShippedOn, l.Received.At); at.After(shipped) {
					shipped = at
				}
			}
		}
	}
	packed := local(c.CreatedAt)
	if shipped.Before(packed) {
		packed = shipped
	}

	carried := make([]Quantity, len(s.Lots))
	for i, l := range s.Lots {
		lot := id.traced(l.PublicCode)
		area := id.code(l.Code)
		carried[i] = Quantity{EPCClass: lot, Quantity: l.ShippedKg, UOM: UnitKg}
		commissioning := Event{
			Type: ObjectEvent, EventID: id.event(lot, StepCommissioning), EventTime: onDay(l.HarvestedTo, time.Time{}),
			EventTimeZoneOffset: TimeZoneOffset, QuantityList: []Quantity{{EPCClass: lot, Quantity: l.QuantityKg, UOM: UnitKg}},
			Action: ActionAdd, BizStep: StepCommissioning, Disposition: DispositionActive,
			ReadPoint: &Place{ID: area}, BizLocation: &Place{ID: area}, ILMD: masterData(l),
		}
		if !l.CreatedAt.IsZero() {
			recorded := local(l.CreatedAt)
			commissioning.RecordTime = &recorded
		}
		add(commissioning)
		if r := l.Received; r != nil {
			// The registry records a receipt when the packing house reports it (recordTime); a
			// report that came after the packing happened no later than the packing.
			house := id.house(r.House)
			recorded := local(r.At)
			at := recorded
			if packed.Before(at) {
				at = packed
			}
			add(Event{
				Type: ObjectEvent, EventID: id.event(lot, StepReceiving), EventTime: at, RecordTime: &recorded, EventTimeZoneOffset: TimeZoneOffset,
				QuantityList: []Quantity{{EPCClass: lot, Quantity: r.Kg, UOM: UnitKg}},
				Action:       ActionObserve, BizStep: StepReceiving, Disposition: DispositionInProgress,
				ReadPoint: &Place{ID: house}, BizLocation: &Place{ID: house},
				SourceList:      []Source{{Type: SourceLocation, Source: area}},
				DestinationList: []Destination{{Type: SourceLocation, Destination: house}},
				Extensions:      houseFields(r.House),
			})
		}
	}

	consignment := id.traced(c.PublicCode)
	house := id.house(c.PackingHouse)
	add(Event{
		Type: AggregationEvent, EventID: id.event(consignment, StepPacking), EventTime: packed, EventTimeZoneOffset: TimeZoneOffset,
		ParentID: consignment, ChildQuantityList: carried,
		Action: ActionAdd, BizStep: StepPacking, Disposition: DispositionInProgress,
		ReadPoint: &Place{ID: house}, BizLocation: &Place{ID: house},
		Extensions: houseFields(c.PackingHouse),
	})

	shipping := Event{
		Type: ObjectEvent, EventID: id.event(consignment, StepShipping), EventTime: shipped, EventTimeZoneOffset: TimeZoneOffset,
		EPCList: []string{consignment}, QuantityList: slices.Clone(carried),
		Action: ActionObserve, BizStep: StepShipping, Disposition: DispositionInTransit,
		ReadPoint:       &Place{ID: house},
		DestinationList: []Destination{{Type: SourceLocation, Destination: id.market(c.Market)}},
		Extensions:      map[string]any{Prefix + ":market": c.Market, Prefix + ":netWeightKg": c.NetKg},
	}
	if c.Exporter != nil {
		shipping.SourceList = append(shipping.SourceList, Source{Type: SourceOwningParty, Source: id.party(c.Exporter.ID)})
		if c.Exporter.Name != "" {
			shipping.Extensions[Prefix+":exporterName"] = c.Exporter.Name
		}
	}
	shipping.SourceList = append(shipping.SourceList, Source{Type: SourceLocation, Source: house})
	if no := containerNumber(c.ContainerNo); no != "" {
		shipping.BizTransactionList = append(shipping.BizTransactionList, BizTransaction{Type: Prefix + ":container", BizTransaction: id.paper("container", no)})
	}
	if no := strings.TrimSpace(c.DeclarationNo); no != "" {
		shipping.BizTransactionList = append(shipping.BizTransactionList, BizTransaction{Type: Prefix + ":customsDeclaration", BizTransaction: id.paper("declaration", no)})
	}
	if d := strings.TrimSpace(c.Destination); d != "" {
		shipping.Extensions[Prefix+":destination"] = d
	}
	add(shipping)

	slices.SortStableFunc(events, func(a, b timed) int {
		if c := a.e.EventTime.Compare(b.e.EventTime); c != 0 {
			return c
		}
		return a.order - b.order
	})
	doc.Body.EventList = make([]Event, len(events))
	for i, t := range events {
		doc.Body.EventList[i] = t.e
	}
	return doc, nil
}

// masterData is a lot's ilmd: the CBV's lot master data where it has a field for it, the
// registry's vocabulary for the rest.
func masterData(l Lot) map[string]any {
	from := l.HarvestedFrom
	if from.IsZero() {
		from = l.HarvestedTo
	}
	m := map[string]any{
		"cbvmda:lotNumber":          l.PublicCode,
		"cbvmda:countryOfOrigin":    "VN",
		"cbvmda:harvestStartDate":   day(from),
		"cbvmda:harvestEndDate":     day(l.HarvestedTo),
		Prefix + ":crop":            l.Crop,
		Prefix + ":season":          l.Season,
		Prefix + ":growingAreaCode": l.Code,
		Prefix + ":market":          l.Market,
		Prefix + ":plotCount":       l.Plots,
	}
	if l.HSHeading != "" {
		m[Prefix+":hsHeading"] = l.HSHeading
	}
	if l.GrowingAreaName != "" {
		m[Prefix+":growingAreaName"] = l.GrowingAreaName
	}
	if l.ProvinceCode != "" {
		m[Prefix+":provinceCode"] = l.ProvinceCode
	}
	return m
}

// houseFields are the extension fields naming a packing house.
func houseFields(h House) map[string]any {
	m := map[string]any{}
	if h.Name != "" {
		m[Prefix+":packingHouseName"] = h.Name
	}
	if h.Code != "" {
		m[Prefix+":packingHouseCode"] = h.Code
	}
	return m
}

// containerNumber writes a container number as ISO 6346 does: letters and digits, upper case
// ("TGHU 123456-7" is TGHU1234567).
func containerNumber(s string) string {
	var b strings.Builder
	for _, r := range strings.ToUpper(s) {
		if (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// local is t in Vietnam's time, to the millisecond.
func local(t time.Time) time.Time { return t.Truncate(time.Millisecond).In(vietnam) }

// onDay is the start of a calendar day in Vietnam (the day's year, month and day, whatever its
// zone), or notBefore when that falls later the same day.
func onDay(d, notBefore time.Time) time.Time {
	start := time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, vietnam)
	if nb := local(notBefore); nb.After(start) && nb.Before(start.AddDate(0, 0, 1)) {
		return nb
	}
	return start
}

// day writes a calendar day as YYYY-MM-DD.
func day(d time.Time) string { return d.Format(time.DateOnly) }

func normalizeBase(s string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return "", ErrBase
	}
	return strings.TrimSuffix(u.Scheme+"://"+u.Host+u.EscapedPath(), "/"), nil
}

// ids makes the identifiers of a document (see the package's comment).
type ids struct{ base string }

// traced names a lot or a consignment by its public code.
func (i ids) traced(publicCode string) string { return i.base + "/t/" + url.PathEscape(publicCode) }
func (i ids) code(code string) string         { return i.base + "/v/" + url.PathEscape(code) }
func (i ids) market(m string) string          { return i.base + "/m/" + url.PathEscape(m) }
func (i ids) party(id int64) string           { return i.base + "/org/" + strconv.FormatInt(id, 10) }
func (i ids) vocabulary() string              { return i.base + "/voc/" }

func (i ids) paper(kind, number string) string {
	return i.base + "/bt/" + kind + "/" + url.PathEscape(number)
}

func (i ids) house(h House) string {
	if h.Code != "" {
		return i.code(h.Code)
	}
	return i.base + "/ph/" + strconv.FormatInt(h.ID, 10)
}

// event is the id of the step of an object's story: a name-based UUID (RFC 9562 version 5, in
// the URL namespace), the same in every export.
func (ids) event(object, step string) string {
	// The URL namespace, 6ba7b811-9dad-11d1-80b4-00c04fd430c8.
	ns := []byte{0x6b, 0xa7, 0xb8, 0x11, 0x9d, 0xad, 0x11, 0xd1, 0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30, 0xc8}
	h := sha1.New()
	h.Write(ns)
	h.Write([]byte(object + "#" + step))
	u := h.Sum(nil)[:16]
	u[6] = u[6]&0x0f | 0x50
	u[8] = u[8]&0x3f | 0x80
	return fmt.Sprintf("urn:uuid:%x-%x-%x-%x-%x", u[0:4], u[4:6], u[6:8], u[8:10], u[10:16])
}
