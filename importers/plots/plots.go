// Package plots opens a survey file of any supported format and turns its features into the
// registry's ImportPlots: the format is chosen from the file, the coordinate system from the
// file or the options, attributes are mapped from common Vietnamese column names (or a mapping),
// and every check that needs no database runs here, feature by feature.
package plots

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/wkb"
	"github.com/vungtrong/vungtrong/geo"
	"github.com/vungtrong/vungtrong/importers"
	"github.com/vungtrong/vungtrong/importers/csv"
	"github.com/vungtrong/vungtrong/importers/geojson"
	"github.com/vungtrong/vungtrong/importers/gpx"
	"github.com/vungtrong/vungtrong/importers/kml"
	"github.com/vungtrong/vungtrong/importers/shapefile"
	"github.com/vungtrong/vungtrong/importers/textenc"
	"github.com/vungtrong/vungtrong/registry"
	"github.com/vungtrong/vungtrong/vntext"
)

// Options control how a file is read.
type Options struct {
	Limits   importers.Limits
	Geometry geo.Limits
	// Encoding overrides text-encoding detection (.dbf, CSV).
	Encoding textenc.Encoding
	// CRS overrides the file's coordinate system (--srs); zero SRID = the file's.
	CRS importers.CRS
	// ProvinceCRS is the VN-2000 zone of --province: the coordinate system of a file that names
	// none (a Shapefile without its .prj, a CSV) and whose coordinates are not degrees.
	ProvinceCRS importers.CRS
	// Map maps registry fields to the file's columns: {"owner": "TENCHU"}; it is added to the
	// columns recognised by name.
	Map map[string]string
	// Set gives a field one value for every feature: {"crop": "coffee"}.
	Set map[string]string
	// Layer is what the file holds: plots (""), LayerAdmin (see Boundaries) or LayerFacilities
	// (see Facilities).
	Layer string
}

// Fields a file may fill, and the column names (folded: lower case, no diacritics, spaces as
// underscores) recognised for each.
var fieldColumns = map[string][]string{
	"id":            {"id", "objectid", "fid", "gid", "ma_thua", "ma_lo", "ma_so", "plot_id", "ma"},
	"owner":         {"ten_chu", "chu_ho", "ten_chu_ho", "chu_su_dung", "ho_ten", "chu", "owner", "ten_chu_sd"},
	"owner_id":      {"cccd", "so_cccd", "cmnd", "so_cmnd", "citizen_id"},
	"crop":          {"cay_trong", "loai_cay", "cay", "crop", "loai_cay_trong"},
	"variety":       {"giong", "giong_cay", "variety"},
	"sheet":         {"so_to", "to_bd", "so_to_bd", "sheet", "to"},
	"parcel":        {"so_thua", "thua", "parcel"},
	"planting_year": {"nam_trong", "planting_year", "nam"},
	"commune":       {"ma_xa", "commune_code", "commune"},
	"land_cert":     {"so_gcn", "gcn", "land_cert_no"},
	"area_m2":       {"dien_tich", "dt", "dientich", "shape_area", "area_m2", "dt_m2"},
	"area_ha":       {"dt_ha", "dien_tich_ha", "area_ha", "dientich_ha"},
}

// adminColumns are the fields of an administrative boundary (--layer admin): its code in the
// 2025 list (5 digits for a commune, 2 for a province) and its name, to check against the list.
var adminColumns = map[string][]string{
	"code": {"ma_xa", "ma_tinh", "ma_dvhc", "ma_don_vi", "commune_code", "province_code", "code", "ma"},
	"name": {"ten_xa", "ten_tinh", "ten_dvhc", "ten_don_vi", "ten", "name"},
}

// facilityColumns are the fields of a facility (--layer facilities): a point with its kind
// (livestock farm, feed mill or packing house), name, address, the livestock facility code, the
// commune, and the file's own id.
var facilityColumns = map[string][]string{
	"id":      {"id", "objectid", "fid", "gid", "ma", "ma_dt", "stt"},
	"kind":    {"loai_co_so", "loai_hinh", "loai", "kind", "type"},
	"name":    {"ten_co_so", "ten", "ten_trai", "name"},
	"address": {"dia_chi", "address"},
	"code":    {"ma_co_so", "ma_so", "facility_code", "code"},
	"commune": {"ma_xa", "commune_code", "commune"},
}

// Layers a file may hold besides plots.
const (
	LayerAdmin      = "admin"
	LayerFacilities = "facilities"
)

// FacilityFieldNames lists the fields --map and --set accept with --layer facilities.
func FacilityFieldNames() []string { return names(facilityColumns) }

// FieldNames lists the fields --map and --set accept.
func FieldNames() []string { return names(fieldColumns) }

// AdminFieldNames lists the fields --map and --set accept with --layer admin.
func AdminFieldNames() []string { return names(adminColumns) }

func names(columns map[string][]string) []string {
	var out []string
	for k := range columns {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// columnsFor is the field table of the layer opt reads.
func columnsFor(opt Options) map[string][]string {
	switch opt.Layer {
	case LayerAdmin:
		return adminColumns
	case LayerFacilities:
		return facilityColumns
	}
	return fieldColumns
}

// Source reads a file's plots; it implements registry.ImportSource.
type Source struct {
	dec     importers.Decoder
	closer  io.Closer
	opt     Options
	crs     importers.CRS
	counted *countingReader
	size    int64
	// columns maps a field to the file column that fills it, found at the first feature.
	columns map[string]string
	first   bool
}

// Open opens the file at path.
func Open(path string, opt Options) (*Source, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if st.IsDir() {
		return nil, fmt.Errorf("%s is a folder: name the .shp, .zip, .kml, .kmz, .geojson, .gpx or .csv file", path)
	}
	columns := columnsFor(opt)
	for field := range opt.Map {
		if _, ok := columns[field]; !ok {
			return nil, fmt.Errorf("--map %s: no such field; the fields are %s", field, strings.Join(names(columns), ", "))
		}
	}
	for field := range opt.Set {
		if _, ok := columns[field]; !ok || field == "id" {
			return nil, fmt.Errorf("--set %s: no such field; the fields are %s", field, strings.Join(names(columns), ", "))
		}
	}
	s := &Source{opt: opt, size: st.Size(), first: true}
	ext := strings.ToLower(filepath.Ext(path))
	format := ext
	if ext == ".zip" {
		format = ".shp"
		if z, err := importers.OpenZip(path, "the zip", opt.Limits); err == nil {
			for _, e := range z.File {
				if strings.EqualFold(filepath.Ext(e.Name), ".kml") {
					format = ".kmz"
				}
			}
			z.Close()
		}
	}
	switch format {
	case ".shp", ".shx", ".dbf":
		d, err := shapefile.Open(path, shapefile.Options{Limits: opt.Limits, Encoding: opt.Encoding})
		if err != nil {
			return nil, err
		}
		s.dec, s.closer = d, d
	case ".kml", ".kmz":
		d, err := kml.Open(path, opt.Limits)
		if err != nil {
			return nil, err
		}
		s.dec, s.closer = d, d
	case ".geojson", ".json":
		f, r, err := s.openCounted(path)
		if err != nil {
			return nil, err
		}
		d, err := geojson.NewDecoder(r, opt.Limits)
		if err != nil {
			f.Close()
			return nil, err
		}
		s.dec, s.closer = d, f
	case ".gpx":
		f, r, err := s.openCounted(path)
		if err != nil {
			return nil, err
		}
		s.dec, s.closer = gpx.NewDecoder(r, gpx.Options{Limits: opt.Limits}), f
	case ".csv", ".txt", ".tsv":
		f, r, err := s.openCounted(path)
		if err != nil {
			return nil, err
		}
		d, err := csv.NewDecoder(r, csv.Options{Limits: opt.Limits, Encoding: opt.Encoding})
		if err != nil {
			f.Close()
			return nil, err
		}
		s.dec, s.closer = d, f
	default:
		return nil, fmt.Errorf("%s: the format is not known from its name; import .shp (or a .zip of one), .kml, .kmz, .geojson, .gpx or .csv", filepath.Base(path))
	}
	s.crs = s.dec.Info().CRS
	if opt.CRS.SRID != 0 {
		s.crs = opt.CRS
	}
	return s, nil
}

func (s *Source) openCounted(path string) (*os.File, io.Reader, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	s.counted = &countingReader{r: f}
	return f, bufio.NewReaderSize(s.counted, 1<<16), nil
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// Progress returns the bytes read and the file size, when the format allows telling.
func (s *Source) Progress() (done, total int64) {
	if s.counted == nil {
		return 0, 0
	}
	return s.counted.n, s.size
}

// Close closes the file.
func (s *Source) Close() error {
	if s.closer != nil {
		return s.closer.Close()
	}
	return nil
}

// Describe says what was read: format, coordinate system, encoding.
func (s *Source) Describe() map[string]string {
	info := s.dec.Info()
	d := map[string]string{"format": info.Format}
	if s.crs.SRID != 0 {
		d["crs"] = fmt.Sprintf("%s, SRID %d (from %s)", s.crs.Name, s.crs.SRID, s.crs.From)
	}
	if info.Encoding != "" {
		d["encoding"] = info.Encoding
	}
	if info.Layer != "" {
		d["layer"] = info.Layer
	}
	if len(s.columns) > 0 {
		var cols []string
		for f, c := range s.columns {
			cols = append(cols, f+"="+c)
		}
		sort.Strings(cols)
		d["columns"] = strings.Join(cols, ", ")
	}
	return d
}

// feature reads the next feature, with the problems the decoder found and a getter for its
// fields (--set first, then the mapped column).
func (s *Source) feature() (*importers.Feature, []registry.Detail, func(string) string, error) {
	f, err := s.dec.Next()
	if err != nil {
		return nil, nil, nil, err
	}
	if s.first {
		s.first = false
		s.columns = s.findColumns(f.Props)
		if err := s.checkCRS(f); err != nil {
			return nil, nil, nil, err
		}
	}
	var problems []registry.Detail
	for _, pr := range f.Problems {
		problems = append(problems, registry.Detail{Feature: f.N, Field: pr.Field, Message: pr.Message})
	}
	values := map[string]string{}
	for _, pr := range f.Props {
		values[pr.Name] = pr.Value
	}
	get := func(field string) string {
		if v, ok := s.opt.Set[field]; ok {
			return vntext.Clean(v)
		}
		if col, ok := s.columns[field]; ok {
			return vntext.Clean(values[col])
		}
		return ""
	}
	return f, problems, get, nil
}

// Next returns the next plot, or io.EOF.
func (s *Source) Next() (*registry.ImportPlot, error) {
	f, problems, get, err := s.feature()
	if err != nil {
		return nil, err
	}
	p := &registry.ImportPlot{N: f.N, SRID: s.crs.SRID, Problems: problems}
	p.ExternalID = get("id")
	if p.ExternalID == "" {
		p.ExternalID = f.ID
	}
	if p.ExternalID == "" {
		p.ExternalID = "#" + strconv.Itoa(f.N)
	}
	p.Crop, p.Variety, p.Commune = get("crop"), get("variety"), get("commune")
	p.Sheet, p.Parcel, p.LandCert = get("sheet"), get("parcel"), get("land_cert")
	p.Owner, p.OwnerID = get("owner"), get("owner_id")
	if y := get("planting_year"); y != "" {
		n, err := strconv.ParseFloat(y, 64)
		if err != nil || n != math.Trunc(n) || n < 1900 || n > 2100 {
			p.Problems = append(p.Problems, registry.Detail{Feature: f.N, Field: s.columns["planting_year"], Message: fmt.Sprintf("planting year %q is not a year between 1900 and 2100", y)})
		} else {
			p.PlantingYear = int(n)
		}
	}
	for field, factor := range map[string]float64{"area_ha": 1, "area_m2": 1e-4} {
		if a := get(field); a != "" {
			v, err := strconv.ParseFloat(strings.Replace(a, ",", ".", 1), 64)
			if err != nil || v < 0 || math.IsInf(v, 0) {
				p.Problems = append(p.Problems, registry.Detail{Feature: f.N, Field: s.columns[field], Message: fmt.Sprintf("declared area %q is not a number", a)})
			} else if p.DeclaredAreaHa == 0 {
				p.DeclaredAreaHa = v * factor
			}
		}
	}
	p.WKB, p.Problems, err = s.geometry(f, p.Problems)
	return p, err
}

// geometry checks f's geometry and returns it as WKB, with the problems found added to
// problems; no WKB when there is any.
func (s *Source) geometry(f *importers.Feature, problems []registry.Detail) ([]byte, []registry.Detail, error) {
	mp, msg := polygonal(f.Geometry)
	if msg != "" {
		return nil, append(problems, registry.Detail{Feature: f.N, Field: "geometry", Message: msg}), nil
	}
	for _, pr := range geo.CheckMultiPolygon(mp, s.opt.Geometry, !s.crs.Projected) {
		d := registry.Detail{Feature: f.N, Field: "geometry", Message: pr.Message, Code: pr.Code, Args: pr.Args}
		if pr.Path != "" {
			d.Field = "geometry." + pr.Path
		}
		if pr.Location != nil {
			d.Location = []float64{pr.Location[0], pr.Location[1]}
		}
		problems = append(problems, d)
	}
	if len(problems) > 0 {
		return nil, problems, nil
	}
	b, err := wkb.Marshal(mp)
	return b, problems, err
}

// Boundaries reads a Source opened with LayerAdmin as administrative boundaries; it implements
// registry.BoundarySource.
type Boundaries struct{ *Source }

// Next returns the next boundary, or io.EOF.
func (b Boundaries) Next() (*registry.ImportBoundary, error) {
	f, problems, get, err := b.feature()
	if err != nil {
		return nil, err
	}
	a := &registry.ImportBoundary{N: f.N, SRID: b.crs.SRID, Code: get("code"), Name: get("name")}
	a.WKB, a.Problems, err = b.geometry(f, problems)
	return a, err
}

// polygonal returns g as a MultiPolygon, or why it cannot be a plot.
func polygonal(g orb.Geometry) (orb.MultiPolygon, string) {
	switch g := g.(type) {
	case nil:
		return nil, "the feature has no geometry: a plot needs its boundary polygon"
	case orb.Polygon:
		return orb.MultiPolygon{g}, ""
	case orb.MultiPolygon:
		return g, ""
	case orb.Collection:
		var mp orb.MultiPolygon
		for _, x := range g {
			sub, msg := polygonal(x)
			if msg != "" {
				return nil, "a geometry collection holding a " + strings.ToLower(x.GeoJSONType()) + ": " + msg
			}
			mp = append(mp, sub...)
		}
		return mp, ""
	case orb.Point, orb.MultiPoint:
		return nil, fmt.Sprintf("the geometry is a %s, but a plot needs a polygon (its boundary): import points as --layer facilities", g.GeoJSONType())
	case orb.LineString, orb.MultiLineString:
		return nil, fmt.Sprintf("the geometry is a %s, but a plot needs a polygon: if the line goes around the plot, close it into a polygon", g.GeoJSONType())
	}
	return nil, fmt.Sprintf("the geometry is a %s, but a plot needs a polygon", g.GeoJSONType())
}

// findColumns matches fields to the columns of the first feature: --map first, then the
// recognised names.
func (s *Source) findColumns(props []importers.Prop) map[string]string {
	cols := map[string]string{}
	folded := map[string]string{}
	for _, p := range props {
		folded[strings.ReplaceAll(vntext.Fold(p.Name), " ", "_")] = p.Name
	}
	for field, names := range columnsFor(s.opt) {
		if col, ok := s.opt.Map[field]; ok {
			cols[field] = col
			continue
		}
		for _, n := range names {
			if col, ok := folded[n]; ok {
				cols[field] = col
				break
			}
		}
	}
	return cols
}

// checkCRS refuses a file without a coordinate system whose coordinates are clearly not
// degrees, saying how to name one.
func (s *Source) checkCRS(f *importers.Feature) error {
	if f.Geometry == nil {
		return nil
	}
	b := f.Geometry.Bound()
	// Degrees, or degrees with latitude and longitude swapped (each feature's check names that).
	degrees := math.Abs(b.Min[0]) <= 180 && math.Abs(b.Max[0]) <= 180 && math.Abs(b.Min[1]) <= 180 && math.Abs(b.Max[1]) <= 180
	if named := s.crs.SRID != 0 && !strings.HasSuffix(s.crs.From, "default"); !named && !degrees && s.opt.ProvinceCRS.SRID != 0 {
		s.crs = s.opt.ProvinceCRS
	}
	if s.crs.SRID == 0 {
		s.crs = importers.CRS{SRID: 4326, Name: "WGS 84 (longitude/latitude, assumed: the file names no coordinate system)", From: "default"}
	}
	if s.crs.Projected || degrees {
		return nil
	}
	hint := ""
	if b.Min[0] > 100_000 && b.Max[0] < 900_000 && b.Min[1] > 900_000 && b.Max[1] < 2_700_000 {
		hint = fmt.Sprintf(" They look like VN-2000 metres (x %.0f, y %.0f): name the province with --province (e.g. --province 66 for Đắk Lắk) or the zone with --srs (e.g. --srs EPSG:9218).", b.Min[0], b.Min[1])
	}
	return importers.Errorf(fmt.Sprintf("feature %d", f.N), "coordinates (%.1f, %.1f) are not longitude/latitude degrees, and the file names no coordinate system (no .prj).%s", b.Min[0], b.Min[1], hint)
}

// Facilities reads a Source opened with LayerFacilities as facilities; it implements
// registry.FacilitySource.
type Facilities struct{ *Source }

// facilityKinds maps the ways files name a kind (folded) to the registry's kinds.
var facilityKinds = map[string]string{
	"livestock": registry.FacilityLivestock, "chan nuoi": registry.FacilityLivestock, "trang trai": registry.FacilityLivestock,
	"co so chan nuoi": registry.FacilityLivestock, "trai": registry.FacilityLivestock, "livestock facility": registry.FacilityLivestock,
	"feed mill": registry.FacilityFeedMill, "feed": registry.FacilityFeedMill, "thuc an chan nuoi": registry.FacilityFeedMill,
	"nha may thuc an": registry.FacilityFeedMill, "co so thuc an chan nuoi": registry.FacilityFeedMill,
	"packing house": registry.FacilityPackingHouse, "dong goi": registry.FacilityPackingHouse,
	"co so dong goi": registry.FacilityPackingHouse, "nha dong goi": registry.FacilityPackingHouse,
}

// Next returns the next facility, or io.EOF.
func (fs Facilities) Next() (*registry.ImportFacility, error) {
	f, problems, get, err := fs.feature()
	if err != nil {
		return nil, err
	}
	a := &registry.ImportFacility{N: f.N, SRID: fs.crs.SRID, ExternalID: get("id"), Name: get("name"), Address: get("address"),
		Code: get("code"), Commune: get("commune")}
	if a.ExternalID == "" {
		a.ExternalID = f.ID
	}
	if a.ExternalID == "" {
		a.ExternalID = "#" + strconv.Itoa(f.N)
	}
	kind := get("kind")
	if a.Kind = facilityKinds[strings.ReplaceAll(vntext.Fold(kind), "_", " ")]; a.Kind == "" {
		msg := fmt.Sprintf("kind %q is not a facility kind: write livestock (chăn nuôi), feed_mill (thức ăn chăn nuôi) or packing_house (đóng gói)", kind)
		if kind == "" {
			msg = "no kind: name the column with --map kind=COLUMN, or give every facility one with --set kind=livestock (or feed_mill, packing_house)"
		}
		problems = append(problems, registry.Detail{Feature: f.N, Field: cmpOr(fs.columns["kind"], "kind"), Message: msg})
	}
	pt, ok := f.Geometry.(orb.Point)
	switch {
	case f.Geometry == nil:
		problems = append(problems, registry.Detail{Feature: f.N, Field: "geometry", Message: "the feature has no geometry: a facility needs its location (a point, or longitude/latitude columns in a CSV)"})
	case !ok:
		problems = append(problems, registry.Detail{Feature: f.N, Field: "geometry", Message: fmt.Sprintf("the geometry is a %s, but a facility is a point (its location)", f.Geometry.GeoJSONType())})
	case math.IsNaN(pt[0]) || math.IsNaN(pt[1]) || math.IsInf(pt[0], 0) || math.IsInf(pt[1], 0):
		problems = append(problems, registry.Detail{Feature: f.N, Field: "geometry", Message: "a coordinate is not a finite number"})
	}
	if len(problems) > 0 {
		a.Problems = problems
		return a, nil
	}
	a.WKB, err = wkb.Marshal(pt)
	return a, err
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
