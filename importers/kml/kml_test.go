package kml

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/paulmach/orb"
	"github.com/vungtrong/vungtrong/importers"
)

// googleEarth is a KML as Google Earth Pro saves it: nested Folders, a style, ExtendedData with
// Data, a Polygon with a hole, and a MultiGeometry of two polygons with heights.
const googleEarth = `<?xml version="1.0" encoding="UTF-8"?>
<kml xmlns="http://www.opengis.net/kml/2.2" xmlns:gx="http://www.google.com/kml/ext/2.2" xmlns:kml="http://www.opengis.net/kml/2.2" xmlns:atom="http://www.w3.org/2005/Atom">
<Document>
	<name>Khảo sát Ea Kiết.kml</name>
	<Style id="s_ylw-pushpin"><LineStyle><color>ff00ffff</color></LineStyle></Style>
	<Folder>
		<name>Thôn 3</name>
		<Folder>
			<name>Cà phê</name>
			<Placemark>
				<name>Nguyễn Văn Đức</name>
				<styleUrl>#s_ylw-pushpin</styleUrl>
				<ExtendedData><Data name="SO_THUA"><value>345</value></Data><Data name="CAY_TRONG"><value>Cà phê</value></Data></ExtendedData>
				<Polygon><tessellate>1</tessellate>
					<outerBoundaryIs><LinearRing><coordinates>
						108.05,12.68,0 108.0511,12.6801,0 108.0512,12.681,0 108.0499,12.6809,0 108.05,12.68,0
					</coordinates></LinearRing></outerBoundaryIs>
					<innerBoundaryIs><LinearRing><coordinates>108.0503,12.6803,0 108.0504,12.6803,0 108.0504,12.6804,0 108.0503,12.6803,0</coordinates></LinearRing></innerBoundaryIs>
				</Polygon>
			</Placemark>
		</Folder>
		<Placemark id="p2">
			<name>Trần Thị Hồng</name>
			<MultiGeometry>
				<Polygon><outerBoundaryIs><LinearRing><coordinates>108.06,12.68 108.0611,12.6801 108.0612,12.681 108.06,12.68</coordinates></LinearRing></outerBoundaryIs></Polygon>
				<Polygon><outerBoundaryIs><LinearRing><coordinates>108.07,12.68 108.0711,12.6801 108.0712,12.681 108.07,12.68</coordinates></LinearRing></outerBoundaryIs></Polygon>
			</MultiGeometry>
		</Placemark>
	</Folder>
</Document>
</kml>`

func all(r io.Reader) ([]*importers.Feature, error) {
	return importers.ReadAll(NewDecoder(r, importers.DefaultLimits()))
}

func TestGoogleEarthKML(t *testing.T) {
	fs, err := all(strings.NewReader(googleEarth))
	if err != nil || len(fs) != 2 {
		t.Fatalf("%d placemarks, %v", len(fs), err)
	}
	props := map[string]string{}
	for _, p := range fs[0].Props {
		props[p.Name] = p.Value
	}
	if props["name"] != "Nguyễn Văn Đức" || props["SO_THUA"] != "345" || props["folder"] != "Khảo sát Ea Kiết.kml / Thôn 3 / Cà phê" {
		t.Errorf("props %v", props)
	}
	mp := fs[0].Geometry.(orb.MultiPolygon)
	if len(mp) != 1 || len(mp[0]) != 2 || len(mp[0][0]) != 5 {
		t.Errorf("the polygon with its hole: %v", mp)
	}
	if mp := fs[1].Geometry.(orb.MultiPolygon); len(mp) != 2 || fs[1].ID != "p2" {
		t.Errorf("MultiGeometry: %v id %q", mp, fs[1].ID)
	}
}

func TestEntitiesAreRefused(t *testing.T) {
	_, err := all(strings.NewReader(`<?xml version="1.0"?><!DOCTYPE kml [<!ENTITY a "aaaa">]><kml><Document><Placemark><name>&a;</name></Placemark></Document></kml>`))
	if err == nil || !strings.Contains(err.Error(), "entities") {
		t.Errorf("err %v, want entity declarations refused", err)
	}
	_, err = all(strings.NewReader(`<kml><Document><Placemark><name>&a;</name></Placemark></Document></kml>`))
	if err == nil || !strings.Contains(err.Error(), "entity") {
		t.Errorf("err %v, want an undeclared entity refused", err)
	}
}

func FuzzDecoder(f *testing.F) {
	f.Add([]byte(googleEarth))
	f.Add([]byte(`<kml><Placemark><MultiGeometry><MultiGeometry><Point><coordinates>1,2</coordinates></Point></MultiGeometry></MultiGeometry></Placemark></kml>`))
	f.Fuzz(func(t *testing.T, b []byte) {
		fs, err := all(bytes.NewReader(b))
		if err != nil {
			var fe *importers.FileError
			if !errors.As(err, &fe) {
				t.Fatalf("error %T %v is not a FileError", err, err)
			}
		}
		for i, f := range fs {
			if f.N != i+1 {
				t.Fatalf("placemark numbered %d, want %d", f.N, i+1)
			}
		}
	})
}
