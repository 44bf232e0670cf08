package web

import (
	"embed"
	"io/fs"
	"net/http"
)

// dist is the built web map (web/app, built by `make web` into web/dist).
//
//go:embed all:dist
var dist embed.FS

// staticHandler serves the embedded web map.
func staticHandler() http.Handler {
	sub, err := fs.Sub(dist, "dist")
	if err != nil {
		panic(err) // the embed pattern guarantees the directory
	}
	return http.FileServerFS(sub)
}
