package tiles

// TileJSON is a TileJSON 3.0.0 document describing one layer.
type TileJSON struct {
	TileJSON     string        `json:"tilejson"`
	Name         string        `json:"name"`
	Description  string        `json:"description,omitempty"`
	Version      string        `json:"version,omitempty"`
	Attribution  string        `json:"attribution,omitempty"`
	Scheme       string        `json:"scheme"`
	Tiles        []string      `json:"tiles"`
	MinZoom      int           `json:"minzoom"`
	MaxZoom      int           `json:"maxzoom"`
	Bounds       [4]float64    `json:"bounds"`
	Center       [3]float64    `json:"center,omitempty"`
	VectorLayers []VectorLayer `json:"vector_layers"`
}

// VectorLayer describes a layer inside the tiles.
type VectorLayer struct {
	ID          string            `json:"id"`
	Fields      map[string]string `json:"fields"`
	Description string            `json:"description,omitempty"`
	MinZoom     int               `json:"minzoom"`
	MaxZoom     int               `json:"maxzoom"`
}

// TileURL is the path of a layer's tiles, relative to the server's root.
func (l Layer) TileURL() string { return "/tiles/" + l.Name + "/{z}/{x}/{y}.mvt" }

// TileJSON describes the layer, with tile URLs under base (scheme and host, no trailing slash).
func (l Layer) TileJSON(base, attribution string, center [3]float64) TileJSON {
	return TileJSON{
		TileJSON: "3.0.0", Name: l.Name, Description: l.Description, Version: "1.0.0", Attribution: attribution,
		Scheme: "xyz", Tiles: []string{base + l.TileURL()}, MinZoom: l.MinZoom, MaxZoom: l.MaxZoom,
		Bounds: [4]float64{102, 6, 118, 23.5}, Center: center,
		VectorLayers: []VectorLayer{{ID: l.Name, Fields: l.Fields, Description: l.Description, MinZoom: l.MinZoom, MaxZoom: l.MaxZoom}},
	}
}
