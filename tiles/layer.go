package tiles

import "slices"

// Layer describes one tile layer: its name (also the MVT layer name), zooms, the attributes it
// may carry (a whitelist: nothing else leaves the database in a tile), and which registry
// changes make its tiles stale. Every layer is public: no tile carries personal data.
type Layer struct {
	Name        string
	Description string
	MinZoom     int
	MaxZoom     int
	// Geometry is "polygon", "line" or "point".
	Geometry string
	// Fields are the attributes and their TileJSON types ("String" or "Number").
	Fields map[string]string
	// ChangedBy lists the kinds of registry change that touch the layer ("plot", ...).
	ChangedBy []string
	// Margin is how far (in MVT units) a change reaches into neighbouring tiles: the tile
	// buffer, plus how far a feature can sit from what changed (a density point moves within
	// its cell).
	Margin int
}

// Layers are the tile layers, in drawing order.
var Layers = []Layer{
	{Name: "provinces", Description: "Province boundaries (2025 units, where loaded)", MinZoom: 4, MaxZoom: 14, Geometry: "polygon",
		Fields: map[string]string{"code": "String", "name": "String"}, ChangedBy: []string{"province"}, Margin: 16},
	{Name: "communes", Description: "Commune boundaries (2025 units, where loaded)", MinZoom: 8, MaxZoom: 14, Geometry: "polygon",
		Fields: map[string]string{"code": "String", "name": "String", "province_code": "String"}, ChangedBy: []string{"commune"}, Margin: 16},
	{Name: "plot_density", Description: "Plots per cell of a 32 x 32 grid per tile, where single plots are smaller than a pixel", MinZoom: 6, MaxZoom: 11, Geometry: "point",
		Fields: map[string]string{"plots": "Number", "area_ha": "Number"}, ChangedBy: []string{"plot"}, Margin: 64 + Extent/32},
	{Name: "plots", Description: "Farm plots", MinZoom: 12, MaxZoom: 16, Geometry: "polygon",
		Fields: map[string]string{"crop": "String", "area_ha": "Number", "risk": "String"}, ChangedBy: []string{"plot"}, Margin: 64},
	{Name: "growing_areas", Description: "Growing areas (vùng trồng) with the status of their codes per market", MinZoom: 6, MaxZoom: 16, Geometry: "polygon",
		Fields: map[string]string{"name": "String", "crops": "String", "plots": "Number", "area_ha": "Number", "status": "String",
			"active": "String", "suspended": "String", "pending": "String", "expired": "String"}, ChangedBy: []string{"plot", "growing_area"}, Margin: 64},
	{Name: "packing_houses", Description: "Packing houses with the markets of their active codes", MinZoom: 8, MaxZoom: 14, Geometry: "point",
		Fields: map[string]string{"name": "String", "status": "String", "active": "String"}, ChangedBy: []string{"packing_house"}, Margin: 64},
	{Name: "livestock", Description: "Livestock facilities by scale class", MinZoom: 8, MaxZoom: 14, Geometry: "point",
		Fields: map[string]string{"scale": "String", "species": "String", "animal_units": "Number"}, ChangedBy: []string{"livestock_facility"}, Margin: 64},
	{Name: "feed_mills", Description: "Feed production facilities", MinZoom: 8, MaxZoom: 14, Geometry: "point",
		Fields: map[string]string{"name": "String", "capacity_tpy": "Number"}, ChangedBy: []string{"feed_facility"}, Margin: 64},
}

// LayerByName returns the layer with this name.
func LayerByName(name string) (Layer, bool) {
	i := slices.IndexFunc(Layers, func(l Layer) bool { return l.Name == name })
	if i < 0 {
		return Layer{}, false
	}
	return Layers[i], true
}

// LayerNames lists the layer names, for messages.
func LayerNames() []string {
	out := make([]string, len(Layers))
	for i, l := range Layers {
		out[i] = l.Name
	}
	return out
}

// HasZoom reports whether the layer has tiles at zoom z.
func (l Layer) HasZoom(z int) bool { return z >= l.MinZoom && z <= l.MaxZoom }

// affectedBy reports whether a change of kind makes some of the layer's tiles stale.
func (l Layer) affectedBy(kind string) bool { return slices.Contains(l.ChangedBy, kind) }
