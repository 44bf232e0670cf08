package eudr

import (
	"math"
	"strconv"
	"unicode/utf8"
)

// Plot is one plot as the EU system takes it: its geometry (polygons, or a point with its area
// for a plot of 4 ha or less) and the properties of the GeoJSON File Description.
type Plot struct {
	// ID is the registry's plot id, written as the feature's "id" (the EU system ignores it;
	// it lets a reader tell that every plot is in the export exactly once).
	ID int64
	// Shape is the plot's polygons, when it is not written as a point.
	Shape Shape
	// Point, when set, is written instead of the polygons, with Area: only for a plot of
	// MaxPointAreaHa or less.
	Point *Coord
	// AreaHa is the plot's area in hectares, on the ellipsoid.
	AreaHa float64
	// ProducerName is the producer's name; empty when the plot has no producer, or when the
	// reader may not see it (NameWithheld).
	ProducerName string
	NameWithheld bool
	// ProductionPlace names where the plot is: commune and province.
	ProductionPlace string
	// Producer identifies the producer (0: none) and HSHeading the plot's commodity, for the due
	// diligence statements, which list producers per commodity.
	Producer  int64
	HSHeading string
}

// Property names of the EU's GeoJSON File Description (case-sensitive), and the one this
// registry adds to say that a name was withheld.
const (
	PropProducerName    = "ProducerName"
	PropProducerCountry = "ProducerCountry"
	PropProductionPlace = "ProductionPlace"
	PropArea            = "Area"
	// PropNameWithheld is true on a feature whose producer's name the exporting user may not
	// see (a household's name is personal data); the EU system ignores other properties.
	PropNameWithheld = "ProducerNameWithheld"
)

// AppendFeature appends p as one GeoJSON Feature (compact, no trailing newline): positions
// with exactly six decimals, [lon, lat].
func AppendFeature(buf []byte, p *Plot) []byte {
	buf = append(buf, `{"type":"Feature","id":`...)
	buf = strconv.AppendInt(buf, p.ID, 10)
	buf = append(buf, `,"properties":{`...)
	if p.ProducerName != "" {
		buf = append(buf, `"ProducerName":`...)
		buf = appendString(buf, p.ProducerName)
		buf = append(buf, ',')
	}
	if p.NameWithheld {
		buf = append(buf, `"ProducerNameWithheld":true,`...)
	}
	buf = append(buf, `"ProducerCountry":"`+Country+`","ProductionPlace":`...)
	buf = appendString(buf, p.ProductionPlace)
	if p.Point != nil {
		buf = append(buf, `,"Area":`...)
		buf = AppendArea(buf, p.AreaHa)
		buf = append(buf, `},"geometry":{"type":"Point","coordinates":`...)
		buf = appendCoord(buf, *p.Point)
		return append(buf, "}}"...)
	}
	if len(p.Shape) == 1 {
		buf = append(buf, `},"geometry":{"type":"Polygon","coordinates":`...)
		buf = appendPolygon(buf, p.Shape[0])
		return append(buf, "}}"...)
	}
	buf = append(buf, `},"geometry":{"type":"MultiPolygon","coordinates":[`...)
	for i, r := range p.Shape {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = appendPolygon(buf, r)
	}
	return append(buf, "]}}"...)
}

// AppendArea appends hectares with at most four decimals (a square metre).
func AppendArea(buf []byte, ha float64) []byte {
	return strconv.AppendFloat(buf, math.Round(ha*1e4)/1e4, 'f', -1, 64)
}

func appendPolygon(buf []byte, r []Coord) []byte {
	buf = append(buf, "[["...)
	for i, c := range r {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = appendCoord(buf, c)
	}
	return append(buf, "]]"...)
}

func appendCoord(buf []byte, c Coord) []byte {
	buf = append(buf, '[')
	buf = appendMicro(buf, c.X)
	buf = append(buf, ',')
	buf = appendMicro(buf, c.Y)
	return append(buf, ']')
}

// appendMicro writes v millionths as a decimal number with exactly six decimals.
func appendMicro(buf []byte, v int64) []byte {
	if v < 0 {
		buf = append(buf, '-')
		v = -v
	}
	buf = strconv.AppendInt(buf, v/1_000_000, 10)
	f := v % 1_000_000
	var d [7]byte
	d[0] = '.'
	for i := 6; i >= 1; i-- {
		d[i] = byte('0' + f%10)
		f /= 10
	}
	return append(buf, d[:]...)
}

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string. Bytes that are not UTF-8 become U+FFFD.
func appendString(buf []byte, s string) []byte {
	buf = append(buf, '"')
	start := 0
	for i := 0; i < len(s); {
		b := s[i]
		if b < utf8.RuneSelf {
			if b >= 0x20 && b != '"' && b != '\\' {
				i++
				continue
			}
			buf = append(buf, s[start:i]...)
			switch b {
			case '"', '\\':
				buf = append(buf, '\\', b)
			case '\n':
				buf = append(buf, '\\', 'n')
			case '\t':
				buf = append(buf, '\\', 't')
			case '\r':
				buf = append(buf, '\\', 'r')
			default:
				buf = append(buf, '\\', 'u', '0', '0', hexDigits[b>>4], hexDigits[b&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 || r == '\u2028' || r == '\u2029' {
			buf = append(buf, s[start:i]...)
			switch r {
			case '\u2028':
				buf = append(buf, `\u2028`...)
			case '\u2029':
				buf = append(buf, `\u2029`...)
			default:
				buf = append(buf, `\ufffd`...)
			}
			i += size
			start = i
			continue
		}
		i += size
	}
	buf = append(buf, s[start:]...)
	return append(buf, '"')
}
