package web

import (
	"cmp"
	"context"
	"fmt"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/vungtrong/vungtrong/registry"
	"github.com/vungtrong/vungtrong/tiles"
)

// TileSource renders one tile of a layer (an MVT; empty when nothing is there).
type TileSource interface {
	Tile(ctx context.Context, layer string, t tiles.ID) ([]byte, error)
}

const contentTypeMVT = "application/vnd.mapbox-vector-tile"

// tileRoute is the tile route's key in routePolicy.
const tileRoute = "GET /tiles/{layer}/{z}/{x}/{y}"

// serveTile is the fast path of the busiest route, "GET /tiles/{layer}/{z}/{x}/{y}.mvt": a map
// asks for dozens of tiles a second, the same for everyone, so they skip the router and the
// API's middleware (request ids, sessions). The route's rule still applies, and anything that
// is not a well-formed tile path goes the normal way.
func (s *Server) serveTile(w http.ResponseWriter, r *http.Request) bool {
	rest, ok := strings.CutPrefix(r.URL.Path, "/tiles/")
	if !ok || r.Method != http.MethodGet || !strings.HasSuffix(rest, ".mvt") || !allowed(routePolicy[tileRoute], registry.Actor{}) {
		return false
	}
	parts := strings.Split(rest, "/")
	if len(parts) != 4 {
		return false
	}
	// The fast path skips the router's middleware: the request deadline applies here too.
	if s.cfg.RequestTimeout > 0 {
		ctx, cancel := context.WithTimeoutCause(r.Context(), s.cfg.RequestTimeout, errDeadline)
		defer cancel()
		r = r.WithContext(ctx)
	}
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			s.writeError(w, r, fmt.Errorf("panic: %v\n%s", v, debug.Stack()))
		}
	}()
	start := time.Now()
	rec := &statusRecorder{ResponseWriter: w}
	if err := s.tile(rec, r, parts[0], parts[1], parts[2], parts[3]); err != nil {
		s.writeError(rec, r, err)
		s.log.Info("request", "method", r.Method, "path", r.URL.Path, "status", rec.status)
	}
	s.svc.Metrics.observe(r.Method, tileRoute[len("GET "):], cmp.Or(rec.status, http.StatusOK), time.Since(start))
	return true
}

// handleTile answers "GET /tiles/{layer}/{z}/{x}/{y}.mvt" when it comes through the router.
func (s *Server) handleTile(w http.ResponseWriter, r *http.Request) error {
	return s.tile(w, r, chi.URLParam(r, "layer"), chi.URLParam(r, "z"), chi.URLParam(r, "x"), chi.URLParam(r, "y"))
}

// tile answers a tile request from the cache or the source, within the per-address tile limit
// (a map asks for dozens of tiles a second, so it is far above the API's).
func (s *Server) tile(w http.ResponseWriter, r *http.Request, name, z, x, yExt string) error {
	if s.tileLimiter != nil {
		if wait, ok := s.tileLimiter.allow(s.clientAddr(r)); !ok {
			return &registry.Error{Code: registry.ETOOMANY, RetryAfter: wait, Message: "too many tile requests from this address: slow down"}
		}
	}
	layer, ok := tiles.LayerByName(name)
	if !ok {
		return registry.Errorf(registry.ENOTFOUND, "no tile layer %q: the layers are %s", name, strings.Join(tiles.LayerNames(), ", "))
	}
	y, ok := strings.CutSuffix(yExt, ".mvt")
	if !ok {
		return registry.Errorf(registry.ENOTFOUND, "tiles end in .mvt: /tiles/%s/{z}/{x}/{y}.mvt", name)
	}
	id, err := tiles.Parse(z, x, y)
	if err != nil {
		return registry.Errorf(registry.EMALFORMED, "%v", strings.TrimPrefix(err.Error(), tiles.ErrBadTile.Error()+": "))
	}
	if !layer.HasZoom(id.Z) {
		return registry.Errorf(registry.ENOTFOUND, "layer %s has tiles from zoom %d to %d, not %d", name, layer.MinZoom, layer.MaxZoom, id.Z)
	}
	key := tiles.Key{Layer: name, ID: id}
	if e, ok := s.tileCache.Get(key); ok {
		return s.writeTile(w, r, e)
	}
	gen := s.tileCache.Generation()
	mvt, err := s.svc.Tiles.Tile(r.Context(), name, id)
	if err != nil {
		return err // a client that went away is not logged (writeError)
	}
	e := tiles.Fresh(mvt)
	if err := s.writeTile(w, r, e); err != nil {
		return err
	}
	if s.tileCache.Enabled() {
		// Compressed for the cache once the answer is out, not before.
		if f, ok := w.(http.Flusher); ok {
			f.Flush()
		}
		s.tileCache.Put(key, e.Compressed(), gen)
	}
	return nil
}

// writeTile sends a tile: 304 when the client has it, gzipped when it takes gzip, 204 when the
// tile is empty.
func (s *Server) writeTile(w http.ResponseWriter, r *http.Request, e *tiles.Entry) error {
	h := w.Header()
	h.Set("ETag", e.ETag)
	h.Set("Cache-Control", s.tileCacheControl)
	h.Set("Vary", "Accept-Encoding")
	h.Set("Access-Control-Allow-Origin", "*")
	if match := r.Header.Get("If-None-Match"); match != "" && match == e.ETag {
		w.WriteHeader(http.StatusNotModified)
		return nil
	}
	if e.Size == 0 {
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
	h.Set("Content-Type", contentTypeMVT)
	var body []byte
	if e.Gzip != nil && strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
		h.Set("Content-Encoding", "gzip")
		body = e.Gzip
	} else {
		body = e.Tile()
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	_, _ = w.Write(body) // a client gone mid-body is nobody to answer
	return nil
}

// handleTileJSON answers "GET /tiles/{layer}.json" with the layer's TileJSON 3.0.
func (s *Server) handleTileJSON(w http.ResponseWriter, r *http.Request) error {
	name, ok := strings.CutSuffix(chi.URLParam(r, "layerjson"), ".json")
	layer, found := tiles.LayerByName(name)
	if !ok || !found {
		return registry.Errorf(registry.ENOTFOUND, "no tile layer %q: the layers are %s", name, strings.Join(tiles.LayerNames(), ", "))
	}
	center, _ := s.mapCenter(r.Context())
	writeJSON(w, http.StatusOK, layer.TileJSON(s.baseURL(r), s.cfg.Map.Attribution, center))
	return nil
}
