package gpx

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/paulmach/orb"
	"github.com/vungtrong/vungtrong/importers"
)

func all(r io.Reader) ([]*importers.Feature, error) {
	return importers.ReadAll(NewDecoder(r, Options{Limits: importers.DefaultLimits()}))
}

// A walk around a plot whose last fix is 3 m from the first, and one that stops half-way.
const walks = `<?xml version="1.0" encoding="UTF-8"?>
<gpx version="1.1" creator="OsmAnd" xmlns="http://www.topografix.com/GPX/1/1">
 <wpt lat="12.68" lon="108.05"><name>cổng</name></wpt>
 <trk><name>Thửa 345</name><trkseg>
  <trkpt lat="12.68" lon="108.05"/><trkpt lat="12.6801" lon="108.0511"/><trkpt lat="12.681" lon="108.0512"/>
  <trkpt lat="12.6809" lon="108.0499"/><trkpt lat="12.68002" lon="108.05001"/>
 </trkseg></trk>
 <trk><name>dở dang</name><trkseg>
  <trkpt lat="12.68" lon="108.05"/><trkpt lat="12.6801" lon="108.0511"/><trkpt lat="12.681" lon="108.0512"/>
 </trkseg></trk>
</gpx>`

func TestClosedWalkBecomesPolygon(t *testing.T) {
	fs, err := all(strings.NewReader(walks))
	if err != nil || len(fs) != 2 {
		t.Fatalf("%d, %v", len(fs), err)
	}
	mp, ok := fs[0].Geometry.(orb.MultiPolygon)
	if !ok || len(mp[0][0]) != 6 || mp[0][0][0] != mp[0][0][5] || len(fs[0].Problems) > 0 {
		t.Errorf("closed walk: %v %v", fs[0].Geometry, fs[0].Problems)
	}
	if len(fs[1].Problems) == 0 || !strings.Contains(fs[1].Problems[0].Message, "m from where it started") {
		t.Errorf("open walk: %v", fs[1].Problems)
	}
}

func FuzzDecoder(f *testing.F) {
	f.Add([]byte(walks))
	f.Add([]byte(`<gpx><rte><rtept lat="1" lon="2"/></rte></gpx>`))
	f.Fuzz(func(t *testing.T, b []byte) {
		_, err := all(bytes.NewReader(b))
		if err != nil {
			var fe *importers.FileError
			if !errors.As(err, &fe) {
				t.Fatalf("error %T %v is not a FileError", err, err)
			}
		}
	})
}
