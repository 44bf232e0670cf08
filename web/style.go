package web

import (
	"context"
	"encoding/json"
	"net/http"
	"sync"
	"time"

	"github.com/paulmach/orb"
	"github.com/vungtrong/vungtrong/tiles"
)

// MapConfig configures the web map's style.
type MapConfig struct {
	// Attribution is shown for the registry's own layers.
	Attribution string
	// BasemapRaster is an XYZ raster tile URL template ({z}/{x}/{y}) drawn under the
	// registry's layers, e.g. OpenStreetMap's; empty keeps the plain offline background.
	BasemapRaster            string
	BasemapRasterAttribution string
	// BasemapStyle is a MapLibre style (already fetched) whose sources and layers go under the
	// registry's; nil for none.
	BasemapStyle map[string]any
}

// cropColors colour plots by crop; anything else is grey. The page's legend reads them from
// the style's metadata, so the two never disagree.
var cropColors = []struct{ Crop, Color string }{
	{"coffee", "#7b5134"}, {"durian", "#b5c92d"}, {"pepper", "#2f6f3e"}, {"tea", "#4caf50"}, {"cashew", "#d98e32"},
	{"rubber", "#8d6e63"}, {"cocoa", "#6d3b1f"}, {"avocado", "#6b8e23"}, {"passion_fruit", "#9c4dcc"}, {"dragon_fruit", "#e0457b"},
	{"mango", "#f2b134"}, {"lychee", "#d8434e"}, {"longan", "#c9a66b"}, {"pomelo", "#c4d35b"}, {"orange", "#f08a24"},
	{"rice", "#e8d26b"}, {"maize", "#f5c542"}, {"cassava", "#a1887f"},
}

// statusColors colour growing areas and packing houses by the best status of their codes.
var statusColors = map[string]string{"active": "#137a63", "suspended": "#c62828", "pending": "#d98e04", "expired": "#8e24aa", "none": "#607d8b"}

// mapCenter returns where the map opens: the middle of the registered plots, else Vietnam,
// and the plots' extent (nil when there are none), which the page frames when its address
// names no view. The extent is read at most once a minute.
func (s *Server) mapCenter(ctx context.Context) ([3]float64, []float64) {
	s.centerMu.Lock()
	defer s.centerMu.Unlock()
	if time.Since(s.centerAt) < time.Minute {
		return s.center, s.extent
	}
	s.center, s.extent = [3]float64{106.3, 15.9, 5}, nil
	if s.svc.MapExtent != nil {
		if b, err := s.svc.MapExtent(ctx); err == nil && !b.IsEmpty() {
			c := b.Center()
			s.center = [3]float64{c[0], c[1], zoomFor(b)}
			s.extent = []float64{b.Min[0], b.Min[1], b.Max[0], b.Max[1]}
		}
	}
	s.centerAt = time.Now()
	return s.center, s.extent
}

// zoomFor is the deepest zoom at which a bound fits a 512-pixel screen (two tiles), so that a
// phone sees all of it; the page itself frames the extent to its own size.
func zoomFor(b orb.Bound) float64 {
	span := max(b.Max[0]-b.Min[0], b.Max[1]-b.Min[1], 0.01)
	z := 0.0
	for z < 14 && 360/float64(int(1)<<int(z+1))*2 >= span {
		z++
	}
	return z
}

type centerCache struct {
	centerMu sync.Mutex
	center   [3]float64
	extent   []float64
	centerAt time.Time
}

// handleStyle answers "GET /style.json": one MapLibre style with every layer of the registry
// over a plain background (or the configured basemap). It has no text labels, so it needs no
// font server and works offline.
func (s *Server) handleStyle(w http.ResponseWriter, r *http.Request) error {
	base := s.baseURL(r)
	center, extent := s.mapCenter(r.Context())
	sources := map[string]any{}
	var layers []any
	style := map[string]any{"version": 8, "name": "Vùng Trồng", "center": []float64{center[0], center[1]}, "zoom": center[2]}
	if bs := s.cfg.Map.BasemapStyle; bs != nil {
		if src, ok := bs["sources"].(map[string]any); ok {
			for k, v := range src {
				sources[k] = v
			}
		}
		if ls, ok := bs["layers"].([]any); ok {
			layers = append(layers, ls...)
		}
		for _, k := range []string{"glyphs", "sprite"} {
			if v, ok := bs[k]; ok {
				style[k] = v
			}
		}
	} else {
		layers = append(layers, map[string]any{"id": "background", "type": "background", "paint": map[string]any{"background-color": "#eef1ea"}})
	}
	if s.cfg.Map.BasemapRaster != "" {
		sources["basemap"] = map[string]any{"type": "raster", "tiles": []string{s.cfg.Map.BasemapRaster}, "tileSize": 256, "maxzoom": 19,
			"attribution": s.cfg.Map.BasemapRasterAttribution}
		layers = append(layers, map[string]any{"id": "basemap", "type": "raster", "source": "basemap", "paint": map[string]any{"raster-opacity": 0.85}})
	}
	for _, l := range tiles.Layers {
		sources[l.Name] = map[string]any{"type": "vector", "tiles": []string{base + l.TileURL()}, "minzoom": l.MinZoom, "maxzoom": l.MaxZoom,
			"attribution": s.cfg.Map.Attribution, "bounds": []float64{102, 6, 118, 23.5}}
	}
	cropMatch := []any{"match", []any{"get", "crop"}}
	legend := []map[string]string{}
	for _, c := range cropColors {
		cropMatch = append(cropMatch, c.Crop, c.Color)
		legend = append(legend, map[string]string{"crop": c.Crop, "color": c.Color})
	}
	cropMatch = append(cropMatch, "#90a4ae")
	statusMatch := []any{"match", []any{"get", "status"}, "active", statusColors["active"], "suspended", statusColors["suspended"], "pending", statusColors["pending"], "expired", statusColors["expired"], statusColors["none"]}
	layers = append(layers,
		layer("provinces-fill", "fill", "provinces", nil, map[string]any{"fill-color": "#000000", "fill-opacity": 0}),
		layer("provinces-line", "line", "provinces", nil, map[string]any{"line-color": "#6a5a7e", "line-width": 1.6}),
		layer("communes-fill", "fill", "communes", nil, map[string]any{"fill-color": "#000000", "fill-opacity": 0}),
		layer("communes-line", "line", "communes", nil, map[string]any{"line-color": "#8d7da1", "line-width": 0.9, "line-dasharray": []float64{3, 2}}),
		withZoom(layer("plot-density", "heatmap", "plot_density", nil, map[string]any{
			"heatmap-weight":    []any{"interpolate", []any{"linear"}, []any{"get", "area_ha"}, 0, 0, 50, 1},
			"heatmap-intensity": []any{"interpolate", []any{"linear"}, []any{"zoom"}, 6, 0.6, 11, 1.4},
			"heatmap-radius":    []any{"interpolate", []any{"linear"}, []any{"zoom"}, 6, 6, 11, 18},
			"heatmap-color": []any{"interpolate", []any{"linear"}, []any{"heatmap-density"},
				0, "rgba(46,125,79,0)", 0.2, "#cfe8c4", 0.45, "#8fd19e", 0.7, "#43a16a", 1, "#1f5f3a"},
			"heatmap-opacity": []any{"interpolate", []any{"linear"}, []any{"zoom"}, 11, 0.85, 12.5, 0},
		}), 0, 13),
		withZoom(layer("plots-fill", "fill", "plots", nil, map[string]any{"fill-color": cropMatch,
			"fill-opacity": []any{"interpolate", []any{"linear"}, []any{"zoom"}, 12, 0.55, 15, 0.75}}), 12, 0),
		withZoom(layer("plots-line", "line", "plots", nil, map[string]any{"line-color": "#2b3a2f",
			"line-width": []any{"interpolate", []any{"linear"}, []any{"zoom"}, 12, 0.2, 16, 1.2}}), 12, 0),
		riskLayer(),
		layer("growing-areas-fill", "fill", "growing_areas", nil, map[string]any{"fill-color": statusMatch, "fill-opacity": 0.12}),
		layer("growing-areas-line", "line", "growing_areas", nil, map[string]any{"line-color": statusMatch,
			"line-width": []any{"interpolate", []any{"linear"}, []any{"zoom"}, 6, 1, 14, 3}}),
		layer("livestock", "circle", "livestock", nil, map[string]any{"circle-color": "#8d5a2b", "circle-stroke-color": "#ffffff", "circle-stroke-width": 1.5,
			"circle-radius": []any{"match", []any{"get", "scale"}, "large", 9, "medium", 7, "small", 5, 4}}),
		layer("feed-mills", "circle", "feed_mills", nil, map[string]any{"circle-color": "#6a3d9a", "circle-stroke-color": "#ffffff", "circle-stroke-width": 1.5, "circle-radius": 6}),
		layer("packing-houses", "circle", "packing_houses", nil, map[string]any{"circle-color": statusMatch, "circle-stroke-color": "#ffffff", "circle-stroke-width": 2, "circle-radius": 7}),
	)
	style["sources"] = sources
	style["layers"] = layers
	style["metadata"] = map[string]any{"vungtrong:crops": legend, "vungtrong:status": statusColors, "vungtrong:risk": riskColors}
	if extent != nil {
		style["metadata"].(map[string]any)["vungtrong:bounds"] = extent
	}
	b, err := json.Marshal(style)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", contentTypeJSON+"; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	_, _ = w.Write(b)
	return nil
}

func layer(id, typ, source string, filter []any, paint map[string]any) map[string]any {
	l := map[string]any{"id": id, "type": typ, "source": source, "source-layer": source, "paint": paint}
	if filter != nil {
		l["filter"] = filter
	}
	return l
}

func withZoom(l map[string]any, minZoom, maxZoom float64) map[string]any {
	if minZoom > 0 {
		l["minzoom"] = minZoom
	}
	if maxZoom > 0 {
		l["maxzoom"] = maxZoom
	}
	return l
}
