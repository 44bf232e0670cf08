// Package importers reads untrusted survey files: each format's decoder (in its own folder)
// streams Features and says what is wrong with a feature, or with the file, in words a person
// can act on. This package holds what the decoders share: the Feature, the limits every decoder
// enforces, safe zip reading, and recognition of coordinate systems from .prj files.
package importers

import (
	"errors"
	"fmt"
	"io"

	"github.com/paulmach/orb"
)

// Feature is one record of a file.
type Feature struct {
	// N is the 1-based number of the feature (or data row) in the file.
	N int
	// ID is the file's own id of the feature (a GeoJSON id, a KML Placemark id), if any.
	ID string
	// Geometry is in the file's coordinate system; nil when the record has none.
	Geometry orb.Geometry
	// Props are the feature's attributes in file order, as NFC text.
	Props []Prop
	// Problems are what is wrong with this feature; the file can still be read on.
	Problems []Problem
}

// Prop is one attribute.
type Prop struct {
	Name, Value string
}

// Problem is one thing wrong with a feature: its number, the field, and what is wrong.
type Problem struct {
	Feature int
	Field   string
	Message string
}

func (p *Problem) Error() string {
	if p.Field != "" {
		return fmt.Sprintf("feature %d, %s: %s", p.Feature, p.Field, p.Message)
	}
	return fmt.Sprintf("feature %d: %s", p.Feature, p.Message)
}

// Decoder streams a file's features. Next returns io.EOF after the last; any other error means
// the file cannot be read on (truncated, not the format it claims).
type Decoder interface {
	Next() (*Feature, error)
	// Info describes the file as far as it has been read.
	Info() Info
}

// Info describes a file.
type Info struct {
	Format string
	// CRS is the coordinate system the file declares (a .prj, a GeoJSON crs member); zero
	// SRID when it declares none.
	CRS CRS
	// Encoding is how the text was read, with the detector's confidence.
	Encoding string
	// Layer names the layer or document inside the file, when it has one.
	Layer string
}

// CRS is a recognised coordinate system.
type CRS struct {
	SRID int
	// Name says what it is, for reports: "VN-2000 / TM-3 108°30'".
	Name string
	// From says where it came from: ".prj", "crs member", "--srs", "--province 66", "default".
	From string
	// Projected is true when coordinates are metres, not degrees.
	Projected bool
}

// Limits bound what a decoder accepts from an untrusted file.
type Limits struct {
	// MaxFeatures and MaxVertices bound the whole file.
	MaxFeatures int
	MaxVertices int
	// MaxFeatureVertices bounds one feature.
	MaxFeatureVertices int
	// Zip archives (KMZ, zipped Shapefiles): entries, total inflated size, and the inflated
	// size over the compressed size of any entry.
	MaxZipEntries   int
	MaxUnzippedSize int64
	MaxZipRatio     float64
	// MaxTextBytes bounds one XML text node, attribute or CSV field.
	MaxTextBytes int
}

// DefaultLimits fit a province's survey: 5 million features, 200 million vertices; zips of at
// most 1,000 entries, 4 GiB inflated, a ratio of 100 (text compresses 5-20x; bombs 1000x+).
func DefaultLimits() Limits {
	return Limits{MaxFeatures: 5_000_000, MaxVertices: 200_000_000, MaxFeatureVertices: 100_000,
		MaxZipEntries: 1000, MaxUnzippedSize: 4 << 30, MaxZipRatio: 100, MaxTextBytes: 1 << 20}
}

// FileError is a problem with the file as a whole: it cannot be read on.
type FileError struct {
	// Where locates it: "feature 12", "line 40", "byte 1,024", ".shx".
	Where   string
	Message string
}

func (e *FileError) Error() string {
	if e.Where == "" {
		return e.Message
	}
	return e.Where + ": " + e.Message
}

// Errorf returns a *FileError.
func Errorf(where, format string, args ...any) error {
	return &FileError{Where: where, Message: fmt.Sprintf(format, args...)}
}

// Truncated turns an unexpected end of file into a clear error, and passes other errors on.
func Truncated(err error, where string) error {
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return Errorf(where, "the file ends in the middle of a record: it is truncated (an interrupted copy or download?)")
	}
	return err
}

// Counter counts the vertices and features a decoder has produced, against the limits.
type Counter struct {
	Limits   Limits
	features int
	vertices int
}

// Add counts one feature with n vertices and returns an error when a limit is passed.
func (c *Counter) Add(n int, feature int) error {
	c.features++
	c.vertices += n
	switch {
	case c.Limits.MaxFeatures > 0 && c.features > c.Limits.MaxFeatures:
		return Errorf(fmt.Sprintf("feature %d", feature), "the file has more than %d features, the limit: split it", c.Limits.MaxFeatures)
	case c.Limits.MaxVertices > 0 && c.vertices > c.Limits.MaxVertices:
		return Errorf(fmt.Sprintf("feature %d", feature), "the file has more than %d vertices, the limit: split it", c.Limits.MaxVertices)
	}
	return nil
}

// CountVertices returns the number of positions in g.
func CountVertices(g orb.Geometry) int {
	switch g := g.(type) {
	case orb.Point:
		return 1
	case orb.MultiPoint:
		return len(g)
	case orb.LineString:
		return len(g)
	case orb.Ring:
		return len(g)
	case orb.MultiLineString:
		n := 0
		for _, l := range g {
			n += len(l)
		}
		return n
	case orb.Polygon:
		n := 0
		for _, r := range g {
			n += len(r)
		}
		return n
	case orb.MultiPolygon:
		n := 0
		for _, p := range g {
			for _, r := range p {
				n += len(r)
			}
		}
		return n
	case orb.Collection:
		n := 0
		for _, x := range g {
			n += CountVertices(x)
		}
		return n
	}
	return 0
}

// ReadAll reads every feature of d; on an error it returns the features read before it.
func ReadAll(d Decoder) ([]*Feature, error) {
	var out []*Feature
	for {
		f, err := d.Next()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		out = append(out, f)
	}
}
