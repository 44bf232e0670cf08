// Package web is the HTTP face of the registry: the chi router, middleware, authentication,
// the REST API under /api/v1 (JSON, and GeoJSON for anything with a geometry), health checks
// and the embedded web map. Handlers return errors; one adapter renders them.
package web

import (
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/paulmach/orb"
	"github.com/vungtrong/vungtrong/geo"
	"github.com/vungtrong/vungtrong/registry"
	"github.com/vungtrong/vungtrong/tiles"
)

// Config configures the HTTP layer.
type Config struct {
	// MaxBodyBytes caps a request body.
	MaxBodyBytes int64
	// Geometry bounds incoming plot geometries (checked before the database sees them).
	Geometry geo.Limits
	// PageSize is the default page size of lists; MaxPageSize the largest a client may ask.
	PageSize, MaxPageSize int
	// TrustProxy takes the client address from X-Forwarded-For and TLS from
	// X-Forwarded-Proto: only behind a proxy that sets them.
	TrustProxy bool
	// TrustedHops is how many proxies in front of the server append to X-Forwarded-For (the
	// client is that many entries from the right).
	TrustedHops int
	// PublicURL is the registry's public address (scheme, host and optional path prefix): the
	// base of absolute URLs in TileJSON and the style. Nil takes it from the trusted proxy, or
	// from a Host header that names this machine by loopback name or IP address, or else
	// ListenAddr.
	PublicURL *url.URL
	// ListenAddr is host:port to put in absolute URLs when nothing better is known.
	ListenAddr string
	// RequestTimeout bounds every request but uploads (0: none): a database that hangs makes
	// requests fail with 503 after this long instead of hanging with it.
	RequestTimeout time.Duration
	// TileRate and TileBurst limit tile requests per address (per second); 0 turns it off.
	TileRate  float64
	TileBurst int
	// MaxConcurrent is how many API requests may work on the database at once (about the
	// database pool's size; 0: no bound), and BusyWait how long a request waits for a place
	// before it is answered 503.
	MaxConcurrent int
	BusyWait      time.Duration
	// PublicRate and PublicBurst limit anonymous API requests per address (per second);
	// 0 turns the limit off.
	PublicRate  float64
	PublicBurst int
	// TileMaxAge is how long clients may keep a tile without asking again (0: they revalidate
	// every time, with the ETag, so that edits show at once).
	TileMaxAge time.Duration
	// Map configures the web map's style.
	Map MapConfig
	// MaxUploadBytes caps an uploaded import file.
	MaxUploadBytes int64
}

// DefaultConfig returns the HTTP defaults: 5 MB bodies, pages of 100 up to 1,000, anonymous
// callers limited to 20 requests a second (bursts of 60) per address.
func DefaultConfig() Config {
	return Config{MaxBodyBytes: 5 << 20, Geometry: geo.DefaultLimits(), PageSize: 100, MaxPageSize: 1000, PublicRate: 20, PublicBurst: 60,
		MaxUploadBytes: 512 << 20, TrustedHops: 1, RequestTimeout: 30 * time.Second, TileRate: 200, TileBurst: 400}
}

// Services are what the handlers need from the registry.
type Services struct {
	Plots     registry.PlotService
	Producers registry.ProducerService
	Crops     registry.CropService
	Users     registry.UserService
	Auth      registry.AuthService
	Tokens    registry.TokenService
	Audit     registry.AuditService
	Lookup    registry.LookupService
	Codes     registry.CodeService
	Areas     registry.GrowingAreaService
	// Supervision records supervision visits and lists overdue codes.
	Supervision registry.SupervisionService
	// Applications run applications for codes through their procedure; WorkQueues answer the
	// officer's inbox and the registrant's page.
	Applications registry.ApplicationService
	WorkQueues   registry.WorkQueueService
	// Dossiers answer an area's dossier and a code's decision page.
	Dossiers registry.DossierService
	// Procedure holds province letters, export steps, seasonal reports and packing houses.
	Procedure registry.ProcedureService
	Trace     registry.TraceService
	Tiles     TileSource
	// Imports run the imports of uploaded survey files, Uploads keeps the files (nil: uploads
	// are refused).
	Imports registry.ImportJobService
	Uploads registry.UploadStore
	// TileCache holds rendered tiles (nil or a zero budget: none).
	TileCache *tiles.Cache
	// MapExtent returns the bound of the registered plots, where the map opens.
	MapExtent func(ctx context.Context) (orb.Bound, error)
	// Ready reports whether the server can serve (the database answers).
	Ready func(ctx context.Context) error
	// Unavailable reports whether an error means the database cannot be reached (down,
	// restarting, hung): such requests answer 503 with Retry-After.
	Unavailable func(error) bool
	// Metrics, when set, counts requests and sign-in failures and serves /metrics.
	Metrics *Metrics
	// LookupCache, when set, keeps code lookups for a few seconds (cmd forgets it on changes).
	LookupCache *LookupCache
	// EUDRExports run EUDR geolocation exports as jobs (nil: exports are refused).
	EUDRExports registry.EUDRExportService
	// Screening, when set, adds each plot's deforestation screening to its answer.
	Screening registry.ScreeningService
	// Stories reads consignments' stories for their GS1 EPCIS export.
	Stories StoryReader
}

// Server is the registry's HTTP handler.
type Server struct {
	cfg              Config
	svc              Services
	log              *slog.Logger
	router           chi.Router
	limiter          *addrLimiter
	tileLimiter      *addrLimiter
	csp              string
	outage           outage
	crops            cropNameCache
	gate             *gate
	busy             atomic.Int64 // requests refused by the gate
	tileCache        *tiles.Cache
	tileCacheControl string
	centerCache
}

// NewServer returns the HTTP handler of the registry.
func NewServer(cfg Config, svc Services, log *slog.Logger) *Server {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Server{cfg: cfg, svc: svc, log: log, limiter: newAddrLimiter(cfg.PublicRate, cfg.PublicBurst),
		tileLimiter: newAddrLimiter(cfg.TileRate, cfg.TileBurst), tileCache: svc.TileCache, csp: contentSecurityPolicy(cfg.Map)}
	s.outage = outage{log: log, ready: svc.Ready}
	s.gate = newGate(cfg.MaxConcurrent, cfg.BusyWait)
	if m := svc.Metrics; m != nil {
		s.outage.onChange = func(down bool) {
			if down {
				m.databaseUp.Set(0)
			} else {
				m.databaseUp.Set(1)
			}
		}
	}
	s.tileCacheControl = "public, no-cache"
	if cfg.TileMaxAge > 0 {
		s.tileCacheControl = "public, max-age=" + strconv.Itoa(int(cfg.TileMaxAge.Seconds()))
	}
	s.router = s.routes()
	return s
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.securityHeaders(w, r)
	if s.serveTile(w, r) {
		return
	}
	s.router.ServeHTTP(w, r)
}

// handlerFunc is a handler that returns its error for one adapter to render.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

func (s *Server) h(fn handlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := fn(w, r); err != nil {
			s.writeError(w, r, err)
		}
	}
}

// Routes returns every route as "METHOD /pattern", for tests and documentation.
func (s *Server) Routes() []string {
	var out []string
	_ = chi.Walk(s.router, func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		out = append(out, method+" "+route)
		return nil
	})
	return out
}

func (s *Server) routes() chi.Router {
	r := chi.NewRouter()
	r.Use(s.requestID, s.accessLog, s.recoverPanic, s.checkInput, s.deadline, s.admit, s.authenticate, s.limitPublic)
	r.NotFound(s.h(func(w http.ResponseWriter, r *http.Request) error {
		return registry.Errorf(registry.ENOTFOUND, "no such endpoint: %s %s", r.Method, r.URL.Path)
	}))
	r.MethodNotAllowed(s.h(func(w http.ResponseWriter, r *http.Request) error {
		return registry.Errorf(errMethod, "%s is not allowed on %s", r.Method, r.URL.Path)
	}))
	get, post, put, patch, del := http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete
	s.handle(r, get, "/healthz", s.handleHealthz)
	s.handle(r, get, "/metrics", s.handleMetrics)
	s.handle(r, get, "/readyz", s.handleReadyz)
	s.handle(r, get, "/api/v1/crops", s.handleCropList)

	s.handle(r, get, "/api/v1/plots", s.handlePlotList)
	s.handle(r, get, "/api/v1/plots/{id}", s.handlePlotGet)
	s.handle(r, get, "/api/v1/plots/{id}/history", s.handlePlotHistory)
	s.handle(r, post, "/api/v1/plots", s.handlePlotCreate)
	s.handle(r, put, "/api/v1/plots/{id}", s.handlePlotReplace)
	s.handle(r, patch, "/api/v1/plots/{id}", s.handlePlotPatch)
	s.handle(r, del, "/api/v1/plots/{id}", s.handlePlotDelete)
	s.handle(r, post, "/api/v1/plots/check", s.handlePlotCheck)
	s.handle(r, post, "/api/v1/plots/merge", s.handlePlotMerge)
	s.handle(r, post, "/api/v1/plots/{id}/split", s.handlePlotSplit)
	s.handle(r, post, "/api/v1/plots/{id}/restore", s.handlePlotRestore)
	s.handle(r, post, "/api/v1/imports", s.handleImportCreate)
	s.handle(r, get, "/api/v1/imports/{id}", s.handleImportGet)
	s.handle(r, post, "/api/v1/imports/{id}/commit", s.handleImportCommit)
	s.handle(r, post, "/api/v1/eudr/exports", s.handleEUDRExportCreate)
	s.handle(r, get, "/api/v1/eudr/exports/{id}", s.handleEUDRExportGet)
	s.handle(r, get, "/api/v1/eudr/exports/{id}/file", s.handleEUDRExportFile)

	s.handle(r, get, "/api/v1/producers", s.handleProducerList)
	s.handle(r, get, "/api/v1/producers/{id}", s.handleProducerGet)
	s.handle(r, post, "/api/v1/producers", s.handleProducerCreate)
	s.handle(r, put, "/api/v1/producers/{id}", s.handleProducerReplace)
	s.handle(r, patch, "/api/v1/producers/{id}", s.handleProducerPatch)
	s.handle(r, del, "/api/v1/producers/{id}", s.handleProducerDelete)

	s.handle(r, post, "/api/v1/auth/login", s.handleLogin)
	s.handle(r, post, "/api/v1/auth/code", s.handleCodeRequest)
	s.handle(r, post, "/api/v1/auth/code/verify", s.handleCodeLogin)
	s.handle(r, get, "/api/v1/auth/session", s.handleSession)
	s.handle(r, post, "/api/v1/auth/logout", s.handleLogout)
	s.handle(r, post, "/api/v1/auth/password", s.handlePasswordChange)

	s.handle(r, get, "/api/v1/users", s.handleUserList)
	s.handle(r, post, "/api/v1/users", s.handleUserCreate)
	s.handle(r, get, "/api/v1/users/{id}", s.handleUserGet)
	s.handle(r, post, "/api/v1/users/{id}/password", s.handleUserPassword)
	s.handle(r, post, "/api/v1/users/{id}/disable", s.handleUserDisable)

	s.handle(r, get, "/api/v1/tokens", s.handleTokenList)
	s.handle(r, post, "/api/v1/tokens", s.handleTokenCreate)
	s.handle(r, del, "/api/v1/tokens/{id}", s.handleTokenRevoke)

	s.handle(r, get, "/api/v1/audit", s.handleAuditList)

	s.handle(r, get, "/api/v1/growing-areas/{id}", s.handleGrowingAreaGet)
	s.handle(r, post, "/api/v1/growing-areas", s.handleGrowingAreaCreate)
	s.handle(r, post, "/api/v1/codes/{code}/visits", s.handleCodeVisit)
	s.handle(r, get, "/api/v1/codes/{code}/visits", s.handleCodeVisits)
	s.handle(r, get, "/api/v1/supervision/overdue", s.handleOverdue)
	s.handle(r, get, "/api/v1/packing-houses/{id}", s.handlePackingHouseGet)
	s.handle(r, get, "/api/v1/codes/{code}", s.handleCodeGet)
	s.handle(r, post, "/api/v1/codes/{code}/status", s.handleCodeStatus)
	s.handle(r, get, "/api/v1/search", s.handleSearch)

	s.handle(r, post, "/api/v1/applications", s.handleApplicationCreate)
	s.handle(r, get, "/api/v1/applications", s.handleApplicationList)
	s.handle(r, get, "/api/v1/applications/{id}", s.handleApplicationGet)
	s.handle(r, patch, "/api/v1/applications/{id}", s.handleApplicationPatch)
	s.handle(r, post, "/api/v1/applications/{id}/status", s.handleApplicationStatus)
	s.handle(r, post, "/api/v1/applications/{id}/attachments", s.handleAttachmentCreate)
	s.handle(r, get, "/api/v1/applications/{id}/attachments/{attachment}", s.handleAttachmentGet)
	s.handle(r, del, "/api/v1/applications/{id}/attachments/{attachment}", s.handleAttachmentDelete)
	s.handle(r, post, "/api/v1/applications/{id}/inspection", s.handleInspectionCreate)
	s.handle(r, get, "/api/v1/inspections/{id}/photos/{photo}", s.handleInspectionPhoto)
	s.handle(r, post, "/api/v1/applications/{id}/decision", s.handleDecision)
	s.handle(r, get, "/api/v1/inbox", s.handleInbox)
	s.handle(r, get, "/api/v1/organisation", s.handleOrganisation)
	s.handle(r, get, "/api/v1/seasonal-reports/missing", s.handleMissingReports)
	s.handle(r, get, "/api/v1/growing-areas/{id}/plots", s.handleAreaPlots)
	s.handle(r, get, "/api/v1/growing-areas/{id}/households.csv", s.handleHouseholdsCSV)
	s.handle(r, get, "/api/v1/growing-areas/{id}/dossier.kml", s.handleDossierKML)
	s.handle(r, get, "/print/growing-areas/{id}/households", s.handleHouseholdsPrint)
	s.handle(r, get, "/print/codes/{code}", s.handleDecisionPrint)
	s.handle(r, put, "/api/v1/growing-areas/{id}/plots", s.handleAreaPlotsSet)
	s.handle(r, post, "/api/v1/growing-areas/{id}/seasonal-reports", s.handleSeasonalReportCreate)
	s.handle(r, get, "/api/v1/growing-areas/{id}/seasonal-reports", s.handleSeasonalReports)
	s.handle(r, patch, "/api/v1/seasonal-reports/{id}", s.handleSeasonalReportPatch)
	s.handle(r, post, "/api/v1/codes/{code}/market-steps", s.handleMarketStep)
	s.handle(r, get, "/api/v1/codes/{code}/market-steps", s.handleMarketSteps)
	s.handle(r, get, "/api/v1/province-letters", s.handleProvinceLetters)
	s.handle(r, put, "/api/v1/province-letters/{province}", s.handleProvinceLettersSet)
	s.handle(r, post, "/api/v1/packing-houses", s.handlePackingHouseCreate)
	s.handle(r, patch, "/api/v1/packing-houses/{id}", s.handlePackingHousePatch)
	s.handle(r, put, "/api/v1/packing-houses/{id}/growing-areas/{area}", s.handlePackingLink)
	s.handle(r, post, "/api/v1/codes/check", s.handleCodeCheck)

	s.handle(r, post, "/api/v1/lots", s.handleLotCreate)
	s.handle(r, get, "/api/v1/lots", s.handleLotList)
	s.handle(r, get, "/api/v1/lots/{ref}", s.handleLotGet)
	s.handle(r, post, "/api/v1/lots/{ref}/receive", s.handleLotReceive)
	s.handle(r, post, "/api/v1/consignments", s.handleConsignmentCreate)
	s.handle(r, get, "/api/v1/consignments", s.handleConsignmentList)
	s.handle(r, get, "/api/v1/consignments/{ref}", s.handleConsignmentGet)
	s.handle(r, get, "/api/v1/consignments/{ref}/check", s.handleConsignmentCheck)
	s.handle(r, get, "/api/v1/consignments/{ref}/epcis", s.handleConsignmentEPCIS)
	s.handle(r, get, "/api/v1/trace/report", s.handleTraceReport)

	// The public pages a QR code on a carton leads to.
	s.handle(r, get, "/v/{code}", s.handleCodePage)
	s.handle(r, get, "/v/{code}/qr.{ext}", s.handleCodeQR)
	s.handle(r, get, "/t/{code}", s.handleTracePage)
	s.handle(r, get, "/t/{code}/qr.{ext}", s.handleTraceQR)

	s.handle(r, get, "/tiles/{layer}/{z}/{x}/{y}", s.handleTile)
	s.handle(r, get, "/tiles/{layerjson}", s.handleTileJSON)
	s.handle(r, get, "/style.json", s.handleStyle)

	static := staticHandler()
	s.handle(r, get, "/*", func(w http.ResponseWriter, r *http.Request) error {
		if strings.HasPrefix(r.URL.Path, "/api/") {
			return registry.Errorf(registry.ENOTFOUND, "no such endpoint: %s %s", r.Method, r.URL.Path)
		}
		static.ServeHTTP(w, r)
		return nil
	})
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
