package web

import (
	"net/http"
	"slices"
	"strings"

	"github.com/go-chi/chi/v5"
	"github.com/vungtrong/vungtrong/registry"
)

// Who may call a route at all. What they may do with a given object (jurisdiction, ownership,
// personal data) is decided by the registry's services; this table only keeps roles away from
// endpoints that are never theirs.
const (
	anyone   = "anyone"    // the public, signed in or not
	signedIn = "signed-in" // any role
)

var (
	managers = []string{registry.RoleAdmin, registry.RoleOfficer, registry.RoleCooperative}
	editors  = managers
	// eudrExporters may export EUDR geolocation (registry.CanExportEUDR).
	eudrExporters = []string{registry.RoleAdmin, registry.RoleOfficer, registry.RoleCooperative, registry.RoleExporter}
	// registrants apply for codes (cooperatives, enterprises) or decide them (officers, admins).
	registrants = []string{registry.RoleAdmin, registry.RoleOfficer, registry.RoleCooperative, registry.RoleExporter}
)

// routePolicy holds a rule for every route, keyed "METHOD /pattern". A route without a rule
// answers 403 to everyone: the default is deny. The role-by-route test reads this table and
// fails for a route that has no rule.
var routePolicy = map[string][]string{
	"GET /healthz": {anyone},
	"GET /readyz":  {anyone},
	// The monitoring system's; the handler admits allowed networks and administrators.
	"GET /metrics": {anyone},
	"GET /*":       {anyone}, // the web map's files

	"GET /api/v1/crops": {anyone},

	"GET /api/v1/plots":              {anyone},
	"GET /api/v1/plots/{id}":         {anyone},
	"GET /api/v1/plots/{id}/history": {anyone},
	"POST /api/v1/plots":             editors,
	"PUT /api/v1/plots/{id}":         editors,
	"PATCH /api/v1/plots/{id}":       append(slices.Clone(editors), registry.RoleFarmer),
	"DELETE /api/v1/plots/{id}":      editors,
	// Drawing on the map: checking a boundary before saving it, splitting, merging, restoring
	// an earlier version. Farmers keep their plots' crops, not their boundaries.
	"POST /api/v1/plots/check":        editors,
	"POST /api/v1/plots/merge":        editors,
	"POST /api/v1/plots/{id}/split":   editors,
	"POST /api/v1/plots/{id}/restore": editors,

	// Survey files are imported by officers for their provinces (and admins).
	"POST /api/v1/imports":     {registry.RoleAdmin, registry.RoleOfficer},
	"GET /api/v1/imports/{id}": {registry.RoleAdmin, registry.RoleOfficer},
	// Importing for real the file of a dry run whose report was read.
	"POST /api/v1/imports/{id}/commit": {registry.RoleAdmin, registry.RoleOfficer},
	// EUDR geolocation exports: producer names reach only whom ProducerAccess allows; an
	// export is seen by whoever started it (and admins).
	"POST /api/v1/eudr/exports":          eudrExporters,
	"GET /api/v1/eudr/exports/{id}":      eudrExporters,
	"GET /api/v1/eudr/exports/{id}/file": eudrExporters,

	"GET /api/v1/producers":         {anyone},
	"GET /api/v1/producers/{id}":    {anyone},
	"POST /api/v1/producers":        editors,
	"PUT /api/v1/producers/{id}":    editors,
	"PATCH /api/v1/producers/{id}":  editors,
	"DELETE /api/v1/producers/{id}": editors,

	"POST /api/v1/auth/login":       {anyone},
	"POST /api/v1/auth/code":        {anyone},
	"POST /api/v1/auth/code/verify": {anyone},
	"GET /api/v1/auth/session":      {anyone},
	"POST /api/v1/auth/logout":      {signedIn},
	"POST /api/v1/auth/password":    {signedIn},

	"GET /api/v1/users":                {registry.RoleAdmin, registry.RoleOfficer, registry.RoleCooperative},
	"POST /api/v1/users":               managers,
	"GET /api/v1/users/{id}":           managers,
	"POST /api/v1/users/{id}/password": managers,
	"POST /api/v1/users/{id}/disable":  managers,

	"GET /api/v1/tokens":         {signedIn},
	"POST /api/v1/tokens":        {signedIn},
	"DELETE /api/v1/tokens/{id}": {signedIn},

	"GET /api/v1/audit": {registry.RoleAdmin, registry.RoleOfficer},

	"GET /api/v1/growing-areas/{id}":   {anyone},
	"POST /api/v1/growing-areas":       {registry.RoleAdmin, registry.RoleOfficer, registry.RoleCooperative},
	"GET /api/v1/packing-houses/{id}":  {anyone},
	"GET /api/v1/codes/{code}":         {anyone},
	"POST /api/v1/codes/{code}/status": {registry.RoleAdmin, registry.RoleOfficer},
	"POST /api/v1/codes/{code}/visits": {registry.RoleAdmin, registry.RoleOfficer},
	"GET /api/v1/codes/{code}/visits":  registrants,
	"GET /api/v1/supervision/overdue":  {registry.RoleAdmin, registry.RoleOfficer},
	"GET /api/v1/search":               {anyone},
	// Applications for codes: the registrant (a cooperative, or an enterprise) and officers of
	// the province (the service checks which); inspections and decisions are officers'.
	"POST /api/v1/applications":                                 registrants,
	"GET /api/v1/applications":                                  registrants,
	"GET /api/v1/applications/{id}":                             registrants,
	"PATCH /api/v1/applications/{id}":                           registrants,
	"POST /api/v1/applications/{id}/status":                     registrants,
	"POST /api/v1/applications/{id}/attachments":                registrants,
	"GET /api/v1/applications/{id}/attachments/{attachment}":    registrants,
	"DELETE /api/v1/applications/{id}/attachments/{attachment}": registrants,
	"POST /api/v1/applications/{id}/inspection":                 {registry.RoleAdmin, registry.RoleOfficer},
	"GET /api/v1/inspections/{id}/photos/{photo}":               registrants,
	"POST /api/v1/applications/{id}/decision":                   {registry.RoleAdmin, registry.RoleOfficer},
	"GET /api/v1/inbox":                                         {registry.RoleAdmin, registry.RoleOfficer},
	"GET /api/v1/organisation":                                  {registry.RoleCooperative, registry.RoleExporter},
	"GET /api/v1/seasonal-reports/missing":                      registrants,
	// The dossier and the decision's page name households: the registrant and officers.
	"GET /api/v1/growing-areas/{id}/plots":                 registrants,
	"GET /api/v1/growing-areas/{id}/households.csv":        registrants,
	"GET /api/v1/growing-areas/{id}/dossier.kml":           registrants,
	"GET /print/growing-areas/{id}/households":             registrants,
	"GET /print/codes/{code}":                              registrants,
	"PUT /api/v1/growing-areas/{id}/plots":                 {registry.RoleAdmin, registry.RoleOfficer, registry.RoleCooperative},
	"POST /api/v1/growing-areas/{id}/seasonal-reports":     registrants,
	"GET /api/v1/growing-areas/{id}/seasonal-reports":      registrants,
	"PATCH /api/v1/seasonal-reports/{id}":                  registrants,
	"POST /api/v1/codes/{code}/market-steps":               {registry.RoleAdmin, registry.RoleOfficer},
	"GET /api/v1/codes/{code}/market-steps":                {anyone},
	"GET /api/v1/province-letters":                         {signedIn},
	"PUT /api/v1/province-letters/{province}":              {registry.RoleAdmin},
	"POST /api/v1/packing-houses":                          registrants,
	"PATCH /api/v1/packing-houses/{id}":                    registrants,
	"PUT /api/v1/packing-houses/{id}/growing-areas/{area}": {registry.RoleAdmin, registry.RoleOfficer},
	// Checking codes before buying or shipping: anyone (codes are public).
	"POST /api/v1/codes/check": {anyone},

	// Harvest lots: the area's registrant (a cooperative), officers, admins record them; the
	// packing house's operator (an exporter) receives them; their public view is public.
	"POST /api/v1/lots":               {registry.RoleAdmin, registry.RoleOfficer, registry.RoleCooperative, registry.RoleExporter},
	"GET /api/v1/lots":                {registry.RoleAdmin, registry.RoleOfficer, registry.RoleCooperative, registry.RoleExporter},
	"GET /api/v1/lots/{ref}":          {anyone},
	"POST /api/v1/lots/{ref}/receive": {registry.RoleAdmin, registry.RoleOfficer, registry.RoleExporter, registry.RoleCooperative},
	// Consignments: exporters build their own; officers and admins see their province's.
	"POST /api/v1/consignments":            {registry.RoleAdmin, registry.RoleOfficer, registry.RoleExporter},
	"GET /api/v1/consignments":             {registry.RoleAdmin, registry.RoleOfficer, registry.RoleExporter},
	"GET /api/v1/consignments/{ref}":       {anyone},
	"GET /api/v1/consignments/{ref}/check": {registry.RoleAdmin, registry.RoleOfficer, registry.RoleExporter},
	// A consignment's GS1 EPCIS events: its exporter's own (the service checks), officers' province's.
	"GET /api/v1/consignments/{ref}/epcis": {registry.RoleAdmin, registry.RoleOfficer, registry.RoleExporter},
	"GET /api/v1/trace/report":             {registry.RoleAdmin, registry.RoleOfficer},

	"GET /v/{code}":          {anyone}, // a code's public page
	"GET /v/{code}/qr.{ext}": {anyone},
	"GET /t/{code}":          {anyone}, // a lot's or consignment's public page
	"GET /t/{code}/qr.{ext}": {anyone},

	"GET /tiles/{layer}/{z}/{x}/{y}": {anyone}, // public tiles carry no personal data
	"GET /tiles/{layerjson}":         {anyone},
	"GET /style.json":                {anyone},
}

// passwordChangeRoutes are what a user who must choose a new password may still call.
var passwordChangeRoutes = map[string]bool{
	"GET /api/v1/auth/session": true, "POST /api/v1/auth/password": true, "POST /api/v1/auth/logout": true,
}

// RoutePolicy returns the roles allowed on each route ("anyone", "signed-in" or role names),
// for tests and documentation.
func RoutePolicy() map[string][]string { return routePolicy }

// allowed reports whether the actor passes a route's rule.
func allowed(roles []string, a registry.Actor) bool {
	return slices.Contains(roles, anyone) ||
		(!a.Anonymous() && (slices.Contains(roles, signedIn) || slices.Contains(roles, a.Role)))
}

// handle registers h on the router behind its route's rule.
func (s *Server) handle(r chi.Router, method, pattern string, h handlerFunc) {
	key := method + " " + pattern
	roles, ok := routePolicy[key]
	r.Method(method, pattern, s.h(func(w http.ResponseWriter, r *http.Request) error {
		a, _ := registry.ActorFromContext(r.Context())
		switch {
		case !ok:
			return registry.Errorf(registry.EFORBIDDEN, "%s has no access rule, so nobody may call it", key)
		case a.MustChangePassword && !passwordChangeRoutes[key]:
			return registry.Errorf(registry.EPASSWORD, "choose a new password first (POST /api/v1/auth/password): you signed in with a one-time password")
		case allowed(roles, a):
			return h(w, r)
		case a.Anonymous():
			return registry.Errorf(registry.EUNAUTHORIZED, "sign in, or send `Authorization: Bearer <token>`: %s %s needs an account (%s)", method, pattern, strings.Join(roles, ", "))
		}
		return registry.Errorf(registry.EFORBIDDEN, "your role (%s) may not use %s %s", a.Role, method, pattern)
	}))
}
