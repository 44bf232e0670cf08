package web

import (
	"crypto/sha256"
	"embed"
	"encoding/base64"
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
		name := strings.TrimPrefix(path.Clean(r.URL.Path), "/")
		if name == "" {
			name = "index.html"
		}
		if fi, err := fs.Stat(app, name); err != nil || fi.IsDir() {
			notFoundPage(w)
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

// notFoundPage answers a link outside /api that the map does not know: a page in Vietnamese and
// English that leads back to the map, not a bare "404 page not found".
func notFoundPage(w http.ResponseWriter) {
	w.Header().Set("Content-Security-Policy", notFoundCSP)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusNotFound)
	_, _ = w.Write([]byte(notFoundHTML))
}

// notFoundCSP lets the page's own inline style, and nothing else, apply.
var notFoundCSP = func() string {
	style := notFoundHTML[strings.Index(notFoundHTML, "<style>")+len("<style>") : strings.Index(notFoundHTML, "</style>")]
	sum := sha256.Sum256([]byte(style))
	return "default-src 'none'; style-src 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
}()

const notFoundHTML = `<!doctype html>
<html lang="vi">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Không tìm thấy trang · Page not found — Vùng Trồng</title>
<style>body{font:16px/1.5 system-ui,sans-serif;margin:0;background:#eef1ea;color:#1d2a21}
main{max-width:34rem;margin:12vh auto;padding:1.5rem;background:#fff;border-radius:12px;box-shadow:0 2px 12px #0002}
h1{font-size:1.4rem;margin:0 0 .5rem;color:#1f5f3a}p{margin:.4rem 0}.en{color:#52605a}
a{display:inline-block;margin-top:1rem;padding:.6rem 1rem;background:#1f5f3a;color:#fff;border-radius:8px;text-decoration:none}</style>
</head>
<body><main>
<h1>Không tìm thấy trang</h1>
<p>Địa chỉ này không có trong Vùng Trồng. Có thể đường dẫn bị gõ sai hoặc trang đã được chuyển đi.</p>
<p class="en" lang="en">Page not found: this address is not part of Vùng Trồng. The link may be mistyped, or the page has moved.</p>
<a href="/">Về bản đồ · Back to the map</a>
</main></body>
</html>
`
