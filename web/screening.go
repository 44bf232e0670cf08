package web

// riskColors colour plots by the risk of their deforestation screening (EUDR). The page's legend
// and plot panel read them from the style's metadata.
var riskColors = map[string]string{"low": "#2e7d32", "high": "#c62828", "more_info_needed": "#ef8f00"}

// riskLayer outlines screened plots in the colour of their risk: a layer of its own, off until
// the user turns it on, over the plots coloured by crop.
func riskLayer() map[string]any {
	l := withZoom(layer("plots-risk", "line", "plots", []any{"has", "risk"}, map[string]any{
		"line-color": []any{"match", []any{"get", "risk"}, "low", riskColors["low"], "high", riskColors["high"], riskColors["more_info_needed"]},
		"line-width": []any{"interpolate", []any{"linear"}, []any{"zoom"}, 12, 1, 16, 3},
	}), 12, 0)
	l["layout"] = map[string]any{"visibility": "none"}
	return l
}
