package web

import (
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/vungtrong/vungtrong/registry"
)

// Metrics are the HTTP layer's Prometheus metrics, in a registry that cmd adds the database's,
// the tile cache's and the jobs' collectors to; /metrics serves it.
type Metrics struct {
	Registry      *prometheus.Registry
	requests      *prometheus.HistogramVec
	loginFailures *prometheus.CounterVec
	databaseUp    prometheus.Gauge
	// allow are the networks that may read /metrics without signing in as an administrator.
	allow []*net.IPNet
}

// NewMetrics returns the HTTP metrics, registered in a new registry. allow lists the networks
// (CIDR) that may scrape /metrics; administrators may from anywhere.
func NewMetrics(allow []string) (*Metrics, error) {
	m := &Metrics{Registry: prometheus.NewRegistry()}
	for _, a := range allow {
		_, n, err := net.ParseCIDR(strings.TrimSpace(a))
		if err != nil {
			return nil, err
		}
		m.allow = append(m.allow, n)
	}
	m.requests = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "vungtrong_http_request_duration_seconds",
		Help:    "Time to answer HTTP requests, by method, route and status.",
		Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
	}, []string{"method", "route", "status"})
	m.loginFailures = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "vungtrong_login_failures_total",
		Help: "Refused sign-ins and password changes: wrong credentials (unauthorized) or blocked (throttled).",
	}, []string{"kind", "reason"})
	m.databaseUp = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "vungtrong_database_up",
		Help: "1 while the database answers this server's requests, 0 during an outage.",
	})
	m.databaseUp.Set(1)
	m.Registry.MustRegister(m.requests, m.loginFailures, m.databaseUp)
	return m, nil
}

// observe records one answered request. route is the route's pattern, never the raw path
// (which would make a series per plot id).
func (m *Metrics) observe(method, route string, status int, took time.Duration) {
	if m == nil {
		return
	}
	m.requests.WithLabelValues(method, route, strconv.Itoa(status)).Observe(took.Seconds())
}

// loginFailed counts a refused sign-in of kind ("password", "code", "password_change").
func (m *Metrics) loginFailed(kind string, err error) {
	if m == nil {
		return
	}
	switch registry.ErrorCode(err) {
	case registry.EUNAUTHORIZED:
		m.loginFailures.WithLabelValues(kind, "unauthorized").Inc()
	case registry.ETOOMANY:
		m.loginFailures.WithLabelValues(kind, "throttled").Inc()
	}
}

// routeOf is the pattern of the route that served r, or "other" for what no route serves.
func routeOf(r *http.Request) string {
	if rc := chi.RouteContext(r.Context()); rc != nil {
		if p := rc.RoutePattern(); p != "" && p != "/*" {
			return p
		}
	}
	if strings.HasPrefix(r.URL.Path, "/api/") {
		return "other"
	}
	return "/*"
}

// handleMetrics answers "GET /metrics" in Prometheus's text format, to scrapers on an allowed
// network (metrics.allow_from) and to administrators.
func (s *Server) handleMetrics(w http.ResponseWriter, r *http.Request) error {
	m := s.svc.Metrics
	if m == nil {
		return registry.Errorf(registry.ENOTFOUND, "metrics are not kept on this server")
	}
	if a, _ := registry.ActorFromContext(r.Context()); a.Role != registry.RoleAdmin {
		ip := net.ParseIP(s.clientAddr(r))
		allowed := false
		for _, n := range m.allow {
			if ip != nil && n.Contains(ip) {
				allowed = true
			}
		}
		if !allowed {
			return registry.Errorf(registry.EFORBIDDEN, "metrics are for the monitoring system: scrape them from a network listed in metrics.allow_from, or as an administrator")
		}
	}
	promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError}).ServeHTTP(w, r)
	return nil
}
