// Package csv streams the rows of a CSV spreadsheet export: a WKT geometry column, or longitude
// and latitude columns for points. The delimiter (comma, semicolon, tab) and the text encoding
// (UTF-8, Windows-1258, TCVN3) are detected from the first rows.
package csv

import (
	"bufio"
	"bytes"
	stdcsv "encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/wkt"
	"github.com/vungtrong/vungtrong/importers"
	"github.com/vungtrong/vungtrong/importers/textenc"
	"github.com/vungtrong/vungtrong/vntext"
)

// Options control how a CSV file is read.
type Options struct {
	Limits   importers.Limits
	Encoding textenc.Encoding
	// Geometry, Lon and Lat name the columns to read, when detection by name is not enough.
	Geometry, Lon, Lat string
}

// Decoder streams the data rows.
type Decoder struct {
	r       *stdcsv.Reader
	header  []string
	ahead   [][]string
	enc     textenc.Encoding
	info    importers.Info
	geomCol int
	lonCol  int
	latCol  int
	n       int
	count   importers.Counter
	lim     importers.Limits
}

const sampleRows = 2000

var (
	geomNames = []string{"wkt", "geometry", "geom", "the_geom", "shape", "hinh_hoc"}
	lonNames  = []string{"lon", "lng", "long", "longitude", "x", "kinh_do", "kinhdo"}
	latNames  = []string{"lat", "latitude", "y", "vi_do", "vido"}
)

// NewDecoder reads CSV from r.
func NewDecoder(r io.Reader, opt Options) (*Decoder, error) {
	br := bufio.NewReaderSize(r, 1<<16)
	if b, _ := br.Peek(3); bytes.Equal(b, []byte("\ufeff")) { // a byte-order mark, as Excel writes
		br.Discard(3)
	}
	head, _ := br.Peek(64 << 10)
	firstLine := head
	if i := bytes.IndexByte(head, '\n'); i >= 0 {
		firstLine = head[:i]
	}
	delim := ','
	best := bytes.Count(firstLine, []byte(","))
	for _, c := range []rune{';', '\t'} {
		if n := bytes.Count(firstLine, []byte(string(c))); n > best {
			delim, best = c, n
		}
	}
	cr := stdcsv.NewReader(br)
	cr.Comma = delim
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = false
	d := &Decoder{r: cr, lim: opt.Limits, geomCol: -1, lonCol: -1, latCol: -1,
		info: importers.Info{Format: "CSV", Layer: fmt.Sprintf("delimiter %q", delim)}}
	d.count.Limits = opt.Limits
	header, err := cr.Read()
	if err == io.EOF {
		return nil, importers.Errorf("", "the file is empty")
	}
	if err != nil {
		return nil, csvError(err)
	}
	var det textenc.Detector
	for _, h := range header {
		det.Add([]byte(h))
	}
	for len(d.ahead) < sampleRows {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, csvError(err)
		}
		for _, v := range rec {
			det.Add([]byte(v))
		}
		d.ahead = append(d.ahead, rec)
	}
	guess := det.Guess()
	d.enc = guess.Encoding
	d.info.Encoding = guess.String()
	if opt.Encoding != textenc.Unknown {
		d.enc = opt.Encoding
		d.info.Encoding = fmt.Sprintf("%s (from --encoding; detection said %s)", opt.Encoding, guess)
	}
	for i, h := range header {
		d.header = append(d.header, strings.TrimSpace(textenc.Decode(d.enc, []byte(h))))
		key := strings.ReplaceAll(vntext.Fold(d.header[i]), " ", "_")
		switch {
		case opt.Geometry != "" && strings.EqualFold(d.header[i], opt.Geometry), opt.Geometry == "" && d.geomCol < 0 && contains(geomNames, key):
			d.geomCol = i
		case opt.Lon != "" && strings.EqualFold(d.header[i], opt.Lon), opt.Lon == "" && d.lonCol < 0 && contains(lonNames, key):
			d.lonCol = i
		case opt.Lat != "" && strings.EqualFold(d.header[i], opt.Lat), opt.Lat == "" && d.latCol < 0 && contains(latNames, key):
			d.latCol = i
		}
	}
	if d.geomCol < 0 && (d.lonCol < 0 || d.latCol < 0) {
		return nil, importers.Errorf("header", "no geometry column: name one WKT (with POLYGON or MULTIPOLYGON text) or give longitude and latitude columns (lon, lat); the columns are %s", strings.Join(d.header, ", "))
	}
	return d, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func csvError(err error) error {
	var pe *stdcsv.ParseError
	if errors.As(err, &pe) {
		return importers.Errorf(fmt.Sprintf("line %d", pe.Line), "%v", pe.Err)
	}
	return err
}

// Info describes the file.
func (d *Decoder) Info() importers.Info { return d.info }

// Next returns the next data row, or io.EOF.
func (d *Decoder) Next() (*importers.Feature, error) {
	var rec []string
	if len(d.ahead) > 0 {
		rec, d.ahead = d.ahead[0], d.ahead[1:]
	} else {
		var err error
		rec, err = d.r.Read()
		if err == io.EOF {
			return nil, io.EOF
		}
		if err != nil {
			return nil, csvError(err)
		}
	}
	d.n++
	f := &importers.Feature{N: d.n}
	for i, v := range rec {
		if i == d.geomCol {
			continue
		}
		name := fmt.Sprintf("column %d", i+1)
		if i < len(d.header) {
			name = d.header[i]
		}
		if d.lim.MaxTextBytes > 0 && len(v) > d.lim.MaxTextBytes {
			f.Problems = append(f.Problems, importers.Problem{Feature: d.n, Field: name, Message: "the value is longer than the limit"})
			continue
		}
		f.Props = append(f.Props, importers.Prop{Name: name, Value: strings.TrimSpace(textenc.Decode(d.enc, []byte(v)))})
	}
	cell := func(i int) string {
		if i >= 0 && i < len(rec) {
			return strings.TrimSpace(rec[i])
		}
		return ""
	}
	if d.geomCol >= 0 {
		text := cell(d.geomCol)
		if text == "" {
			f.Problems = append(f.Problems, importers.Problem{Feature: d.n, Field: d.header[d.geomCol], Message: "the geometry is empty"})
		} else if g, err := wkt.Unmarshal(text); err != nil {
			f.Problems = append(f.Problems, importers.Problem{Feature: d.n, Field: d.header[d.geomCol], Message: fmt.Sprintf("not WKT (%v): write it as POLYGON((lon lat, ...))", err)})
		} else {
			f.Geometry = g
		}
	} else {
		lon, err1 := strconv.ParseFloat(strings.Replace(cell(d.lonCol), ",", ".", 1), 64)
		lat, err2 := strconv.ParseFloat(strings.Replace(cell(d.latCol), ",", ".", 1), 64)
		switch {
		case err1 != nil:
			f.Problems = append(f.Problems, importers.Problem{Feature: d.n, Field: d.header[d.lonCol], Message: fmt.Sprintf("%q is not a number", cell(d.lonCol))})
		case err2 != nil:
			f.Problems = append(f.Problems, importers.Problem{Feature: d.n, Field: d.header[d.latCol], Message: fmt.Sprintf("%q is not a number", cell(d.latCol))})
		default:
			f.Geometry = orb.Point{lon, lat}
		}
	}
	if err := d.count.Add(importers.CountVertices(f.Geometry), d.n); err != nil {
		return nil, err
	}
	return f, nil
}
