package importers

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode"

	"github.com/vungtrong/vungtrong/geo"
)

// wkt is a node of a WKT coordinate system: KEYWORD["name", children or numbers...].
type wkt struct {
	key  string
	args []any // string, float64 or *wkt
}

func (n *wkt) name() string {
	if len(n.args) > 0 {
		if s, ok := n.args[0].(string); ok {
			return s
		}
	}
	return ""
}

func (n *wkt) child(key string) *wkt {
	for _, a := range n.args {
		if c, ok := a.(*wkt); ok && strings.EqualFold(c.key, key) {
			return c
		}
	}
	return nil
}

// find returns the first node with key anywhere below n.
func (n *wkt) find(key string) *wkt {
	for _, a := range n.args {
		if c, ok := a.(*wkt); ok {
			if strings.EqualFold(c.key, key) {
				return c
			}
			if f := c.find(key); f != nil {
				return f
			}
		}
	}
	return nil
}

func (n *wkt) numbers() []float64 {
	var out []float64
	for _, a := range n.args {
		if f, ok := a.(float64); ok {
			out = append(out, f)
		}
	}
	return out
}

// param returns the value of PARAMETER[name, value], matching names loosely
// ("Central_Meridian", "central meridian").
func (n *wkt) param(name string) (float64, bool) {
	for _, a := range n.args {
		if c, ok := a.(*wkt); ok && strings.EqualFold(c.key, "PARAMETER") && looseEq(c.name(), name) {
			if v := c.numbers(); len(v) > 0 {
				return v[0], true
			}
		}
	}
	return 0, false
}

func looseEq(a, b string) bool { return loose(a) == loose(b) }

func loose(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			return unicode.ToLower(r)
		}
		return -1
	}, s)
}

type wktParser struct {
	s   string
	pos int
}

func parseWKT(s string) (*wkt, error) {
	p := &wktParser{s: strings.TrimSpace(strings.TrimPrefix(s, "\ufeff"))}
	n, err := p.node(0)
	if err != nil {
		return nil, err
	}
	return n, nil
}

func (p *wktParser) skip() {
	for p.pos < len(p.s) && (p.s[p.pos] == ' ' || p.s[p.pos] == '\n' || p.s[p.pos] == '\r' || p.s[p.pos] == '\t') {
		p.pos++
	}
}

func (p *wktParser) node(depth int) (*wkt, error) {
	if depth > 20 {
		return nil, fmt.Errorf("nested too deeply")
	}
	p.skip()
	start := p.pos
	for p.pos < len(p.s) && (unicode.IsLetter(rune(p.s[p.pos])) || unicode.IsDigit(rune(p.s[p.pos])) || p.s[p.pos] == '_') {
		p.pos++
	}
	n := &wkt{key: p.s[start:p.pos]}
	p.skip()
	if n.key == "" || p.pos >= len(p.s) || (p.s[p.pos] != '[' && p.s[p.pos] != '(') {
		return nil, fmt.Errorf("expected KEYWORD[ at character %d", p.pos+1)
	}
	closer := byte(']')
	if p.s[p.pos] == '(' {
		closer = ')'
	}
	p.pos++
	for {
		p.skip()
		if p.pos >= len(p.s) {
			return nil, fmt.Errorf("%s[ is not closed", n.key)
		}
		switch c := p.s[p.pos]; {
		case c == closer:
			p.pos++
			return n, nil
		case c == ',':
			p.pos++
		case c == '"':
			end := strings.IndexByte(p.s[p.pos+1:], '"')
			if end < 0 {
				return nil, fmt.Errorf("a quoted name is not closed")
			}
			n.args = append(n.args, p.s[p.pos+1:p.pos+1+end])
			p.pos += end + 2
		case c == '-' || c == '+' || c == '.' || (c >= '0' && c <= '9'):
			start := p.pos
			for p.pos < len(p.s) && strings.IndexByte("+-.0123456789eE", p.s[p.pos]) >= 0 {
				p.pos++
			}
			f, err := strconv.ParseFloat(p.s[start:p.pos], 64)
			if err != nil {
				return nil, fmt.Errorf("bad number %q", p.s[start:p.pos])
			}
			n.args = append(n.args, f)
		default:
			child, err := p.node(depth + 1)
			if err != nil {
				return nil, err
			}
			n.args = append(n.args, child)
		}
	}
}

// ParsePrj recognises the coordinate system of an ESRI .prj (or OGC WKT 1) text: WGS 84,
// WGS 84 / UTM 48N-49N, Web Mercator, and VN-2000 (geographic, UTM, or any provincial TM-3
// zone, recognised by its datum and central meridian and mapped to the registry's own SRIDs,
// which carry the official datum shift).
func ParsePrj(text string) (CRS, error) {
	root, err := parseWKT(text)
	if err != nil {
		return CRS{}, Errorf(".prj", "cannot read the coordinate system (%v)", err)
	}
	datum := ""
	if d := root.find("DATUM"); d != nil {
		datum = d.name()
	}
	var shift []float64
	if t := root.find("TOWGS84"); t != nil {
		shift = t.numbers()
	}
	vn2000, err := isVN2000(datum, shift)
	if err != nil {
		return CRS{}, err
	}
	wgs84 := !vn2000 && (looseEq(datum, "D_WGS_1984") || looseEq(datum, "WGS_1984") || looseEq(datum, "WGS84") || looseEq(datum, "World Geodetic System 1984"))
	switch strings.ToUpper(root.key) {
	case "GEOGCS", "GEOGCRS":
		switch {
		case vn2000:
			return CRS{SRID: geo.SRIDVN2000Geographic, Name: "VN-2000 (longitude/latitude)", From: ".prj"}, nil
		case wgs84:
			return CRS{SRID: 4326, Name: "WGS 84 (longitude/latitude)", From: ".prj"}, nil
		}
		return CRS{}, Errorf(".prj", "the geographic coordinate system on datum %q is not one the registry knows (WGS 84 or VN-2000): name it with --srs", datum)
	case "PROJCS", "PROJCRS":
	default:
		return CRS{}, Errorf(".prj", "%s is not a coordinate system definition", root.key)
	}
	proj := ""
	if p := root.child("PROJECTION"); p != nil {
		proj = loose(p.name())
	}
	if strings.Contains(proj, "mercator") && (strings.Contains(loose(root.name()), "pseudo") || strings.Contains(proj, "auxiliary") || strings.Contains(proj, "popular")) {
		return CRS{SRID: 3857, Name: "WGS 84 / Pseudo-Mercator", From: ".prj", Projected: true}, nil
	}
	if proj != "transversemercator" {
		return CRS{}, Errorf(".prj", "projection %q is not one the registry knows (Transverse Mercator: VN-2000 TM-3 or UTM): name the coordinate system with --srs", proj)
	}
	cm, _ := root.param("central_meridian")
	k, okK := root.param("scale_factor")
	fe, _ := root.param("false_easting")
	fn, _ := root.param("false_northing")
	lat0, _ := root.param("latitude_of_origin")
	if u := root.child("UNIT"); u != nil {
		if v := u.numbers(); len(v) > 0 && math.Abs(v[0]-1) > 1e-9 {
			return CRS{}, Errorf(".prj", "the unit is %q, not metres: name the coordinate system with --srs", u.name())
		}
	}
	if fe != 500000 || fn != 0 || lat0 != 0 || !okK {
		return CRS{}, Errorf(".prj", "Transverse Mercator with false easting %g, false northing %g, latitude of origin %g is not a VN-2000 or UTM zone: name it with --srs", fe, fn, lat0)
	}
	switch {
	case vn2000 && math.Abs(k-0.9999) < 1e-9:
		srid, ok := geo.VN2000TM3SRID(cm)
		if !ok {
			return CRS{}, Errorf(".prj", "VN-2000 TM-3 zone with central meridian %g° is not a provincial zone of Vietnam: check the .prj or name the zone with --province", cm)
		}
		return CRS{SRID: srid, Name: "VN-2000 / TM-3 " + geo.FormatMeridian(cm), From: ".prj", Projected: true}, nil
	case vn2000 && math.Abs(k-0.9996) < 1e-9:
		if srid, ok := geo.VN2000UTMSRID(cm); ok {
			return CRS{SRID: srid, Name: fmt.Sprintf("VN-2000 / UTM zone %dN", srid-geo.SRIDVN2000Geographic), From: ".prj", Projected: true}, nil
		}
	case wgs84 && math.Abs(k-0.9996) < 1e-9 && (cm == 105 || cm == 111):
		zone := 48 + int(cm-105)/6
		return CRS{SRID: 32600 + zone, Name: fmt.Sprintf("WGS 84 / UTM zone %dN", zone), From: ".prj", Projected: true}, nil
	case wgs84 && math.Abs(k-0.9999) < 1e-9:
		if _, ok := geo.VN2000TM3SRID(cm); ok {
			return CRS{}, Errorf(".prj", "a TM-3 zone (central meridian %s, k=0.9999) on plain WGS 84 without a datum shift: this is almost always VN-2000 written without its datum, which lands about 220 m off; name it with --province or --srs", geo.FormatMeridian(cm))
		}
	}
	return CRS{}, Errorf(".prj", "Transverse Mercator on datum %q with central meridian %g and scale %g is not a zone the registry knows: name it with --srs", datum, cm, k)
}

// isVN2000 recognises the VN-2000 datum by name, or by a datum shift equal to the official one
// (GDAL writes the shift into the datum's name). A VN-2000 datum with a different shift is
// refused: it would land metres off.
func isVN2000(datum string, shift []float64) (bool, error) {
	l := loose(datum)
	named := strings.Contains(l, "vn2000") || strings.Contains(l, "vietnam2000")
	official := []float64{-191.90441429, -39.30318279, -111.45032835, 0.00928836, -0.01975479, 0.00427372, 0.252906278}
	if len(shift) == 0 && strings.Contains(l, "towgs84") {
		// GDAL: D_Unknown_based_on_WGS84_ellipsoid_using_towgs84_-191_90441429_-39_30318279_...
		i := strings.Index(strings.ToLower(datum), "towgs84_")
		parts := strings.Split(datum[i+len("towgs84_"):], "_")
		for j := 0; j+1 < len(parts); j += 2 {
			f, err := strconv.ParseFloat(parts[j]+"."+parts[j+1], 64)
			if err != nil {
				break
			}
			shift = append(shift, f)
		}
	}
	if len(shift) == 0 {
		return named, nil
	}
	if len(shift) == 7 || len(shift) == 3 {
		same := true
		for i, v := range shift {
			if math.Abs(v-official[i]) > 1e-6 {
				same = false
			}
		}
		if same && len(shift) == 7 {
			return true, nil
		}
	}
	if named {
		return false, Errorf(".prj", "the VN-2000 datum here carries the shift %v, not the official one of Decision 05/2007/QĐ-BTNMT: name the zone with --province to use the official shift, or --srs to keep this one", shift)
	}
	return false, nil
}

// EPSG returns the coordinate system of an EPSG code. EPSG's VN-2000 codes become the
// registry's own SRIDs with the official datum shift; other codes are used as PostGIS knows them.
func EPSG(code int, from string) (CRS, error) {
	switch code {
	case 4326:
		return CRS{SRID: 4326, Name: "WGS 84 (longitude/latitude)", From: from}, nil
	case 3857, 900913:
		return CRS{SRID: 3857, Name: "WGS 84 / Pseudo-Mercator", From: from, Projected: true}, nil
	case 32648, 32649:
		return CRS{SRID: code, Name: fmt.Sprintf("WGS 84 / UTM zone %dN", code-32600), From: from, Projected: true}, nil
	}
	if code <= 0 {
		return CRS{}, Errorf(from, "%d is not an EPSG code", code)
	}
	if own := geo.EPSGToOwn(code); own != code {
		for _, r := range geo.SpatialRefs() {
			if r.SRID == own {
				return CRS{SRID: own, Name: r.Name + fmt.Sprintf(" (EPSG:%d with the official datum shift)", code), From: from, Projected: own != geo.SRIDVN2000Geographic}, nil
			}
		}
	}
	return CRS{SRID: code, Name: fmt.Sprintf("EPSG:%d", code), From: from, Projected: code < 4000 || code >= 5000}, nil
}

// ProvinceCRS returns the VN-2000 TM-3 zone of the 2004-list provinces oldCodes (the provinces a
// 2025 province was formed from): their common central meridian. label names the province in
// messages. Provinces on different meridians need the old province or --srs.
func ProvinceCRS(oldCodes []string, label string) (CRS, error) {
	byCode := map[string]geo.VN2000Province{}
	for _, p := range geo.VN2000Provinces() {
		byCode[p.Code] = p
	}
	var meridian float64
	var parts []string
	differ := false
	for i, c := range oldCodes {
		p, ok := byCode[c]
		if !ok {
			return CRS{}, Errorf("--province", "province %s has no VN-2000 zone in the table", c)
		}
		parts = append(parts, fmt.Sprintf("%s %s (central meridian %s)", p.Code, p.Name, geo.FormatMeridian(p.Meridian)))
		if i > 0 && p.Meridian != meridian {
			differ = true
		}
		meridian = p.Meridian
	}
	if len(parts) == 0 {
		return CRS{}, Errorf("--province", "no VN-2000 zone for %s", label)
	}
	if differ {
		return CRS{}, Errorf("--province", "%s was formed from provinces on different VN-2000 meridians: %s; name the old province the survey was made in (e.g. --province %s) or the zone with --srs",
			label, strings.Join(parts, ", "), oldCodes[0])
	}
	srid, _ := geo.VN2000TM3SRID(meridian)
	return CRS{SRID: srid, Name: "VN-2000 / TM-3 " + geo.FormatMeridian(meridian), From: "--province " + label, Projected: true}, nil
}

// ParseSRS reads --srs: an EPSG code ("EPSG:9218", "9218"), a .prj file's path, or its text.
// A PROJ string is returned in proj4 for the database to register.
func ParseSRS(s string, readFile func(string) ([]byte, error)) (crs CRS, proj4 string, err error) {
	s = strings.TrimSpace(s)
	upper := strings.ToUpper(s)
	switch {
	case strings.HasPrefix(s, "+proj=") || strings.Contains(s, " +proj="):
		return CRS{Name: "PROJ " + s, From: "--srs", Projected: !strings.Contains(s, "+proj=longlat")}, s, nil
	case strings.HasPrefix(upper, "EPSG:") || isDigits(s):
		code, err := strconv.Atoi(strings.TrimPrefix(upper, "EPSG:"))
		if err != nil {
			return CRS{}, "", Errorf("--srs", "%q is not an EPSG code", s)
		}
		c, err := EPSG(code, "--srs")
		return c, "", err
	case strings.HasPrefix(upper, "PROJCS[") || strings.HasPrefix(upper, "GEOGCS["):
		c, err := ParsePrj(s)
		c.From = "--srs"
		return c, "", err
	case strings.HasSuffix(strings.ToLower(s), ".prj"):
		b, err := readFile(s)
		if err != nil {
			return CRS{}, "", Errorf("--srs", "cannot read %s: %v", s, err)
		}
		c, err := ParsePrj(string(b))
		c.From = "--srs " + s
		return c, "", err
	}
	return CRS{}, "", Errorf("--srs", "%q is not an EPSG code (EPSG:9218), a PROJ string (+proj=...) or a .prj file", s)
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}
