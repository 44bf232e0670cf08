// Package epcis writes the story of a consignment as a GS1 EPCIS 2.0 document in JSON-LD: per
// harvest lot its commissioning (the harvest, with the lot's master data in ilmd) and its
// receiving at the packing house, then the packing of the lots into the consignment (an
// AggregationEvent) and its shipping. It is pure Go: the registry's store reads the story into
// plain values (Story) and Build turns them into a Document.
//
// The registry has no GS1 company prefix, so it names things with HTTP URIs under its public
// address, as EPCIS 2.0 allows for identifiers outside GS1's keys (base is that address):
//
//	{base}/t/L-7KQ2M9XA          a harvest lot: a class, counted in kilograms (epcClass)
//	{base}/t/C-4HX8W2QP          a consignment: an instance, the parent of its lots (parentID)
//	{base}/v/VN-DLOR-0321        a growing area or packing house, by its code for the market
//	{base}/ph/12                 a packing house that holds no code for the market
//	{base}/org/5                 the exporter (an enterprise), by its id in the registry
//	{base}/m/CN                  the market a consignment is shipped to
//	{base}/bt/container/TGHU1234567, {base}/bt/declaration/{number}   a consignment's papers
//	{base}/voc/                  the registry's vocabulary, prefix "vt" in the document's @context
//
// Event ids are name-based UUIDs (version 5) of the object and the step, so that a lot's
// commissioning has the same eventID in every consignment's export.
//
// Nothing in a document names a person: growing areas, packing houses and exporters are named,
// households never are.
package epcis

import (
	"bytes"
	"encoding/json"
	"slices"
	"time"
)

// ContextURL is the JSON-LD context of EPCIS 2.0, as GS1 publishes it.
const ContextURL = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"

// SchemaVersion is the EPCIS version of the documents this package writes.
const SchemaVersion = "2.0"

// Prefix is the compact-IRI prefix of the registry's vocabulary (extension fields, ilmd).
const Prefix = "vt"

// UnitKg is the UN/CEFACT unit code of a kilogram, the unit of every quantity.
const UnitKg = "KGM"

// TimeZoneOffset is Vietnam's offset from UTC (no daylight saving), every event's
// eventTimeZoneOffset.
const TimeZoneOffset = "+07:00"

// vietnam is the zone events are written in.
var vietnam = time.FixedZone("ICT", 7*3600)

// Event types, actions, business steps and dispositions of the Core Business Vocabulary that
// the documents use.
const (
	ObjectEvent      = "ObjectEvent"
	AggregationEvent = "AggregationEvent"

	ActionAdd     = "ADD"
	ActionObserve = "OBSERVE"

	StepCommissioning = "commissioning"
	StepReceiving     = "receiving"
	StepPacking       = "packing"
	StepShipping      = "shipping"

	DispositionActive     = "active"
	DispositionInProgress = "in_progress"
	DispositionInTransit  = "in_transit"

	// SourceOwningParty and SourceLocation are the CBV's source and destination types.
	SourceOwningParty = "owning_party"
	SourceLocation    = "location"
)

// Document is an EPCISDocument.
type Document struct {
	// Context is the GS1 context URL and the registry's own prefix.
	Context       []any     `json:"@context"`
	Type          string    `json:"type"`
	SchemaVersion string    `json:"schemaVersion"`
	CreationDate  time.Time `json:"creationDate"`
	Body          Body      `json:"epcisBody"`
}

// Body holds a document's events.
type Body struct {
	EventList []Event `json:"eventList"`
}

// Event is an ObjectEvent or an AggregationEvent: the fields of both, of which each type uses
// its own (empty ones are left out).
type Event struct {
	Type                string     `json:"type"`
	EventID             string     `json:"eventID"`
	EventTime           time.Time  `json:"eventTime"`
	RecordTime          *time.Time `json:"recordTime,omitempty"`
	EventTimeZoneOffset string     `json:"eventTimeZoneOffset"`
	// EPCList names instances (an ObjectEvent's); ParentID and ChildQuantityList are an
	// AggregationEvent's.
	EPCList           []string   `json:"epcList,omitempty"`
	ParentID          string     `json:"parentID,omitempty"`
	ChildQuantityList []Quantity `json:"childQuantityList,omitempty"`
	// QuantityList names classes and how much of each (an ObjectEvent's).
	QuantityList       []Quantity       `json:"quantityList,omitempty"`
	Action             string           `json:"action"`
	BizStep            string           `json:"bizStep,omitempty"`
	Disposition        string           `json:"disposition,omitempty"`
	ReadPoint          *Place           `json:"readPoint,omitempty"`
	BizLocation        *Place           `json:"bizLocation,omitempty"`
	BizTransactionList []BizTransaction `json:"bizTransactionList,omitempty"`
	SourceList         []Source         `json:"sourceList,omitempty"`
	DestinationList    []Destination    `json:"destinationList,omitempty"`
	// ILMD is the instance/lot master data a commissioning gives: keys are compact IRIs
	// ("cbvmda:lotNumber", "vt:crop").
	ILMD map[string]any `json:"ilmd,omitempty"`
	// Extensions are the registry's own fields of the event, written beside the standard ones;
	// keys are compact IRIs ("vt:market").
	Extensions map[string]any `json:"-"`
}

// MarshalJSON writes the event's fields and then its extensions, in the order of their keys.
func (e Event) MarshalJSON() ([]byte, error) {
	type plain Event
	b, err := json.Marshal(plain(e))
	if err != nil || len(e.Extensions) == 0 {
		return b, err
	}
	var buf bytes.Buffer
	buf.Write(b[:len(b)-1])
	keys := make([]string, 0, len(e.Extensions))
	for k := range e.Extensions {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		kb, _ := json.Marshal(k)
		vb, err := json.Marshal(e.Extensions[k])
		if err != nil {
			return nil, err
		}
		buf.WriteByte(',')
		buf.Write(kb)
		buf.WriteByte(':')
		buf.Write(vb)
	}
	buf.WriteByte('}')
	return buf.Bytes(), nil
}

// Quantity is an amount of a class: kilograms of a lot.
type Quantity struct {
	EPCClass string  `json:"epcClass"`
	Quantity float64 `json:"quantity"`
	UOM      string  `json:"uom"`
}

// Place is a read point or business location.
type Place struct {
	ID string `json:"id"`
}

// BizTransaction is a business document an event refers to.
type BizTransaction struct {
	Type           string `json:"type"`
	BizTransaction string `json:"bizTransaction"`
}

// Source is where or from whom objects come; Destination where or to whom they go.
type Source struct {
	Type   string `json:"type"`
	Source string `json:"source"`
}

// Destination is where or to whom objects go.
type Destination struct {
	Type        string `json:"type"`
	Destination string `json:"destination"`
}
