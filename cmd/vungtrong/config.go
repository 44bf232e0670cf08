package main

import (
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"
	"github.com/spf13/viper"
	"github.com/vungtrong/vungtrong/geo"
	"github.com/vungtrong/vungtrong/web"
)

// Config is the whole configuration of vungtrong. Every key has a default (see configKeys) and
// can be set in vungtrong.yaml, by an environment variable VUNGTRONG_<KEY> (dots become
// underscores) or, for the main keys, by a flag.
type Config struct {
	HTTP struct {
		Addr            string
		MaxBodyBytes    int64
		MaxUploadBytes  int64
		ShutdownTimeout time.Duration
		TrustProxy      bool
		TrustedHops     int
		PublicURL       *url.URL
		RequestTimeout  time.Duration
		PublicRate      float64
		PublicBurst     int
		TileRate        float64
		TileBurst       int
		BusyWait        time.Duration
	}
	DataDir  string
	Database struct {
		URL              string
		ReadURL          string
		MaxConns         int
		StatementTimeout time.Duration
	}
	Log struct {
		Level  slog.Level
		Format string
	}
	Registry struct {
		DefaultProvince string
	}
	Trace struct {
		YieldTolerance float64
	}
	Codes struct {
		ValidityMonths int
	}
	Geometry geo.Limits
	// Neighbours are the geometry.* keys on how plots sit among their neighbours.
	Neighbours geo.NeighbourRules
	API        struct {
		PageSize, MaxPageSize int
	}
	Tiles struct {
		CacheMB  int
		MaxAge   time.Duration
		MaxConns int
	}
	Map struct {
		Attribution              string
		BasemapRaster            string
		BasemapRasterAttribution string
		BasemapStyle             string
	}
	Metrics struct {
		AllowFrom []string
	}
	Auth struct {
		SessionTTL       time.Duration
		LoginMaxFailures int
		LoginWindow      time.Duration
		CodeSender       string
		AdminPassword    string
	}
}

// configKey documents and parses one configuration key.
type configKey struct {
	name    string
	def     string
	doc     string
	allowed string
	set     func(c *Config, v string) error
}

// EnvName returns the environment variable of the key.
func (k configKey) EnvName() string {
	return "VUNGTRONG_" + strings.ToUpper(strings.ReplaceAll(k.name, ".", "_"))
}

var errBadValue = fmt.Errorf("bad value")

func positiveInt(dst func(*Config) *int) func(*Config, string) error {
	return func(c *Config, v string) error {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || n <= 0 {
			return errBadValue
		}
		*dst(c) = n
		return nil
	}
}

func duration(dst func(*Config) *time.Duration, least time.Duration) func(*Config, string) error {
	return func(c *Config, v string) error {
		d, err := time.ParseDuration(strings.TrimSpace(v))
		if err != nil || d < least {
			return errBadValue
		}
		*dst(c) = d
		return nil
	}
}

func boolean(dst func(*Config) *bool) func(*Config, string) error {
	return func(c *Config, v string) error {
		b, err := strconv.ParseBool(strings.TrimSpace(v))
		if err != nil {
			return errBadValue
		}
		*dst(c) = b
		return nil
	}
}

func nonNegativeFloat(dst func(*Config) *float64) func(*Config, string) error {
	return func(c *Config, v string) error {
		f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil || f < 0 || f != f {
			return errBadValue
		}
		*dst(c) = f
		return nil
	}
}

var provinceCodeRE = regexp.MustCompile(`^([0-9]{2})?$`)

// configKeys is every configuration key, with its default and what it accepts.
var configKeys = []configKey{
	{"http.addr", ":8080", "address the server listens on", "host:port, e.g. :8080 or 127.0.0.1:8080",
		func(c *Config, v string) error {
			host, port, err := net.SplitHostPort(v)
			if err != nil {
				return errBadValue
			}
			if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
				return errBadValue
			}
			_ = host
			c.HTTP.Addr = v
			return nil
		}},
	{"http.max_body_bytes", "5242880", "largest request body accepted, in bytes", "a whole number of bytes >= 1024",
		func(c *Config, v string) error {
			n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			if err != nil || n < 1024 {
				return errBadValue
			}
			c.HTTP.MaxBodyBytes = n
			return nil
		}},
	{"http.max_upload_bytes", "536870912", "largest survey file accepted by an import upload, in bytes", "a whole number of bytes >= 1024",
		func(c *Config, v string) error {
			n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			if err != nil || n < 1024 {
				return errBadValue
			}
			c.HTTP.MaxUploadBytes = n
			return nil
		}},
	{"http.shutdown_timeout", "10s", "how long a stopping server waits for requests in flight", "a duration such as 10s or 1m",
		duration(func(c *Config) *time.Duration { return &c.HTTP.ShutdownTimeout }, 0)},
	{"http.trust_proxy", "false", "take the client address and TLS from X-Forwarded-For / X-Forwarded-Proto (only behind a proxy that sets them)", "true or false",
		boolean(func(c *Config) *bool { return &c.HTTP.TrustProxy })},
	{"http.trusted_hops", "1", "how many proxies in front of the server append to X-Forwarded-For (with http.trust_proxy): the client's address is that many entries from the right", "a whole number >= 1",
		positiveInt(func(c *Config) *int { return &c.HTTP.TrustedHops })},
	{"http.public_url", "", "the registry's public address, the base of absolute URLs in TileJSON and the map style (e.g. https://vungtrong.example.gov.vn); empty takes it from the trusted proxy or the address the browser used, when that is localhost or an IP address", "empty or an http(s) URL without query",
		func(c *Config, v string) error {
			v = strings.TrimSpace(v)
			if v == "" {
				c.HTTP.PublicURL = nil
				return nil
			}
			u, err := url.Parse(v)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
				return errBadValue
			}
			c.HTTP.PublicURL = u
			return nil
		}},
	{"http.request_timeout", "30s", "how long a request (other than an upload) may take before it is answered 503: a database that hangs does not hang the server", "a duration >= 1s, such as 30s",
		duration(func(c *Config) *time.Duration { return &c.HTTP.RequestTimeout }, time.Second)},
	{"http.busy_wait", "250ms", "how long an API request waits for one of the database's connections (the server takes about database.max_conns at once) before it is answered 503, instead of queueing past its deadline", "a duration >= 0, such as 250ms",
		duration(func(c *Config) *time.Duration { return &c.HTTP.BusyWait }, 0)},
	{"http.public_rate", "20", "anonymous API requests a second per address; 0 turns the limit off", "a number >= 0",
		nonNegativeFloat(func(c *Config) *float64 { return &c.HTTP.PublicRate })},
	{"http.public_burst", "60", "anonymous API requests an address may make at once", "a whole number >= 1",
		positiveInt(func(c *Config) *int { return &c.HTTP.PublicBurst })},
	{"http.tile_rate", "200", "tile requests a second per address, per server; 0 turns the limit off", "a number >= 0",
		nonNegativeFloat(func(c *Config) *float64 { return &c.HTTP.TileRate })},
	{"http.tile_burst", "400", "tile requests an address may make at once, per server", "a whole number >= 1",
		positiveInt(func(c *Config) *int { return &c.HTTP.TileBurst })},
	{"data_dir", "./var", "folder for the embedded database and other local state", "a folder path",
		func(c *Config, v string) error {
			if strings.TrimSpace(v) == "" {
				return errBadValue
			}
			c.DataDir = v
			return nil
		}},
	{"database.url", "", "PostgreSQL + PostGIS 3 server to use; empty runs the embedded database in <data_dir>/pg", "empty, or a URL postgres://user:password@host:5432/dbname",
		func(c *Config, v string) error {
			v = strings.TrimSpace(v)
			if v != "" && !strings.HasPrefix(v, "postgres://") && !strings.HasPrefix(v, "postgresql://") {
				return errBadValue
			}
			c.Database.URL = v
			return nil
		}},
	{"database.read_url", "", "a streaming replica of database.url for tiles and anonymous reads; empty reads from the primary", "empty, or a URL postgres://user:password@host:5432/dbname",
		func(c *Config, v string) error {
			v = strings.TrimSpace(v)
			if v != "" && !strings.HasPrefix(v, "postgres://") && !strings.HasPrefix(v, "postgresql://") {
				return errBadValue
			}
			c.Database.ReadURL = v
			return nil
		}},
	{"database.statement_timeout", "10s", "longest a statement of a request may run on the database (imports and migrations lift it for their own work)", "a duration >= 100ms, such as 10s",
		duration(func(c *Config) *time.Duration { return &c.Database.StatementTimeout }, 100*time.Millisecond)},
	{"database.max_conns", "20", "largest number of database connections", "a whole number >= 1",
		positiveInt(func(c *Config) *int { return &c.Database.MaxConns })},
	{"log.level", "info", "least important log level printed", "debug, info, warn or error",
		func(c *Config, v string) error { return c.Log.Level.UnmarshalText([]byte(strings.TrimSpace(v))) }},
	{"log.format", "text", "log line format", "text or json",
		func(c *Config, v string) error {
			if v != "text" && v != "json" {
				return errBadValue
			}
			c.Log.Format = v
			return nil
		}},
	{"registry.default_province", "", "province of a new plot that neither names one nor lies in a loaded boundary", "empty or a 2-digit GSO province code, e.g. 66",
		func(c *Config, v string) error {
			if !provinceCodeRE.MatchString(strings.TrimSpace(v)) {
				return errBadValue
			}
			c.Registry.DefaultProvince = strings.TrimSpace(v)
			return nil
		}},
	{"trace.yield_tolerance", "0.1", "how far above a growing area's hectares × its crop's yield cap (vungtrong crop set) a season's harvest lots may weigh before they are flagged, as a share (0.1 = 10%); also how much more than a lot weighed may be received or shipped from it", "a number >= 0, such as 0.1",
		nonNegativeFloat(func(c *Config) *float64 { return &c.Trace.YieldTolerance })},
	{"codes.validity_months", "24", "how long a code issued by a decision is valid when the decision names no valid_to, in months", "a whole number > 0, such as 24",
		positiveInt(func(c *Config) *int { return &c.Codes.ValidityMonths })},
	{"geometry.max_vertices", "10000", "most positions a plot geometry may have", "a whole number >= 4",
		func(c *Config, v string) error {
			n, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil || n < 4 {
				return errBadValue
			}
			c.Geometry.MaxVertices = n
			return nil
		}},
	{"geometry.min_area_ha", "0.001", "smallest plot area accepted, in hectares", "a number >= 0",
		nonNegativeFloat(func(c *Config) *float64 { return &c.Geometry.MinAreaHa })},
	{"geometry.max_area_ha", "1000", "largest plot area accepted, in hectares", "a number >= 0",
		nonNegativeFloat(func(c *Config) *float64 { return &c.Geometry.MaxAreaHa })},
	{"geometry.overlap_tolerance", "0.01", "share of the smaller of two plots by which their interiors may overlap before a write or an import is refused (0.01 = 1%); an agriculture officer may keep a larger overlap with a reason", "a number from 0 to 1",
		func(c *Config, v string) error {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil || !(f >= 0 && f <= 1) {
				return errBadValue
			}
			c.Neighbours.OverlapTolerance = f
			return nil
		}},
	{"geometry.sliver_m2", "1", "parts smaller than this, in square metres, are dropped from the geometry suggested for a plot drawn over its neighbours", "a number >= 0",
		nonNegativeFloat(func(c *Config) *float64 { return &c.Neighbours.SliverM2 })},
	{"geometry.snap_m", "0.01", "vertices of a plot written or checked that lie within this many metres of a neighbour's vertex or side are moved exactly onto it, so neighbours share edges; 0 turns snapping off", "a number from 0 to 1",
		func(c *Config, v string) error {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil || !(f >= 0 && f <= 1) {
				return errBadValue
			}
			c.Neighbours.SnapM = f
			return nil
		}},
	{"api.page_size", "100", "items in a list page when the client does not say", "a whole number >= 1",
		positiveInt(func(c *Config) *int { return &c.API.PageSize })},
	{"api.max_page_size", "1000", "most items a client may ask for in one page", "a whole number >= 1",
		positiveInt(func(c *Config) *int { return &c.API.MaxPageSize })},
	{"tiles.cache_mb", "256", "memory for rendered tiles, in MB; 0 turns the tile cache off", "a whole number >= 0",
		func(c *Config, v string) error {
			n, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil || n < 0 {
				return errBadValue
			}
			c.Tiles.CacheMB = n
			return nil
		}},
	{"tiles.max_age", "0s", "how long browsers may keep a tile without asking again; 0 makes them revalidate (with the ETag), so edits show at once", "a duration >= 0, such as 0s or 1m",
		duration(func(c *Config) *time.Duration { return &c.Tiles.MaxAge }, 0)},
	{"tiles.max_conns", "16", "database connections for tile queries (a pool apart from the API's)", "a whole number >= 1",
		positiveInt(func(c *Config) *int { return &c.Tiles.MaxConns })},
	{"map.attribution", "Vùng Trồng", "attribution shown for the registry's layers", "any text",
		func(c *Config, v string) error { c.Map.Attribution = v; return nil }},
	{"map.basemap_raster", "", "a raster basemap under the registry's layers, as an XYZ URL template (e.g. https://tile.openstreetmap.org/{z}/{x}/{y}.png); empty keeps the offline background", "empty or a URL with {z}, {x} and {y}",
		func(c *Config, v string) error {
			if v != "" && (!strings.Contains(v, "{z}") || !strings.Contains(v, "{x}") || !strings.Contains(v, "{y}") || !strings.HasPrefix(v, "http")) {
				return errBadValue
			}
			c.Map.BasemapRaster = v
			return nil
		}},
	{"map.basemap_raster_attribution", "", "attribution of the raster basemap (e.g. © OpenStreetMap contributors)", "any text",
		func(c *Config, v string) error { c.Map.BasemapRasterAttribution = v; return nil }},
	{"map.basemap_style", "", "a MapLibre style (URL or file) whose layers go under the registry's, e.g. a vector basemap; read at start", "empty, an http(s) URL or a file path",
		func(c *Config, v string) error { c.Map.BasemapStyle = v; return nil }},
	{"metrics.allow_from", "127.0.0.0/8,::1/128", "networks whose clients may read /metrics without signing in as an administrator (the monitoring system's)", "comma-separated CIDR networks, e.g. 10.0.0.0/8,127.0.0.0/8; empty: administrators only",
		func(c *Config, v string) error {
			c.Metrics.AllowFrom = nil
			for _, n := range strings.Split(v, ",") {
				if n = strings.TrimSpace(n); n == "" {
					continue
				}
				if _, _, err := net.ParseCIDR(n); err != nil {
					return errBadValue
				}
				c.Metrics.AllowFrom = append(c.Metrics.AllowFrom, n)
			}
			return nil
		}},
	{"auth.session_ttl", "12h", "how long a web sign-in lasts", "a duration of at least 1m, such as 12h",
		duration(func(c *Config) *time.Duration { return &c.Auth.SessionTTL }, time.Minute)},
	{"auth.login_max_failures", "10", "failed sign-ins of one account, or from one address, that block further tries until auth.login_window ends", "a whole number >= 1",
		positiveInt(func(c *Config) *int { return &c.Auth.LoginMaxFailures })},
	{"auth.login_window", "15m", "the window in which failed sign-ins are counted", "a duration of at least 1s, such as 15m",
		duration(func(c *Config) *time.Duration { return &c.Auth.LoginWindow }, time.Second)},
	{"auth.code_sender", "", "how farmers' one-time sign-in codes are sent: empty turns codes off; log writes them to the log (development only)", "empty or log",
		func(c *Config, v string) error {
			if v != "" && v != "log" {
				return errBadValue
			}
			c.Auth.CodeSender = v
			return nil
		}},
	{"auth.admin_password", "", "password of the first admin account, created when there is none; empty makes one up and prints it once", "empty, or at least 8 characters",
		func(c *Config, v string) error {
			if v != "" && len([]rune(v)) < 8 {
				return errBadValue
			}
			c.Auth.AdminPassword = v
			return nil
		}},
}

// newViper returns a viper with every key's default, the environment bound, and the flags of
// fs bound to their keys.
func newViper(fs *pflag.FlagSet) *viper.Viper {
	v := viper.New()
	for _, k := range configKeys {
		v.SetDefault(k.name, k.def)
		_ = v.BindEnv(k.name, k.EnvName())
	}
	for flag, key := range map[string]string{"http-addr": "http.addr", "data-dir": "data_dir", "database-url": "database.url", "log-level": "log.level"} {
		if f := fs.Lookup(flag); f != nil {
			_ = v.BindPFlag(key, f)
		}
	}
	return v
}

// loadConfig reads the configuration: defaults, then the file (path, or ./vungtrong.yaml when
// it exists), then the environment, then flags. Any bad value or unknown key in the file stops
// it with a message that names the key and says what is allowed.
func loadConfig(v *viper.Viper, path string) (Config, error) {
	var cfg Config
	if path == "" {
		if _, err := os.Stat("vungtrong.yaml"); err == nil {
			path = "vungtrong.yaml"
		}
	}
	if path != "" {
		v.SetConfigFile(path)
		if err := v.ReadInConfig(); err != nil {
			return cfg, fmt.Errorf("configuration file %s: %w", path, err)
		}
		known := map[string]bool{}
		for _, k := range configKeys {
			known[k.name] = true
		}
		var unknown []string
		for _, k := range v.AllKeys() {
			if !known[k] {
				unknown = append(unknown, k)
			}
		}
		if len(unknown) > 0 {
			sort.Strings(unknown)
			return cfg, fmt.Errorf("configuration file %s: unknown key %s (run `vungtrong config` for the list of keys)", path, strings.Join(unknown, ", "))
		}
	}
	var problems []string
	for _, k := range configKeys {
		raw := v.GetString(k.name)
		if err := k.set(&cfg, raw); err != nil {
			problems = append(problems, fmt.Sprintf("configuration key %s (env %s) is %q: allowed is %s", k.name, k.EnvName(), raw, k.allowed))
		}
	}
	if len(problems) == 0 {
		problems = cfg.validate()
	}
	if len(problems) > 0 {
		return cfg, fmt.Errorf("%s", strings.Join(problems, "\n"))
	}
	return cfg, nil
}

// validate checks rules between keys.
func (c *Config) validate() []string {
	var p []string
	if c.Geometry.MaxAreaHa > 0 && c.Geometry.MinAreaHa > c.Geometry.MaxAreaHa {
		p = append(p, fmt.Sprintf("geometry.min_area_ha (%g) is above geometry.max_area_ha (%g)", c.Geometry.MinAreaHa, c.Geometry.MaxAreaHa))
	}
	if c.API.PageSize > c.API.MaxPageSize {
		p = append(p, fmt.Sprintf("api.page_size (%d) is above api.max_page_size (%d)", c.API.PageSize, c.API.MaxPageSize))
	}
	return p
}

// webConfig is the part of the configuration the HTTP layer takes.
func (c *Config) webConfig() web.Config {
	return web.Config{MaxBodyBytes: c.HTTP.MaxBodyBytes, Geometry: c.Geometry, PageSize: c.API.PageSize, MaxPageSize: c.API.MaxPageSize,
		TrustProxy: c.HTTP.TrustProxy, TrustedHops: c.HTTP.TrustedHops, PublicURL: c.HTTP.PublicURL, RequestTimeout: c.HTTP.RequestTimeout,
		ListenAddr: displayAddr(c.HTTP.Addr), TileRate: c.HTTP.TileRate, TileBurst: c.HTTP.TileBurst,
		// The pool also holds the change feed's connection and the jobs' work.
		MaxConcurrent: max(c.Database.MaxConns-2, 2), BusyWait: c.HTTP.BusyWait,
		PublicRate: c.HTTP.PublicRate, PublicBurst: c.HTTP.PublicBurst, TileMaxAge: c.Tiles.MaxAge,
		MaxUploadBytes: c.HTTP.MaxUploadBytes,
		Map:            web.MapConfig{Attribution: c.Map.Attribution, BasemapRaster: c.Map.BasemapRaster, BasemapRasterAttribution: c.Map.BasemapRasterAttribution}}
}
