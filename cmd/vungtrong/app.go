package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/vungtrong/vungtrong/pgcluster"
	"github.com/vungtrong/vungtrong/registry"
	"github.com/vungtrong/vungtrong/registry/postgres"
	"github.com/vungtrong/vungtrong/tiles"
	"github.com/vungtrong/vungtrong/tiles/postgis"
	"github.com/vungtrong/vungtrong/web"
)

// embeddedDatabase is the database created in the embedded cluster.
const embeddedDatabase = "vungtrong"

// openDB opens the configured database: the server at database.url, or the embedded cluster in
// <data_dir>/pg, started if it is not running. It checks PostGIS 3. The returned stop function
// closes the pool and stops the embedded server if this call started it.
func openDB(ctx context.Context, cfg Config, log *slog.Logger, opts postgres.Options) (*postgres.DB, func(), error) {
	url := cfg.Database.URL
	stopCluster := func() {}
	if url == "" {
		c, err := pgcluster.New(pgcluster.Options{Dir: filepath.Join(cfg.DataDir, "pg"), Logger: log})
		if err != nil {
			return nil, nil, err
		}
		started, err := c.Start(ctx)
		if err != nil {
			return nil, nil, err
		}
		if started {
			stopCluster = func() {
				if err := c.Stop(context.Background()); err != nil {
					log.Error("stopping the embedded database", "err", err)
				}
			}
		}
		if err := c.EnsureDatabase(ctx, embeddedDatabase); err != nil {
			stopCluster()
			return nil, nil, err
		}
		url = c.URL(embeddedDatabase)
	}
	opts.MaxConns, opts.Logger = cfg.Database.MaxConns, log
	db, err := postgres.Open(ctx, url, opts)
	if err != nil {
		stopCluster()
		return nil, nil, err
	}
	if err := db.CheckPostGIS(ctx); err != nil {
		db.Close()
		stopCluster()
		if cfg.Database.URL == "" && errors.Is(err, postgres.ErrNoPostGIS) {
			return nil, nil, fmt.Errorf("%w\nthe embedded database needs PostGIS installed on this machine: %s", err, pgcluster.InstallCommand)
		}
		return nil, nil, err
	}
	return db, func() { db.Close(); stopCluster() }, nil
}

// logCodeSender "sends" one-time sign-in codes by writing them to the log, for development and
// demos. The phone number is masked.
type logCodeSender struct{ log *slog.Logger }

func (s logCodeSender) SendCode(ctx context.Context, phone, code string) error {
	s.log.Warn("one-time sign-in code (development sender: configure SMS or Zalo in production)", "phone", registry.MaskPhone(phone), "code", code)
	return nil
}

// App is a running registry: database, migrations and HTTP server. Tests start one on port 0.
type App struct {
	cfg          Config
	log          *slog.Logger
	out          io.Writer
	db           *postgres.DB
	stopDB       func()
	ln           net.Listener
	srv          *http.Server
	tiles        *postgis.Source
	cache        *tiles.Cache
	basemapStyle map[string]any
	stopFeed     context.CancelFunc
	jobs         *postgres.Jobs
	metrics      *web.Metrics
	lookups      *web.LookupCache
	importsEnded *prometheus.CounterVec
}

// OpenApp opens the database, migrates it and, when there is no account yet, creates the first
// admin: with auth.admin_password, or with a password made up and printed once on out (the
// terminal, never the log).
func OpenApp(ctx context.Context, cfg Config, log *slog.Logger, out io.Writer) (*App, error) {
	db, stop, err := openDB(ctx, cfg, log, postgres.Options{StatementTimeout: cfg.Database.StatementTimeout})
	if err != nil {
		return nil, err
	}
	a := &App{cfg: cfg, log: log, out: out, db: db, stopDB: stop}
	if _, err := db.MigrateUp(ctx); err != nil {
		a.Close()
		return nil, err
	}
	password, madeUp := cfg.Auth.AdminPassword, cfg.Auth.AdminPassword == ""
	if madeUp {
		password = registry.NewPassword()
	}
	created, err := postgres.NewUserService(db).EnsureAdmin(ctx, password, madeUp)
	if err != nil {
		a.Close()
		return nil, fmt.Errorf("creating the first admin account: %w", err)
	}
	// With a read replica, tiles and anonymous reads go to it; writes, the editors' reads and
	// the change feed stay on the primary.
	if cfg.Database.ReadURL != "" {
		if err := db.OpenReplica(ctx, cfg.Database.ReadURL, cfg.Database.MaxConns); err != nil {
			a.Close()
			return nil, err
		}
	}
	if a.tiles, err = postgis.Open(ctx, db.URL(), postgis.Options{MaxConns: cfg.Tiles.MaxConns, StatementTimeout: cfg.Database.StatementTimeout,
		ReplicaURL: cfg.Database.ReadURL}); err != nil {
		a.Close()
		return nil, err
	}
	a.cache = tiles.NewCache(int64(cfg.Tiles.CacheMB) << 20)
	// Tiles a write touches are forgotten at once on this server, and through the database's
	// change feed on every other one (and here too: forgetting twice is harmless). A tile
	// rendered afterwards must show the change: from the replica only once it has replayed it.
	a.lookups = web.NewLookupCache(10 * time.Second)
	forget := func(c registry.Change) {
		if c.LSN != 0 {
			a.tiles.Require(c.LSN)
		}
		a.cache.Invalidate(c.Kind, c.BBox)
		if c.Kind == registry.ChangeGrowingArea || c.Kind == registry.ChangePackingHouse {
			a.lookups.Forget()
		}
	}
	db.OnCommit(func(changes []registry.Change) {
		for _, c := range changes {
			forget(c)
		}
	})
	feedCtx, stopFeed := context.WithCancel(context.WithoutCancel(ctx))
	a.stopFeed = stopFeed
	go db.ListenChanges(feedCtx, forget, func() {
		if db.TrackLSN {
			a.tiles.Require(db.PrimaryLSN())
		}
		a.cache.Flush()
		a.lookups.Forget()
	})
	// Imports of uploads (and later other work) run as jobs in the database, on whichever server
	// takes them.
	fi := &fileImporter{db: db, cfg: cfg}
	a.importsEnded = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "vungtrong_import_jobs_total",
		Help: "Imports of uploaded files this server ran, by how they ended (done, failed)."}, []string{"state"})
	if a.jobs, err = postgres.NewJobs(db, postgres.JobsOptions{Run: fi.runUpload, Logger: log,
		OnImportEnd: func(state string) { a.importsEnded.WithLabelValues(state).Inc() }}); err != nil {
		a.Close()
		return nil, err
	}
	if err := a.jobs.Start(ctx); err != nil {
		a.Close()
		return nil, err
	}
	if cfg.Map.BasemapStyle != "" {
		if a.basemapStyle, err = loadStyle(ctx, cfg.Map.BasemapStyle); err != nil {
			log.Warn("map.basemap_style could not be read; the map uses the plain background", "err", err)
		}
	}
	if err := a.registerMetrics(); err != nil {
		a.Close()
		return nil, err
	}
	if created && madeUp {
		fmt.Fprintf(out, "\n  The first account has been created. Sign in with\n      user name: admin\n      password:  %s\n  This password is shown once and must be changed at first sign-in.\n\n", password)
	} else if created {
		log.Info("first admin account created with auth.admin_password", "user", "admin")
	}
	return a, nil
}

// Listen opens the HTTP listener; Addr then tells where it is.
func (a *App) Listen() error {
	ln, err := net.Listen("tcp", a.cfg.HTTP.Addr)
	if err != nil {
		return fmt.Errorf("listening on %s (http.addr): %w", a.cfg.HTTP.Addr, err)
	}
	a.ln = ln
	return nil
}

// Addr returns the address the server listens on.
func (a *App) Addr() string { return a.ln.Addr().String() }

// DB returns the app's database.
func (a *App) DB() *postgres.DB { return a.db }

// Handler returns the HTTP handler wired to the database.
func (a *App) Handler() http.Handler {
	plots := postgres.NewPlotService(a.db)
	plots.Limits = a.cfg.Geometry
	plots.Neighbours = a.cfg.Neighbours
	plots.DefaultProvince = a.cfg.Registry.DefaultProvince
	plots.MaxPageSize = a.cfg.API.MaxPageSize
	producers := postgres.NewProducerService(a.db)
	producers.MaxPageSize = a.cfg.API.MaxPageSize
	auth := postgres.NewAuthService(a.db)
	auth.SessionTTL = a.cfg.Auth.SessionTTL
	auth.MaxFailures = a.cfg.Auth.LoginMaxFailures
	auth.Window = a.cfg.Auth.LoginWindow
	if a.cfg.Auth.CodeSender == "log" {
		auth.Sender = logCodeSender{log: a.log}
	}
	apps := postgres.NewApplicationService(a.db, a.cfg.Codes.ValidityMonths)
	cfg := a.cfg.webConfig()
	cfg.Map.BasemapStyle = a.basemapStyle
	if a.ln != nil {
		cfg.ListenAddr = displayAddr(a.Addr())
	}
	return web.NewServer(cfg, web.Services{
		Plots:        plots,
		Producers:    producers,
		Crops:        postgres.NewCropService(a.db),
		Users:        postgres.NewUserService(a.db),
		Auth:         auth,
		Tokens:       postgres.NewTokenService(a.db),
		Audit:        postgres.NewAuditService(a.db),
		Lookup:       postgres.NewLookupService(a.db),
		Codes:        postgres.NewCodeService(a.db),
		Areas:        postgres.NewGrowingAreaService(a.db),
		Supervision:  postgres.NewSupervisionService(a.db),
		Applications: apps,
		WorkQueues:   apps,
		Dossiers:     apps,
		Procedure:    postgres.NewProcedureService(a.db),
		Trace:        a.traceService(),
		Stories:      postgres.NewEPCISService(a.db),
		Tiles:        a.tiles,
		TileCache:    a.cache,
		Imports:      a.jobs,
		Uploads:      postgres.NewUploadStore(a.db, "import"),
		MapExtent:    a.db.PlotExtent,
		Ready:        a.db.Ping,
		Unavailable:  postgres.IsUnavailable,
		Metrics:      a.metrics,
		LookupCache:  a.lookups,
		EUDRExports:  postgres.NewEUDRExports(a.jobs, a.eudrExporter()),
		Screening:    postgres.NewScreeningService(a.db),
	}, a.log)
}

// traceService is the lots' and consignments' checks, with screening's word on the plots.
func (a *App) traceService() *postgres.TraceService {
	trace := postgres.NewTraceService(a.db)
	trace.YieldTolerance = a.cfg.Trace.YieldTolerance
	screening := postgres.NewScreeningService(a.db)
	trace.Risky = func(ctx context.Context, plotIDs []int64) (map[int64]string, error) {
		sum, err := screening.Summary(ctx, plotIDs)
		if err != nil {
			return nil, err
		}
		risky := map[int64]string{}
		for _, id := range sum.HighPlots {
			risky[id] = "high risk: tree cover of 2020 lost after 2020"
		}
		return risky, nil
	}
	return trace
}

// registerMetrics gathers what /metrics shows: the HTTP layer's own, the database pools, the
// tile cache, the import jobs, and the Go runtime and process.
func (a *App) registerMetrics() error {
	m, err := web.NewMetrics(a.cfg.Metrics.AllowFrom)
	if err != nil {
		return err
	}
	pools := poolCollector{"primary": a.db.Pool, "read": a.db.Read}
	for k, v := range a.tiles.Pools() {
		pools[k] = v
	}
	cache := func(name, help string, counter bool, v func(tiles.Stats) int64) prometheus.Collector {
		f := func() float64 { return float64(v(a.cache.Stats())) }
		if counter {
			return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help}, f)
		}
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, f)
	}
	m.Registry.MustRegister(
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}), pools, a.importsEnded,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "vungtrong_import_jobs_running", Help: "Imports this server is running."},
			func() float64 { return float64(a.jobs.Running()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "vungtrong_tile_replica_fallbacks_total",
			Help: "Tiles the primary drew because the read replica had not replayed a change yet."}, func() float64 { return float64(a.tiles.FellBack()) }),
		cache("vungtrong_tile_cache_hits_total", "Tiles answered from the cache.", true, func(s tiles.Stats) int64 { return s.Hits }),
		cache("vungtrong_tile_cache_misses_total", "Tiles the cache did not hold.", true, func(s tiles.Stats) int64 { return s.Misses }),
		cache("vungtrong_tile_cache_evictions_total", "Tiles forgotten to stay within the cache's memory.", true, func(s tiles.Stats) int64 { return s.Evictions }),
		cache("vungtrong_tile_cache_entries", "Tiles in the cache.", false, func(s tiles.Stats) int64 { return s.Entries }),
		cache("vungtrong_tile_cache_bytes", "Memory the cached tiles take.", false, func(s tiles.Stats) int64 { return s.Bytes }),
	)
	a.metrics = m
	return nil
}

// Serve serves HTTP until ctx is done, then shuts down gracefully.
func (a *App) Serve(ctx context.Context) error {
	a.srv = &http.Server{
		Handler:           a.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       2 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(a.log.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- a.srv.Serve(a.ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), a.cfg.HTTP.ShutdownTimeout)
	defer cancel()
	if err := a.srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutting down: %w", err)
	}
	return nil
}

// Close releases the database (and stops the embedded server if the app started it).
func (a *App) Close() {
	if a.ln != nil {
		_ = a.ln.Close()
	}
	if a.stopFeed != nil {
		a.stopFeed()
	}
	if a.jobs != nil {
		ctx, cancel := context.WithTimeout(context.Background(), a.cfg.HTTP.ShutdownTimeout)
		if err := a.jobs.Stop(ctx); err != nil {
			a.log.Error("stopping the job runner", "err", err)
		}
		cancel()
	}
	if a.tiles != nil {
		a.tiles.Close()
	}
	if a.stopDB != nil {
		a.stopDB()
	}
}

// loadStyle reads a MapLibre style from a URL or a file.
func loadStyle(ctx context.Context, where string) (map[string]any, error) {
	var body []byte
	if strings.HasPrefix(where, "http://") || strings.HasPrefix(where, "https://") {
		ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, where, nil)
		if err != nil {
			return nil, err
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			return nil, err
		}
		defer res.Body.Close()
		if res.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("%s: %s", where, res.Status)
		}
		if body, err = io.ReadAll(io.LimitReader(res.Body, 8<<20)); err != nil {
			return nil, err
		}
	} else {
		var err error
		if body, err = os.ReadFile(where); err != nil {
			return nil, err
		}
	}
	var style map[string]any
	if err := json.Unmarshal(body, &style); err != nil {
		return nil, fmt.Errorf("%s is not a JSON style: %w", where, err)
	}
	if v, _ := style["version"].(float64); v != 8 {
		return nil, fmt.Errorf("%s is not a MapLibre style (version 8)", where)
	}
	return style, nil
}
