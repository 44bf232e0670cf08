// Package web is the HTTP face of the registry: the chi router, middleware, authentication,
// the REST API under /api/v1 (JSON, and GeoJSON for anything with a geometry), health checks
// and the embedded web map. Handlers return errors; one adapter renders them.
package web

import (
	"context"
	"log/slog"
	"net/http"

	"github.com/go-chi/chi/v5"
	"github.com/vungtrong/vungtrong/geo"
	"github.com/vungtrong/vungtrong/registry"
)

// Config configures the HTTP layer.
type Config struct {
	// MaxBodyBytes caps a request body.
	MaxBodyBytes int64
	// Geometry bounds incoming plot geometries (checked before the database sees them).
	Geometry geo.Limits
	// PageSize is the default page size of lists; MaxPageSize the largest a client may ask.
	PageSize, MaxPageSize int
}

// DefaultConfig returns the HTTP defaults: 5 MB bodies, pages of 100 up to 1,000.
func DefaultConfig() Config {
	return Config{MaxBodyBytes: 5 << 20, Geometry: geo.DefaultLimits(), PageSize: 100, MaxPageSize: 1000}
}

// Services are what the handlers need from the registry.
type Services struct {
	Plots     registry.PlotService
	Producers registry.ProducerService
	Tokens    registry.TokenService
	Crops     registry.CropService
	// Ready reports whether the server can serve (the database answers).
	Ready func(ctx context.Context) error
}

// Server is the registry's HTTP handler.
type Server struct {
	cfg    Config
	svc    Services
	log    *slog.Logger
	router chi.Router
}

// NewServer returns the HTTP handler of the registry.
func NewServer(cfg Config, svc Services, log *slog.Logger) *Server {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Server{cfg: cfg, svc: svc, log: log}
	s.router = s.routes()
	return s
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.router.ServeHTTP(w, r) }

// handlerFunc is a handler that returns its error for one adapter to render.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

func (s *Server) h(fn handlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := fn(w, r); err != nil {
			s.writeError(w, r, err)
		}
	}
}

func (s *Server) routes() chi.Router {
	r := chi.NewRouter()
	r.Use(s.requestID, s.accessLog, s.recoverPanic, s.authenticate)
	r.NotFound(s.h(func(w http.ResponseWriter, r *http.Request) error {
		return registry.Errorf(registry.ENOTFOUND, "no such endpoint: %s %s", r.Method, r.URL.Path)
	}))
	r.MethodNotAllowed(s.h(func(w http.ResponseWriter, r *http.Request) error {
		return registry.Errorf(errMethod, "%s is not allowed on %s", r.Method, r.URL.Path)
	}))
	r.Get("/healthz", s.h(s.handleHealthz))
	r.Get("/readyz", s.h(s.handleReadyz))
	r.Route("/api/v1", func(r chi.Router) {
		r.Get("/crops", s.h(s.handleCropList))

		r.Get("/plots", s.h(s.handlePlotList))
		r.Get("/plots/{id}", s.h(s.handlePlotGet))
		r.Get("/plots/{id}/history", s.h(s.handlePlotHistory))
		r.With(s.requireActor).Post("/plots", s.h(s.handlePlotCreate))
		r.With(s.requireActor).Put("/plots/{id}", s.h(s.handlePlotReplace))
		r.With(s.requireActor).Patch("/plots/{id}", s.h(s.handlePlotPatch))
		r.With(s.requireActor).Delete("/plots/{id}", s.h(s.handlePlotDelete))

		r.Get("/producers", s.h(s.handleProducerList))
		r.Get("/producers/{id}", s.h(s.handleProducerGet))
		r.With(s.requireActor).Post("/producers", s.h(s.handleProducerCreate))
		r.With(s.requireActor).Put("/producers/{id}", s.h(s.handleProducerReplace))
		r.With(s.requireActor).Patch("/producers/{id}", s.h(s.handleProducerPatch))
		r.With(s.requireActor).Delete("/producers/{id}", s.h(s.handleProducerDelete))
	})
	r.Handle("/*", staticHandler())
	return r
}

// handleHealthz answers "GET /healthz": the process is up.
func (s *Server) handleHealthz(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	return nil
}

// handleReadyz answers "GET /readyz": the server can serve requests (the database answers).
func (s *Server) handleReadyz(w http.ResponseWriter, r *http.Request) error {
	if s.svc.Ready != nil {
		if err := s.svc.Ready(r.Context()); err != nil {
			return registry.Errorf(registry.EUNAVAILABLE, "not ready: the database does not answer")
		}
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
	return nil
}

// handleCropList answers "GET /api/v1/crops".
func (s *Server) handleCropList(w http.ResponseWriter, r *http.Request) error {
	crops, err := s.svc.Crops.ListCrops(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"crops": crops})
	return nil
}
