package eudr

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
)

// The content of a due diligence statement (DDS) as the EU Information System's API takes it
// (the EUDR "API for operators" submission service, in its JSON form): the activity, and per
// commodity its HS heading, description, net mass and producers, each with the geolocation of
// its plots as a base64-encoded GeoJSON FeatureCollection.

// Activity types of a statement.
const (
	ActivityImport   = "IMPORT"
	ActivityExport   = "EXPORT"
	ActivityDomestic = "DOMESTIC"
	ActivityTrade    = "TRADE"
)

// Activities lists the activity types the API takes.
var Activities = []string{ActivityImport, ActivityExport, ActivityDomestic, ActivityTrade}

// Statement is one due diligence statement, as submitted.
type Statement struct {
	// OperatorType is OPERATOR (or TRADER, REPRESENTATIVE_OPERATOR...).
	OperatorType string `json:"operatorType,omitempty"`
	Statement    DDS    `json:"statement"`
}

// DDS is the statement's body.
type DDS struct {
	InternalReferenceNumber string `json:"internalReferenceNumber,omitempty"`
	ActivityType            string `json:"activityType"`
	// CountryOfActivity is the member state where the goods are placed on the market (for an
	// import); BorderCrossCountry where they enter the Union.
	CountryOfActivity       string      `json:"countryOfActivity,omitempty"`
	BorderCrossCountry      string      `json:"borderCrossCountry,omitempty"`
	Comment                 string      `json:"comment,omitempty"`
	GeoLocationConfidential bool        `json:"geoLocationConfidential"`
	Commodities             []Commodity `json:"commodities"`
}

// Commodity is one commodity of a statement.
type Commodity struct {
	Descriptors Descriptors `json:"descriptors"`
	HSHeading   string      `json:"hsHeading,omitempty"`
	Producers   []Producer  `json:"producers"`
}

// Descriptors describe the goods.
type Descriptors struct {
	DescriptionOfGoods string       `json:"descriptionOfGoods"`
	GoodsMeasure       GoodsMeasure `json:"goodsMeasure"`
}

// GoodsMeasure is how much: the net mass in kilograms.
type GoodsMeasure struct {
	NetWeight *float64 `json:"netWeight,omitempty"`
}

// Producer is one producer of a commodity, with the geolocation of its plots.
type Producer struct {
	Country string `json:"country"`
	// Name is empty when the exporting user may not see it.
	Name string `json:"name,omitempty"`
	// GeometryGeojson is the producer's plots as a GeoJSON FeatureCollection; the API takes it
	// base64-encoded.
	GeometryGeojson GeoJSON `json:"geometryGeojson"`
}

// GeoJSON is GeoJSON text held in pieces (slices of a larger file), so that a statement need
// not copy its plots' geometry. It marshals as a base64 string.
type GeoJSON [][]byte

// Bytes returns the text in one piece.
func (g GeoJSON) Bytes() []byte { return bytes.Join(g, nil) }

// WriteTo writes the text.
func (g GeoJSON) WriteTo(w io.Writer) (int64, error) {
	var n int64
	for _, p := range g {
		k, err := w.Write(p)
		n += int64(k)
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// MarshalJSON writes the text base64-encoded, as the API takes it.
func (g GeoJSON) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('"')
	enc := base64.NewEncoder(base64.StdEncoding, &b)
	if _, err := g.WriteTo(enc); err != nil {
		return nil, err
	}
	enc.Close()
	b.WriteByte('"')
	return b.Bytes(), nil
}

// UnmarshalJSON reads the base64 string.
func (g *GeoJSON) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	raw, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return fmt.Errorf("eudr: geometryGeojson is not base64: %w", err)
	}
	*g = GeoJSON{raw}
	return nil
}

// MarshalJSON writes the statement as WriteJSON does.
func (s *Statement) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	if err := s.WriteJSON(&b); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// WriteJSON writes the statement as JSON to w, streaming each producer's geolocation through a
// base64 encoder: a statement with 25 MB of geometry never sits whole in memory twice.
func (s *Statement) WriteJSON(w io.Writer) error {
	head, err := json.Marshal(struct {
		OperatorType string `json:"operatorType,omitempty"`
	}{s.OperatorType})
	if err != nil {
		return err
	}
	return s.writeBody(w, head[:len(head)-1])
}

// writeBody writes the whole statement after head (the outer object without its closing
// brace). Each object is marshalled by encoding/json with its list left empty, and the list is
// then written in its place.
func (s *Statement) writeBody(w io.Writer, head []byte) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	bw.Write(head)
	if len(head) > 1 {
		bw.WriteByte(',')
	}
	bw.WriteString(`"statement":`)
	body := s.Statement
	body.Commodities = nil
	b, err := json.Marshal(body)
	if err != nil {
		return err
	}
	// b ends with `"commodities":null}`: replace the null with the list.
	const tail = `"commodities":null}`
	if !bytes.HasSuffix(b, []byte(tail)) {
		return fmt.Errorf("eudr: statement JSON does not end with its commodities")
	}
	bw.Write(b[:len(b)-len(tail)])
	bw.WriteString(`"commodities":[`)
	for i, c := range s.Statement.Commodities {
		if i > 0 {
			bw.WriteByte(',')
		}
		head := c
		head.Producers = nil
		hb, err := json.Marshal(head)
		if err != nil {
			return err
		}
		const ptail = `"producers":null}`
		if !bytes.HasSuffix(hb, []byte(ptail)) {
			return fmt.Errorf("eudr: commodity JSON does not end with its producers")
		}
		bw.Write(hb[:len(hb)-len(ptail)])
		bw.WriteString(`"producers":[`)
		for k, p := range c.Producers {
			if k > 0 {
				bw.WriteByte(',')
			}
			pb, err := json.Marshal(struct {
				Country string `json:"country"`
				Name    string `json:"name,omitempty"`
			}{p.Country, p.Name})
			if err != nil {
				return err
			}
			bw.Write(pb[:len(pb)-1])
			bw.WriteString(`,"geometryGeojson":"`)
			enc := base64.NewEncoder(base64.StdEncoding, bw)
			if _, err := p.GeometryGeojson.WriteTo(enc); err != nil {
				return err
			}
			enc.Close()
			bw.WriteString(`"}`)
		}
		bw.WriteString("]}")
	}
	bw.WriteString("]}}\n")
	return bw.Flush()
}

// DDSSubmitter submits due diligence statements: a client of the EU Information System
// (TRACES) will implement it; today FileSubmitter writes them to files.
type DDSSubmitter interface {
	// Submit submits one statement and returns its reference (the EU system's, or where it was
	// written).
	Submit(ctx context.Context, s *Statement) (reference string, err error)
}

// FileSubmitter "submits" statements by writing each as JSON to a file it creates: the
// statement's reference is the file's name.
type FileSubmitter struct {
	// Create opens the file named name (an entry of a zip, a file on disk); it is not closed
	// by the submitter.
	Create func(name string) (io.Writer, error)
	// Name names a statement's file; nil names it after its internal reference number.
	Name func(s *Statement) string
}

var _ DDSSubmitter = (*FileSubmitter)(nil)

// Submit implements DDSSubmitter.
func (f *FileSubmitter) Submit(ctx context.Context, s *Statement) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	name := "dds.json"
	if f.Name != nil {
		name = f.Name(s)
	} else if s.Statement.InternalReferenceNumber != "" {
		name = s.Statement.InternalReferenceNumber + ".json"
	}
	w, err := f.Create(name)
	if err != nil {
		return "", err
	}
	if err := s.WriteJSON(w); err != nil {
		return "", err
	}
	return name, nil
}
