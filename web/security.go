package web

import (
	"net"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/vungtrong/vungtrong/registry"
)

// contentSecurityPolicy returns the page's CSP. The map's own files, tiles and API are
// same-origin; MapLibre starts its worker from a blob: URL and draws images from data: and blob:
// URLs. A configured basemap adds its origin (or, for a basemap style, whose sources cannot be
// known in advance, any https origin) to the images and connections the page may load.
func contentSecurityPolicy(m MapConfig) string {
	img := []string{"'self'", "data:", "blob:"}
	connect := []string{"'self'"}
	if o := originOf(m.BasemapRaster); o != "" {
		img = append(img, o)
		connect = append(connect, o)
	}
	if m.BasemapStyle != nil {
		img = append(img, "https:")
		connect = append(connect, "https:")
	}
	return strings.Join([]string{
		"default-src 'self'",
		"script-src 'self'",
		"worker-src 'self' blob:",
		"child-src blob:",
		"img-src " + strings.Join(img, " "),
		"connect-src " + strings.Join(connect, " "),
		"style-src 'self'",
		"font-src 'self' data:",
		"object-src 'none'",
		"base-uri 'self'",
		"form-action 'self'",
		"frame-ancestors 'none'",
	}, "; ")
}

// originOf returns scheme://host of a URL (template), or "".
func originOf(raw string) string {
	u, err := url.Parse(strings.NewReplacer("{z}", "0", "{x}", "0", "{y}", "0").Replace(raw))
	if err != nil || u.Scheme == "" || u.Host == "" {
		return ""
	}
	return u.Scheme + "://" + u.Host
}

// securityHeaders sets the headers every answer carries: what the browser may load (CSP), no
// MIME sniffing, no framing by other sites, no full URLs in the Referer sent elsewhere, and,
// over TLS, HSTS.
func (s *Server) securityHeaders(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", s.csp)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "strict-origin-when-cross-origin")
	if s.secure(r) {
		h.Set("Strict-Transport-Security", "max-age=31536000")
	}
}

// badText returns why s cannot be text the registry stores ("" when it can): invalid UTF-8, or
// a NUL character, which PostgreSQL's text cannot hold.
func badText(s string) string {
	if !utf8.ValidString(s) {
		return "is not valid UTF-8 text"
	}
	if strings.IndexByte(s, 0) >= 0 {
		return "contains a NUL character"
	}
	return ""
}

// checkParams refuses, with 400 naming the parameter, a request whose path or query holds text
// that is not valid UTF-8 or holds a NUL: such values can only be mistakes or probes, and would
// otherwise fail deep in the database.
func checkParams(r *http.Request) error {
	if why := badText(r.URL.Path); why != "" {
		return &registry.Error{Code: registry.EMALFORMED, Message: "the address " + why,
			Details: []registry.Detail{{Field: "path", Message: why}}}
	}
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return registry.Errorf(registry.EMALFORMED, "the query string is not well formed: %v", err)
	}
	var details []registry.Detail
	for k, vs := range q {
		if why := badText(k); why != "" {
			details = append(details, registry.Detail{Field: "query", Message: "a parameter name " + why})
			continue
		}
		for _, v := range vs {
			if why := badText(v); why != "" {
				details = append(details, registry.Detail{Field: k, Message: why})
			}
		}
	}
	if len(details) > 0 {
		return &registry.Error{Code: registry.EMALFORMED, Message: "parameter " + details[0].Field + " " + details[0].Message, Details: details}
	}
	return nil
}

// clientAddr returns the caller's IP address. Behind trusted proxies (http.trust_proxy) it is
// read from X-Forwarded-For counting TrustedHops entries from the right: each proxy appends the
// address that connected to it, so the entries further left were written by the client and
// prove nothing. With fewer entries than hops, the connection's own address is used.
func (s *Server) clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	if !s.cfg.TrustProxy {
		return host
	}
	var hops []string
	for _, h := range r.Header.Values("X-Forwarded-For") {
		for _, e := range strings.Split(h, ",") {
			hops = append(hops, strings.TrimSpace(e))
		}
	}
	n := max(s.cfg.TrustedHops, 1)
	if len(hops) < n {
		return host
	}
	if ip := net.ParseIP(hops[len(hops)-n]); ip != nil {
		return ip.String()
	}
	return host
}

// secure reports whether the request came over TLS (directly, or through a trusted proxy).
func (s *Server) secure(r *http.Request) bool {
	if s.cfg.PublicURL != nil {
		return s.cfg.PublicURL.Scheme == "https"
	}
	return r.TLS != nil || (s.cfg.TrustProxy && strings.EqualFold(lastValue(r.Header.Get("X-Forwarded-Proto")), "https"))
}

// lastValue is the last entry of a comma-separated header (the one the nearest proxy wrote).
func lastValue(h string) string {
	if i := strings.LastIndexByte(h, ','); i >= 0 {
		h = h[i+1:]
	}
	return strings.TrimSpace(h)
}

// baseURL is the scheme and host of absolute URLs the server writes (TileJSON, the style):
// http.public_url when it is configured; else, behind a trusted proxy, the host it forwards;
// else the Host header only when it names this machine by a loopback name or an IP address, and
// otherwise the address the server listens on. A Host header a client made up never reaches a
// URL the server hands out.
func (s *Server) baseURL(r *http.Request) string {
	if u := s.cfg.PublicURL; u != nil {
		return strings.TrimSuffix(u.Scheme+"://"+u.Host+u.Path, "/")
	}
	scheme := "http"
	if s.secure(r) {
		scheme = "https"
	}
	if s.cfg.TrustProxy {
		if fh := lastValue(r.Header.Get("X-Forwarded-Host")); fh != "" && validHost(fh) {
			return scheme + "://" + fh
		}
	}
	if validHost(r.Host) && localHost(r.Host) {
		return scheme + "://" + r.Host
	}
	return scheme + "://" + cmpOr(s.cfg.ListenAddr, "localhost")
}

// validHost reports whether h is a host[:port] and nothing else.
func validHost(h string) bool {
	if h == "" || len(h) > 255 || strings.ContainsAny(h, "/\\?#@ \t\"'<>") {
		return false
	}
	u, err := url.Parse("http://" + h)
	return err == nil && u.Host == h
}

// localHost reports whether a Host header names the machine itself: localhost or an IP literal
// (a browser on the local network opens http://192.168.1.20:8080 and must get a working map).
func localHost(h string) bool {
	name := h
	if host, _, err := net.SplitHostPort(h); err == nil {
		name = host
	}
	name = strings.Trim(name, "[]")
	return name == "localhost" || net.ParseIP(name) != nil
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
