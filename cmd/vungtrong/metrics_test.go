package main

import (
	"bytes"
	"regexp"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// /metrics scrapes in the Prometheus text format: the request histogram by route and status,
// the tile cache, the database pools, imports and failed sign-ins. Only allowed networks and
// administrators may read it.
func TestMetrics(t *testing.T) {
	a := startApp(t, func(c *Config) { c.HTTP.TrustProxy = true })
	a.loadDemo()
	a.do("GET", "/api/v1/plots/1", "")
	a.do("GET", "/api/v1/plots/999999", "")
	a.do("GET", "/tiles/plots/14/13134/7538.mvt", "")
	a.do("GET", "/tiles/plots/14/13134/7538.mvt", "")
	a.do("POST", "/api/v1/auth/login", `{"login":"admin","password":"not-the-password"}`, "Content-Type", "application/json")
	a.upload("khao-sat.geojson", surveyGeoJSON, nil)
	res := a.do("GET", "/metrics", "")
	if res.status != 200 || !strings.HasPrefix(res.header.Get("Content-Type"), "text/plain") {
		t.Fatalf("/metrics from loopback: %d %s", res.status, res.header.Get("Content-Type"))
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(bytes.NewReader(res.body))
	if err != nil {
		t.Fatalf("/metrics is not the Prometheus text format: %v", err)
	}
	value := func(name string, labels map[string]string) (float64, bool) {
		f := families[name]
		if f == nil {
			return 0, false
		}
	next:
		for _, m := range f.Metric {
			have := map[string]string{}
			for _, l := range m.Label {
				have[l.GetName()] = l.GetValue()
			}
			for k, v := range labels {
				if have[k] != v {
					continue next
				}
			}
			switch f.GetType() {
			case dto.MetricType_COUNTER:
				return m.Counter.GetValue(), true
			case dto.MetricType_GAUGE:
				return m.Gauge.GetValue(), true
			case dto.MetricType_HISTOGRAM:
				return float64(m.Histogram.GetSampleCount()), true
			}
		}
		return 0, false
	}
	if f := families["vungtrong_http_request_duration_seconds"]; f == nil || f.GetType() != dto.MetricType_HISTOGRAM || len(f.Metric[0].Histogram.Bucket) < 5 {
		t.Fatalf("no request histogram: %v", f)
	}
	for _, c := range []struct {
		name   string
		labels map[string]string
		least  float64
	}{
		{"vungtrong_http_request_duration_seconds", map[string]string{"route": "/api/v1/plots/{id}", "status": "200", "method": "GET"}, 1},
		{"vungtrong_http_request_duration_seconds", map[string]string{"route": "/api/v1/plots/{id}", "status": "404"}, 1},
		{"vungtrong_http_request_duration_seconds", map[string]string{"route": "/tiles/{layer}/{z}/{x}/{y}"}, 2},
		{"vungtrong_tile_cache_hits_total", nil, 1},
		{"vungtrong_tile_cache_misses_total", nil, 1},
		{"vungtrong_tile_cache_entries", nil, 1},
		{"vungtrong_tile_cache_bytes", nil, 1},
		{"vungtrong_db_pool_acquires_total", map[string]string{"pool": "primary"}, 1},
		{"vungtrong_db_pool_max_conns", map[string]string{"pool": "tiles"}, 1},
		{"vungtrong_login_failures_total", map[string]string{"kind": "password", "reason": "unauthorized"}, 1},
		{"vungtrong_import_jobs_total", map[string]string{"state": "done"}, 1},
		{"vungtrong_database_up", nil, 1},
	} {
		if v, ok := value(c.name, c.labels); !ok || v < c.least {
			t.Errorf("%s%v = %v (found %v), want at least %v", c.name, c.labels, v, ok, c.least)
		}
	}
	// No route label holds a raw path: a series per plot would never end.
	if regexp.MustCompile(`route="[^"]*[0-9]{3,}`).Match(res.body) {
		t.Error("a route label holds an id")
	}
	// From elsewhere only an administrator may read it.
	if res := a.do("GET", "/metrics", "", "X-Forwarded-For", "203.0.113.9"); res.status != 403 {
		t.Errorf("/metrics from another network: %d, want 403", res.status)
	}
	if res := a.do("GET", "/metrics", "", append(a.auth(), "X-Forwarded-For", "203.0.113.9")...); res.status != 200 {
		t.Errorf("/metrics for an administrator: %d", res.status)
	}
}

// A client's X-Request-Id is kept only when it is short and printable; otherwise the server
// makes its own.
func TestRequestIDIsChecked(t *testing.T) {
	a := startApp(t, nil)
	for id, kept := range map[string]bool{"abc-123.DEF_9": true, "has space": false, strings.Repeat("x", 65): false, "<script>": false, "café": false} {
		res := a.do("GET", "/healthz", "", "X-Request-Id", id)
		got := res.header.Get("X-Request-Id")
		if (got == id) != kept || got == "" || len(got) > 64 {
			t.Errorf("X-Request-Id %q: answered %q, kept %v, want kept %v", id, got, got == id, kept)
		}
	}
}
