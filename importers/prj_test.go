package importers

import (
	"strings"
	"testing"
)

func TestParsePrj(t *testing.T) {
	for _, tc := range []struct {
		name, prj string
		srid      int
		err       string
	}{
		{"ArcGIS VN-2000 TM-3 107°45'", `PROJCS["VN_2000_TM-3_107-45",GEOGCS["GCS_VN_2000",DATUM["D_Vietnam_2000",SPHEROID["WGS_1984",6378137.0,298.257223563]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]],PROJECTION["Transverse_Mercator"],PARAMETER["False_Easting",500000.0],PARAMETER["False_Northing",0.0],PARAMETER["Central_Meridian",107.75],PARAMETER["Scale_Factor",0.9999],PARAMETER["Latitude_Of_Origin",0.0],UNIT["Meter",1.0]]`, 996465, ""},
		{"GDAL from a PROJ string", `PROJCS["unknown",GEOGCS["GCS_unknown",DATUM["D_Unknown_based_on_WGS84_ellipsoid_using_towgs84_-191_90441429_-39_30318279_-111_45032835_0_00928836_-0_01975479_0_00427372_0_252906278",SPHEROID["WGS_1984",6378137.0,298.257223563]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]],PROJECTION["Transverse_Mercator"],PARAMETER["False_Easting",500000.0],PARAMETER["False_Northing",0.0],PARAMETER["Central_Meridian",108.5],PARAMETER["Scale_Factor",0.9999],PARAMETER["Latitude_Of_Origin",0.0],UNIT["Meter",1.0]]`, 996510, ""},
		{"WGS 84", `GEOGCS["GCS_WGS_1984",DATUM["D_WGS_1984",SPHEROID["WGS_1984",6378137.0,298.257223563]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]]`, 4326, ""},
		{"UTM 48N", `PROJCS["WGS_1984_UTM_Zone_48N",GEOGCS["GCS_WGS_1984",DATUM["D_WGS_1984",SPHEROID["WGS_1984",6378137.0,298.257223563]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]],PROJECTION["Transverse_Mercator"],PARAMETER["False_Easting",500000.0],PARAMETER["False_Northing",0.0],PARAMETER["Central_Meridian",105.0],PARAMETER["Scale_Factor",0.9996],PARAMETER["Latitude_Of_Origin",0.0],UNIT["Meter",1.0]]`, 32648, ""},
		{"TM-3 without datum shift", `PROJCS["x",GEOGCS["GCS_WGS_1984",DATUM["D_WGS_1984",SPHEROID["WGS_1984",6378137.0,298.257223563]]],PROJECTION["Transverse_Mercator"],PARAMETER["False_Easting",500000.0],PARAMETER["False_Northing",0.0],PARAMETER["Central_Meridian",108.5],PARAMETER["Scale_Factor",0.9999],PARAMETER["Latitude_Of_Origin",0.0],UNIT["Meter",1.0]]`, 0, "220 m"},
		{"not WKT", `hello`, 0, "cannot read"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			crs, err := ParsePrj(tc.prj)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Errorf("err %v, want it to say %q", err, tc.err)
				}
				return
			}
			if err != nil || crs.SRID != tc.srid {
				t.Errorf("%+v %v, want SRID %d", crs, err, tc.srid)
			}
		})
	}
}

func FuzzParsePrj(f *testing.F) {
	f.Add(`PROJCS["a",GEOGCS["b",DATUM["D_Vietnam_2000",SPHEROID["c",1,2]]],PROJECTION["Transverse_Mercator"],PARAMETER["Central_Meridian",108.5]]`)
	f.Fuzz(func(t *testing.T, s string) {
		crs, err := ParsePrj(s)
		if err == nil && crs.SRID == 0 {
			t.Fatal("no error and no SRID")
		}
	})
}
