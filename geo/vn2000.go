package geo

import (
	"fmt"
	"math"
	"sort"
	"strings"
)

// VN-2000 is the national datum of Vietnam's surveys and cadastre. It differs from WGS 84 by a
// 7-parameter Helmert shift (Decision 05/2007/QĐ-BTNMT), and provincial maps use a Transverse
// Mercator zone 3° wide (k = 0.9999, false easting 500 km) on the province's own central
// meridian. EPSG's own VN-2000 codes are not enough: some carry older shift parameters and
// EPSG:9205-9218 are missing from PostGIS 3.3. The registry registers its own SRIDs, with the
// official shift, in spatial_ref_sys (migration 0011); the numbering is defined here.

// VN2000ToWGS84 is the official datum shift written for PROJ (position-vector signs).
const VN2000ToWGS84 = "-191.90441429,-39.30318279,-111.45032835,0.00928836,-0.01975479,0.00427372,0.252906278"

// SRIDs of the registry's own spatial references.
const (
	// SRIDVN2000Geographic is VN-2000 longitude/latitude.
	SRIDVN2000Geographic = 990000
	// sridVN2000UTMBase + zone is VN-2000 / UTM zone 48N or 49N (k = 0.9996).
	sridVN2000UTMBase = 990000
	// sridVN2000TM3Base + the central meridian in minutes of arc is a VN-2000 TM-3 zone:
	// 108°30' is 990000 + 6510 = 996510.
	sridVN2000TM3Base = 990000
)

// VN2000Province is a province of the 2004 scheme and its VN-2000 central meridian in degrees.
type VN2000Province struct {
	Code     string
	Name     string
	Meridian float64
	// EPSG is EPSG's code for the zone (its datum shift may differ from the official one).
	EPSG int
}

// VN2000Provinces returns the 63 provinces of the 2004 scheme with their central meridians.
func VN2000Provinces() []VN2000Province { return append([]VN2000Province(nil), vn2000Provinces...) }

// SpatialRef is one of the registry's own spatial references.
type SpatialRef struct {
	SRID  int
	Name  string
	Proj4 string
}

// VN2000TM3SRID returns the registry's SRID of the VN-2000 TM-3 zone with central meridian
// meridian (degrees), and whether Vietnam has such a provincial zone.
func VN2000TM3SRID(meridian float64) (int, bool) {
	minutes := math.Round(meridian * 60)
	if math.Abs(minutes-meridian*60) > 1e-6 {
		return 0, false
	}
	for _, p := range vn2000Provinces {
		if math.Round(p.Meridian*60) == minutes {
			return sridVN2000TM3Base + int(minutes), true
		}
	}
	return 0, false
}

// VN2000UTMSRID returns the SRID of VN-2000 / UTM zone 48N or 49N (central meridian 105° or 111°).
func VN2000UTMSRID(meridian float64) (int, bool) {
	switch meridian {
	case 105:
		return sridVN2000UTMBase + 48, true
	case 111:
		return sridVN2000UTMBase + 49, true
	}
	return 0, false
}

// SpatialRefs returns every spatial reference the registry registers: VN-2000 geographic,
// VN-2000 UTM 48N and 49N, and one TM-3 zone per provincial central meridian.
func SpatialRefs() []SpatialRef {
	refs := []SpatialRef{{SRID: SRIDVN2000Geographic, Name: "VN-2000 (geographic)",
		Proj4: "+proj=longlat +ellps=WGS84 +towgs84=" + VN2000ToWGS84 + " +no_defs"}}
	for _, zone := range []int{48, 49} {
		refs = append(refs, SpatialRef{SRID: sridVN2000UTMBase + zone, Name: fmt.Sprintf("VN-2000 / UTM zone %dN", zone),
			Proj4: fmt.Sprintf("+proj=utm +zone=%d +ellps=WGS84 +towgs84=%s +units=m +no_defs", zone, VN2000ToWGS84)})
	}
	seen := map[int]bool{}
	for _, p := range vn2000Provinces {
		srid, _ := VN2000TM3SRID(p.Meridian)
		if seen[srid] {
			continue
		}
		seen[srid] = true
		refs = append(refs, SpatialRef{SRID: srid, Name: "VN-2000 / TM-3 " + FormatMeridian(p.Meridian), Proj4: VN2000TM3Proj4(p.Meridian)})
	}
	sort.Slice(refs, func(i, j int) bool { return refs[i].SRID < refs[j].SRID })
	return refs
}

// VN2000TM3Proj4 returns the PROJ string of the VN-2000 TM-3 zone on meridian.
func VN2000TM3Proj4(meridian float64) string {
	return fmt.Sprintf("+proj=tmerc +lat_0=0 +lon_0=%s +k=0.9999 +x_0=500000 +y_0=0 +ellps=WGS84 +towgs84=%s +units=m +no_defs",
		strings.TrimSuffix(strings.TrimRight(fmt.Sprintf("%.4f", meridian), "0"), "."), VN2000ToWGS84)
}

// FormatMeridian writes a meridian as surveyors do: 108°30'.
func FormatMeridian(deg float64) string {
	m := int(math.Round(deg * 60))
	return fmt.Sprintf("%d°%02d'", m/60, m%60)
}

// VN2000ProvincesOnMeridian lists the 2004-scheme provinces whose zone has central meridian deg.
func VN2000ProvincesOnMeridian(deg float64) []string {
	var names []string
	for _, p := range vn2000Provinces {
		if math.Round(p.Meridian*60) == math.Round(deg*60) {
			names = append(names, p.Name)
		}
	}
	return names
}

// EPSGToOwn maps EPSG's VN-2000 codes (geographic 4756, UTM 3405/3406, TM-3 5896-5899 and
// 9205-9218) to the registry's SRIDs with the official datum shift, and returns other codes as
// they are.
func EPSGToOwn(code int) int {
	switch code {
	case 4756:
		return SRIDVN2000Geographic
	case 3405:
		return sridVN2000UTMBase + 48
	case 3406:
		return sridVN2000UTMBase + 49
	}
	for _, p := range vn2000Provinces {
		if p.EPSG == code {
			srid, _ := VN2000TM3SRID(p.Meridian)
			return srid
		}
	}
	return code
}
