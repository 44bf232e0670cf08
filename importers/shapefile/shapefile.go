// Package shapefile streams an ESRI Shapefile (.shp geometry, .shx index, .dbf attributes, .prj
// coordinate system, .cpg code page), loose or in a zip. It reads the bytes itself rather than
// through a library because provincial files need what libraries hide: the raw .dbf bytes, to
// detect TCVN3 or Windows-1258 text whatever the .cpg claims, and exact messages about which
// record of which file is broken.
package shapefile

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/paulmach/orb"
	"github.com/vungtrong/vungtrong/importers"
	"github.com/vungtrong/vungtrong/importers/textenc"
)

// Options control how a Shapefile is read.
type Options struct {
	Limits importers.Limits
	// Encoding overrides detection of the .dbf text encoding.
	Encoding textenc.Encoding
}

// Decoder streams the records of a Shapefile.
type Decoder struct {
	shp     *bufio.Reader
	dbf     *dbfReader
	closers []io.Closer
	info    importers.Info
	enc     textenc.Encoding
	records int // from the .shx
	n       int
	shpPos  int64
	shpLen  int64
	count   importers.Counter
	lim     importers.Limits
}

// parts are the files of one Shapefile, opened.
type parts struct {
	shp, shx, dbf io.ReadCloser
	prj, cpg      []byte
	name          string
	closers       []io.Closer
}

// Open opens the Shapefile at path: a .shp with its sibling files, or a .zip holding them.
func Open(path string, opt Options) (*Decoder, error) {
	var p *parts
	var err error
	if importers.IsZip(path) {
		p, err = openZip(path, opt.Limits)
	} else {
		p, err = openLoose(path)
	}
	if err != nil {
		return nil, err
	}
	d, err := newDecoder(p, opt)
	if err != nil {
		for _, c := range p.closers {
			c.Close()
		}
		return nil, err
	}
	return d, nil
}

// sibling finds base+ext next to the .shp in any letter case.
func sibling(base, ext string) string {
	for _, e := range []string{ext, strings.ToUpper(ext)} {
		if _, err := os.Stat(base + e); err == nil {
			return base + e
		}
	}
	return ""
}

func openLoose(path string) (*parts, error) {
	base := strings.TrimSuffix(path, filepath.Ext(path))
	p := &parts{name: filepath.Base(base)}
	open := func(ext string, required bool, why string) (io.ReadCloser, error) {
		f := sibling(base, ext)
		if f == "" {
			if required {
				return nil, importers.Errorf(ext, "%s%s is missing: %s; copy it from the same folder as the .shp", filepath.Base(base), ext, why)
			}
			return nil, nil
		}
		h, err := os.Open(f)
		if err != nil {
			return nil, err
		}
		p.closers = append(p.closers, h)
		return h, nil
	}
	var err error
	if p.shp, err = open(".shp", true, "it holds the geometry"); err != nil {
		return nil, err
	}
	if p.shx, err = open(".shx", true, "a Shapefile is a set of files, and the .shx index tells where each record starts and how many there are"); err != nil {
		closeAll(p.closers)
		return nil, err
	}
	if p.dbf, err = open(".dbf", true, "it holds the attributes (owner, crop, parcel numbers)"); err != nil {
		closeAll(p.closers)
		return nil, err
	}
	if f := sibling(base, ".prj"); f != "" {
		p.prj, _ = os.ReadFile(f)
	}
	if f := sibling(base, ".cpg"); f != "" {
		p.cpg, _ = os.ReadFile(f)
	}
	return p, nil
}

func closeAll(cs []io.Closer) {
	for _, c := range cs {
		c.Close()
	}
}

func openZip(path string, lim importers.Limits) (*parts, error) {
	z, err := importers.OpenZip(path, "the zip", lim)
	if err != nil {
		return nil, err
	}
	p := &parts{closers: []io.Closer{z}}
	var shpName string
	for _, e := range z.File {
		if strings.EqualFold(filepath.Ext(e.Name), ".shp") && !strings.HasPrefix(filepath.Base(e.Name), ".") {
			if shpName != "" {
				z.Close()
				return nil, importers.Errorf("", "the zip holds more than one Shapefile (%s and %s): import them one at a time", shpName, e.Name)
			}
			shpName = e.Name
		}
	}
	if shpName == "" {
		z.Close()
		return nil, importers.Errorf("", "the zip holds no .shp file")
	}
	base := strings.TrimSuffix(shpName, filepath.Ext(shpName))
	p.name = filepath.Base(base)
	find := func(ext string) (io.ReadCloser, []byte, error) {
		for _, e := range z.File {
			if strings.EqualFold(e.Name, base+ext) {
				r, err := z.OpenEntry(e)
				if err != nil {
					return nil, nil, err
				}
				if ext == ".prj" || ext == ".cpg" {
					defer r.Close()
					b, err := io.ReadAll(io.LimitReader(r, 64<<10))
					return nil, b, err
				}
				p.closers = append(p.closers, r)
				return r, nil, nil
			}
		}
		return nil, nil, nil
	}
	if p.shp, _, err = find(".shp"); err != nil {
		closeAll(p.closers)
		return nil, err
	}
	for _, req := range []struct {
		ext, why string
		dst      *io.ReadCloser
	}{{".shx", "a Shapefile is a set of files, and the .shx index tells where each record starts and how many there are", &p.shx},
		{".dbf", "it holds the attributes (owner, crop, parcel numbers)", &p.dbf}} {
		r, _, err := find(req.ext)
		if err != nil {
			closeAll(p.closers)
			return nil, err
		}
		if r == nil {
			closeAll(p.closers)
			return nil, importers.Errorf(req.ext, "the zip has %s but no %s%s: %s", shpName, base, req.ext, req.why)
		}
		*req.dst = r
	}
	if _, p.prj, err = find(".prj"); err != nil {
		closeAll(p.closers)
		return nil, err
	}
	if _, p.cpg, err = find(".cpg"); err != nil {
		closeAll(p.closers)
		return nil, err
	}
	return p, nil
}

const sampleRecords = 5000

func newDecoder(p *parts, opt Options) (*Decoder, error) {
	d := &Decoder{shp: bufio.NewReaderSize(p.shp, 1<<16), closers: p.closers, lim: opt.Limits}
	d.count.Limits = opt.Limits
	d.info = importers.Info{Format: "Shapefile", Layer: p.name}
	// The index: its length gives the number of records.
	shx, err := io.ReadAll(io.LimitReader(p.shx, 1<<30))
	if err != nil {
		return nil, err
	}
	if len(shx) < 100 || binary.BigEndian.Uint32(shx) != 9994 {
		return nil, importers.Errorf(".shx", "not a Shapefile index (too short or wrong file code)")
	}
	d.records = (len(shx) - 100) / 8
	// The .shp header.
	var head [100]byte
	if _, err := io.ReadFull(d.shp, head[:]); err != nil {
		return nil, importers.Errorf(".shp", "the file is shorter than a Shapefile header: it is truncated or not a Shapefile")
	}
	if binary.BigEndian.Uint32(head[0:]) != 9994 {
		return nil, importers.Errorf(".shp", "not a Shapefile (the file code is not 9994)")
	}
	d.shpLen = int64(binary.BigEndian.Uint32(head[24:])) * 2
	d.shpPos = 100
	// Coordinates.
	if len(bytes.TrimSpace(p.prj)) > 0 {
		crs, err := importers.ParsePrj(string(p.prj))
		if err != nil {
			return nil, err
		}
		d.info.CRS = crs
	}
	// Attributes, with the encoding detected from a sample of records.
	d.dbf, err = newDBF(p.dbf, sampleRecords)
	if err != nil {
		return nil, err
	}
	if d.dbf.records != d.records {
		return nil, importers.Errorf(".dbf", "the .dbf has %d records but the .shx indexes %d shapes: the files do not belong together, or one is truncated", d.dbf.records, d.records)
	}
	var det textenc.Detector
	for _, rec := range d.dbf.sample {
		for i, f := range d.dbf.fields {
			if f.typ == 'C' || f.typ == 'M' {
				det.Add(rec[d.dbf.offsets[i] : d.dbf.offsets[i]+f.length])
			}
		}
	}
	guess := det.Guess()
	d.enc = guess.Encoding
	d.info.Encoding = guess.String()
	if cpg := strings.TrimSpace(string(p.cpg)); cpg != "" {
		declared, err := textenc.Parse(cpg)
		switch {
		case err != nil:
			d.info.Encoding += fmt.Sprintf("; the .cpg says %q, not an encoding this reader knows", cpg)
		case declared == guess.Encoding:
			d.info.Encoding = fmt.Sprintf("%s (from the .cpg, and the text agrees)", declared)
		case guess.Confidence < 0.8:
			d.enc = declared
			d.info.Encoding = fmt.Sprintf("%s (from the .cpg; the text alone suggests %s)", declared, guess)
		default:
			d.info.Encoding += fmt.Sprintf("; the .cpg says %q, but the text does not read as that", cpg)
		}
	}
	if opt.Encoding != textenc.Unknown {
		d.enc = opt.Encoding
		d.info.Encoding = fmt.Sprintf("%s (from --encoding; detection said %s)", opt.Encoding, guess)
	}
	return d, nil
}

// Info describes the file.
func (d *Decoder) Info() importers.Info { return d.info }

// Close closes the files.
func (d *Decoder) Close() error {
	closeAll(d.closers)
	return nil
}

// Next returns the next record with its attributes, or io.EOF.
func (d *Decoder) Next() (*importers.Feature, error) {
	for {
		if d.n >= d.records {
			return nil, io.EOF
		}
		d.n++
		where := fmt.Sprintf("record %d of the .shp", d.n)
		var rh [8]byte
		if _, err := io.ReadFull(d.shp, rh[:]); err != nil {
			return nil, importers.Errorf(where, "the .shp ends after %d of the %d records its index lists: it is truncated", d.n-1, d.records)
		}
		length := int64(binary.BigEndian.Uint32(rh[4:])) * 2
		if length < 4 || length > 1<<30 || d.shpPos+8+length > d.shpLen && d.shpLen > 0 {
			return nil, importers.Errorf(where, "record length %d does not fit in the file: the .shp is corrupt or truncated", length)
		}
		d.shpPos += 8 + length
		content := make([]byte, length)
		if _, err := io.ReadFull(d.shp, content); err != nil {
			return nil, importers.Errorf(where, "the .shp ends in the middle of this record: it is truncated")
		}
		rec, deleted, err := d.dbf.next()
		if err != nil {
			return nil, importers.Errorf(fmt.Sprintf("record %d of the .dbf", d.n), "%v", err)
		}
		if deleted {
			continue
		}
		f := &importers.Feature{N: d.n}
		g, err := parseShape(content)
		if err != nil {
			f.Problems = append(f.Problems, importers.Problem{Feature: d.n, Field: "geometry", Message: err.Error()})
		}
		f.Geometry = g
		for i, fd := range d.dbf.fields {
			raw := rec[d.dbf.offsets[i] : d.dbf.offsets[i]+fd.length]
			v, err := fd.value(raw, d.enc)
			if err != nil {
				f.Problems = append(f.Problems, importers.Problem{Feature: d.n, Field: fd.name, Message: err.Error()})
			}
			f.Props = append(f.Props, importers.Prop{Name: fd.name, Value: v})
		}
		if err := d.count.Add(importers.CountVertices(g), d.n); err != nil {
			return nil, err
		}
		if d.lim.MaxFeatureVertices > 0 && importers.CountVertices(g) > d.lim.MaxFeatureVertices {
			f.Geometry = nil
			f.Problems = append(f.Problems, importers.Problem{Feature: d.n, Field: "geometry", Message: fmt.Sprintf("more than %d vertices", d.lim.MaxFeatureVertices)})
		}
		return f, nil
	}
}

// Shape types.
const (
	shapeNull        = 0
	shapePoint       = 1
	shapePolyLine    = 3
	shapePolygon     = 5
	shapeMultiPoint  = 8
	shapePointZ      = 11
	shapePolyLineZ   = 13
	shapePolygonZ    = 15
	shapeMultiPointZ = 18
	shapePointM      = 21
	shapePolyLineM   = 23
	shapePolygonM    = 25
	shapeMultiPointM = 28
)

// parseShape decodes one record's content; Z and M values are dropped.
func parseShape(b []byte) (orb.Geometry, error) {
	le := binary.LittleEndian
	typ := le.Uint32(b)
	switch typ {
	case shapeNull:
		return nil, nil
	case shapePoint, shapePointZ, shapePointM:
		if len(b) < 20 {
			return nil, fmt.Errorf("point record too short")
		}
		return orb.Point{f64(b[4:]), f64(b[12:])}, nil
	case shapeMultiPoint, shapeMultiPointZ, shapeMultiPointM:
		if len(b) < 40 {
			return nil, fmt.Errorf("multipoint record too short")
		}
		n := int(le.Uint32(b[36:]))
		if n < 0 || 40+16*n > len(b) {
			return nil, fmt.Errorf("multipoint claims %d points, more than the record holds", n)
		}
		mp := make(orb.MultiPoint, n)
		for i := range mp {
			mp[i] = orb.Point{f64(b[40+16*i:]), f64(b[48+16*i:])}
		}
		return mp, nil
	case shapePolyLine, shapePolyLineZ, shapePolyLineM, shapePolygon, shapePolygonZ, shapePolygonM:
		if len(b) < 44 {
			return nil, fmt.Errorf("record too short for its shape type")
		}
		nParts, nPoints := int(int32(le.Uint32(b[36:]))), int(int32(le.Uint32(b[40:])))
		if nParts < 0 || nPoints < 0 || nParts > len(b)/4 || 44+4*nParts+16*nPoints > len(b) {
			return nil, fmt.Errorf("the record claims %d parts and %d points, more than it holds: the .shp is corrupt", nParts, nPoints)
		}
		starts := make([]int, nParts+1)
		for i := 0; i < nParts; i++ {
			starts[i] = int(int32(le.Uint32(b[44+4*i:])))
			if starts[i] < 0 || starts[i] > nPoints || (i > 0 && starts[i] < starts[i-1]) {
				return nil, fmt.Errorf("part %d starts at point %d, outside the record's %d points: the .shp is corrupt", i+1, starts[i], nPoints)
			}
		}
		starts[nParts] = nPoints
		pts := 44 + 4*nParts
		lines := make([]orb.LineString, nParts)
		for i := 0; i < nParts; i++ {
			l := make(orb.LineString, starts[i+1]-starts[i])
			for j := range l {
				o := pts + 16*(starts[i]+j)
				l[j] = orb.Point{f64(b[o:]), f64(b[o+8:])}
			}
			lines[i] = l
		}
		if typ == shapePolyLine || typ == shapePolyLineZ || typ == shapePolyLineM {
			if len(lines) == 1 {
				return lines[0], nil
			}
			return orb.MultiLineString(lines), nil
		}
		return assemble(lines), nil
	}
	return nil, fmt.Errorf("shape type %d is not supported (points, lines and polygons are)", typ)
}

func f64(b []byte) float64 { return math.Float64frombits(binary.LittleEndian.Uint64(b)) }

// assemble groups a polygon record's rings into polygons: a clockwise ring starts a polygon,
// a counter-clockwise ring is a hole of the outer ring that contains it.
func assemble(lines []orb.LineString) orb.MultiPolygon {
	var mp orb.MultiPolygon
	var holes []orb.Ring
	for _, l := range lines {
		r := orb.Ring(l)
		if signedArea(r) <= 0 { // clockwise: an outer ring
			mp = append(mp, orb.Polygon{r})
		} else {
			holes = append(holes, r)
		}
	}
	if len(mp) == 0 { // every ring counter-clockwise: written without the convention; all outer
		for _, h := range holes {
			mp = append(mp, orb.Polygon{h})
		}
		return mp
	}
	for _, h := range holes {
		owner := len(mp) - 1
		if len(h) > 0 {
			for i, p := range mp {
				if ringContains(p[0], h[0]) {
					owner = i
					break
				}
			}
		}
		mp[owner] = append(mp[owner], h)
	}
	return mp
}

func signedArea(r orb.Ring) float64 {
	a := 0.0
	for i := 0; i+1 < len(r); i++ {
		a += r[i][0]*r[i+1][1] - r[i+1][0]*r[i][1]
	}
	return a / 2
}

func ringContains(r orb.Ring, p orb.Point) bool {
	in := false
	for i, j := 0, len(r)-1; i < len(r); j, i = i, i+1 {
		if (r[i][1] > p[1]) != (r[j][1] > p[1]) && p[0] < (r[j][0]-r[i][0])*(p[1]-r[i][1])/(r[j][1]-r[i][1])+r[i][0] {
			in = !in
		}
	}
	return in
}

// dbfReader streams .dbf records; the first ones are read ahead as a sample for detection.
type dbfReader struct {
	r       *bufio.Reader
	fields  []dbfField
	offsets []int
	recLen  int
	records int
	sample  [][]byte
	read    int
}

type dbfField struct {
	name    string
	typ     byte
	length  int
	decimal int
}

func newDBF(r io.Reader, sample int) (*dbfReader, error) {
	br := bufio.NewReaderSize(r, 1<<16)
	var head [32]byte
	if _, err := io.ReadFull(br, head[:]); err != nil {
		return nil, importers.Errorf(".dbf", "the file is shorter than a dBASE header: truncated or not a .dbf")
	}
	d := &dbfReader{r: br}
	d.records = int(binary.LittleEndian.Uint32(head[4:]))
	headerLen := int(binary.LittleEndian.Uint16(head[8:]))
	d.recLen = int(binary.LittleEndian.Uint16(head[10:]))
	if headerLen < 33 || d.recLen < 1 {
		return nil, importers.Errorf(".dbf", "not a dBASE file (header length %d, record length %d)", headerLen, d.recLen)
	}
	rest := make([]byte, headerLen-32)
	if _, err := io.ReadFull(br, rest); err != nil {
		return nil, importers.Errorf(".dbf", "the field list is cut short: truncated")
	}
	off := 1 // the deletion flag
	for i := 0; i+32 <= len(rest) && rest[i] != 0x0D; i += 32 {
		fd := rest[i : i+32]
		name := string(bytes.TrimRight(fd[:11], "\x00 "))
		f := dbfField{name: name, typ: fd[11], length: int(fd[16]), decimal: int(fd[17])}
		if f.typ == 'C' {
			f.length += int(fd[17]) << 8 // long character fields (Clipper, GDAL) use the decimal byte
			f.decimal = 0
		}
		d.fields = append(d.fields, f)
		d.offsets = append(d.offsets, off)
		off += f.length
	}
	if off != d.recLen {
		return nil, importers.Errorf(".dbf", "the fields add up to %d bytes but records are %d bytes long: the .dbf is corrupt", off, d.recLen)
	}
	for len(d.sample) < sample && len(d.sample) < d.records {
		rec := make([]byte, d.recLen)
		if _, err := io.ReadFull(br, rec); err != nil {
			return nil, importers.Errorf(fmt.Sprintf("record %d of the .dbf", len(d.sample)+1), "the .dbf ends early: it is truncated")
		}
		d.sample = append(d.sample, rec)
	}
	return d, nil
}

func (d *dbfReader) next() (rec []byte, deleted bool, err error) {
	if d.read < len(d.sample) {
		rec = d.sample[d.read]
		d.sample[d.read] = nil
	} else {
		rec = make([]byte, d.recLen)
		if _, err := io.ReadFull(d.r, rec); err != nil {
			return nil, false, fmt.Errorf("the .dbf ends early: it is truncated")
		}
	}
	d.read++
	return rec, rec[0] == '*', nil
}

func (f dbfField) value(raw []byte, enc textenc.Encoding) (string, error) {
	switch f.typ {
	case 'C', 'M':
		return strings.TrimSpace(textenc.Decode(enc, bytes.TrimRight(raw, "\x00 "))), nil
	case 'N', 'F':
		s := strings.TrimSpace(string(bytes.TrimRight(raw, "\x00")))
		if s == "" || strings.Trim(s, "*") == "" {
			return "", nil
		}
		s = strings.Replace(s, ",", ".", 1)
		if _, err := strconv.ParseFloat(s, 64); err != nil {
			return "", fmt.Errorf("%q is not a number", s)
		}
		return s, nil
	case 'D':
		s := strings.TrimSpace(string(raw))
		if len(s) == 8 {
			return s[:4] + "-" + s[4:6] + "-" + s[6:], nil
		}
		return s, nil
	case 'L':
		switch strings.ToUpper(strings.TrimSpace(string(raw))) {
		case "T", "Y":
			return "true", nil
		case "F", "N":
			return "false", nil
		}
		return "", nil
	}
	return strings.TrimSpace(string(raw)), nil
}
