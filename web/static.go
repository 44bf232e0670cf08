package web

import (
	"embed"
	"io/fs"
	"net/http"
	"path"
	"strings"
)

// dist holds the built web map (web/app, built by `make build` into web/dist/app).
//
//go:embed all:dist
var dist embed.FS

// staticHandler serves the embedded web map. Files with a content hash in their name (Vite's
// assets/) are cached for a year; the page itself is revalidated on every load, so a new
// release shows at once. When the map was not built, the page says how to build it.
func staticHandler() http.Handler {
	app, err := fs.Sub(dist, "dist/app")
	if err != nil {
		panic(err) // the embed pattern guarantees the directory
	}
	files := http.FileServerFS(app)
	_, built := fs.Stat(app, "index.html")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if built != nil {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte(`<!doctype html><meta charset="utf-8"><title>Vùng Trồng</title><p>Bản đồ web chưa được build. / The web map was not built: run <code>make build</code> (it needs Node.js). The API answers at <a href="/api/v1/plots">/api/v1/plots</a>.</p>`))
			return
		}
		if strings.HasPrefix(r.URL.Path, "/assets/") {
			w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
		} else if r.URL.Path == "/" || path.Ext(r.URL.Path) == ".html" {
			w.Header().Set("Cache-Control", "no-cache")
		}
		files.ServeHTTP(w, r)
	})
}
