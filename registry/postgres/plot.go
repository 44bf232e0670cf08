package postgres

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/wkb"
	"github.com/vungtrong/vungtrong/geo"
	"github.com/vungtrong/vungtrong/registry"
)

// PlotService stores plots in PostGIS.
type PlotService struct {
	db *DB
	// Limits bound plot geometries (vertices, area).
	Limits geo.Limits
	// DefaultProvince is the province of a plot whose request, commune and location (against
	// loaded boundaries) do not say; empty leaves such plots without a province.
	DefaultProvince string
	// MaxPageSize caps FindPlots pages.
	MaxPageSize int
}

var _ registry.PlotService = (*PlotService)(nil)

// NewPlotService returns a PlotService on db with the default limits.
func NewPlotService(db *DB) *PlotService {
	return &PlotService{db: db, Limits: geo.DefaultLimits(), MaxPageSize: 1000}
}

const plotColumns = `p.id, p.producer_id, COALESCE(p.province_code, ''), COALESCE(p.commune_code, ''), p.crop,
	COALESCE(p.variety, ''), COALESCE(p.planting_year, 0), COALESCE(p.cadastral_sheet, ''),
	COALESCE(p.cadastral_parcel, ''), COALESCE(p.land_cert_no, ''), p.source, COALESCE(p.external_id, ''),
	ST_AsBinary(p.geom), p.area_ha, p.version, p.created_at, p.updated_at, p.created_by, p.updated_by, p.deleted_at`

// plotSelect reads plots with their owner's cooperative, which authorization needs.
const plotSelect = `SELECT ` + plotColumns + `, o.cooperative_id FROM plot p LEFT JOIN producer o ON o.id = p.producer_id`

// scanPlot scans plotColumns, then extra.
func scanPlot(row scanner, extra ...any) (*registry.Plot, error) {
	var p registry.Plot
	var geom []byte
	var year int16
	dest := append([]any{&p.ID, &p.ProducerID, &p.ProvinceCode, &p.CommuneCode, &p.Crop, &p.Variety, &year,
		&p.CadastralSheet, &p.CadastralParcel, &p.LandCertNo, &p.Source, &p.ExternalID, &geom,
		&p.AreaHa, &p.Version, &p.CreatedAt, &p.UpdatedAt, &p.CreatedBy, &p.UpdatedBy, &p.DeletedAt}, extra...)
	if err := row.Scan(dest...); err != nil {
		return nil, err
	}
	p.PlantingYear = int(year)
	g, err := wkb.Unmarshal(geom)
	if err != nil {
		return nil, fmt.Errorf("plot %d: decoding geometry: %w", p.ID, err)
	}
	switch g := g.(type) {
	case orb.MultiPolygon:
		p.Geometry = g
	case orb.Polygon:
		p.Geometry = orb.MultiPolygon{g}
	default:
		return nil, fmt.Errorf("plot %d: stored geometry is a %s", p.ID, g.GeoJSONType())
	}
	return &p, nil
}

// plotPlace is where a plot is and whom it belongs to, for authorization.
func plotPlace(p *registry.Plot, ownerCoop *int64) registry.Place {
	return registry.Place{ProvinceCode: p.ProvinceCode, CommuneCode: p.CommuneCode, OwnerID: p.ProducerID, OwnerCooperativeID: ownerCoop}
}

// findPlot reads a live plot with its place, without authorization.
func findPlot(ctx context.Context, q querier, id int64) (*registry.Plot, registry.Place, error) {
	var coop *int64
	p, err := scanPlot(q.QueryRow(ctx, plotSelect+` WHERE p.id = $1 AND p.deleted_at IS NULL`, id), &coop)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, registry.Place{}, registry.Errorf(registry.ENOTFOUND, "plot %d not found", id)
	}
	if err != nil {
		return nil, registry.Place{}, err
	}
	return p, plotPlace(p, coop), nil
}

// FindPlotByID returns a live plot as the caller may see it: ENOTFOUND when it may not see it
// at all (a farmer, someone else's plot), the public view without owner or cadastral numbers
// when it may not see those.
func (s *PlotService) FindPlotByID(ctx context.Context, id int64) (*registry.Plot, error) {
	p, place, err := findPlot(ctx, s.db.reader(ctx), id)
	if err != nil {
		return nil, err
	}
	return p, visible(ctx, p, place)
}

// visible applies the read rule to a plot: ENOTFOUND, redacted, or as it is.
func visible(ctx context.Context, p *registry.Plot, place registry.Place) error {
	actor, _ := registry.ActorFromContext(ctx)
	switch registry.PlotAccess(actor, place) {
	case registry.AccessNone:
		return registry.Errorf(registry.ENOTFOUND, "plot %d not found", p.ID)
	case registry.AccessPublic:
		p.Redact()
	}
	return nil
}

// pageLimit is the page size a list answers with: the one asked for, capped at most; most
// when none was asked for.
func pageLimit(asked, most int) int {
	if asked <= 0 || asked > most {
		return most
	}
	return asked
}

// FindPlots returns one page of the live plots the caller may see, in id order.
func (s *PlotService) FindPlots(ctx context.Context, f registry.PlotFilter) (*registry.PlotPage, error) {
	limit := pageLimit(f.Limit, s.MaxPageSize)
	where := []string{"p.deleted_at IS NULL", "p.id > $1"}
	args := []any{f.After}
	arg := func(v any) string { args = append(args, v); return "$" + strconv.Itoa(len(args)) }
	if actor, _ := registry.ActorFromContext(ctx); actor.Role == registry.RoleFarmer {
		// A farmer's registry holds their own plots only.
		if actor.ProducerID == nil {
			where = append(where, "false")
		} else {
			where = append(where, "p.producer_id = "+arg(*actor.ProducerID))
		}
	}
	if b := f.BBox; b != nil {
		env := fmt.Sprintf("ST_MakeEnvelope(%s, %s, %s, %s, 4326)", arg(b.Min[0]), arg(b.Min[1]), arg(b.Max[0]), arg(b.Max[1]))
		where = append(where, "p.geom && "+env, "ST_Intersects(p.geom, "+env+")")
	}
	if f.ProvinceCode != "" {
		where = append(where, "p.province_code = "+arg(f.ProvinceCode))
	}
	if f.CommuneCode != "" {
		where = append(where, "p.commune_code = "+arg(f.CommuneCode))
	}
	if f.Crop != "" {
		code, err := resolveCrop(ctx, s.db.reader(ctx), f.Crop)
		if err != nil {
			return nil, err
		}
		where = append(where, "p.crop = "+arg(code))
	}
	if f.ProducerID != 0 {
		// Owners are hidden from the public view: the filter is for those who may see them, and
		// keeps only the plots they see in full (it must not tell whose other plots are).
		switch actor, _ := registry.ActorFromContext(ctx); {
		case actor.Anonymous():
			return nil, registry.Errorf(registry.EUNAUTHORIZED, "filtering plots by producer needs an account that may see owners: sign in")
		case actor.Role == registry.RoleExporter:
			return nil, registry.Errorf(registry.EFORBIDDEN, "an exporter does not see plots' owners, so may not filter plots by producer")
		}
		where = append(where, "p.producer_id = "+arg(f.ProducerID))
	}
	q := plotSelect + ` WHERE ` + strings.Join(where, " AND ") + ` ORDER BY p.id LIMIT ` + arg(limit+1)
	rows, err := s.db.reader(ctx).Query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	page := &registry.PlotPage{Plots: make([]*registry.Plot, 0, min(limit, 256))}
	for rows.Next() {
		var coop *int64
		p, err := scanPlot(rows, &coop)
		if err != nil {
			return nil, err
		}
		if f.ProducerID != 0 {
			if a, _ := registry.ActorFromContext(ctx); registry.PlotAccess(a, plotPlace(p, coop)) < registry.AccessFull {
				continue
			}
		}
		if err := visible(ctx, p, plotPlace(p, coop)); err != nil {
			continue
		}
		page.Plots = append(page.Plots, p)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(page.Plots) > limit {
		page.Plots = page.Plots[:limit]
		page.Next = page.Plots[limit-1].ID
	}
	return page, nil
}

// CreatePlot validates and stores p, with its audit record, in one transaction.
func (s *PlotService) CreatePlot(ctx context.Context, p *registry.Plot) error {
	p.Normalize()
	if err := p.Validate(s.db.now()); err != nil {
		return err
	}
	err := s.db.Transact(ctx, func(tx pgx.Tx) error {
		place, err := s.prepare(ctx, tx, p, "")
		if err != nil {
			return err
		}
		if err := mayWritePlot(ctx, place, "register a plot"); err != nil {
			return err
		}
		return s.db.insertPlot(ctx, tx, p)
	})
	if registry.ErrorCode(err) == registry.EFORBIDDEN {
		s.db.auditRefusal(ctx, auditEntry{Action: "plot.create", Outcome: "denied", ObjectType: "plot", Province: p.ProvinceCode, Commune: p.CommuneCode, Reason: registry.ErrorMessage(err)})
	}
	return err
}

// mayWritePlot returns EFORBIDDEN, saying why, unless the caller may change a plot at place.
func mayWritePlot(ctx context.Context, place registry.Place, what string) error {
	return mayWrite(ctx, registry.PlotAccess, place, what, "its producer is not a member of your cooperative")
}

// mayWrite returns EFORBIDDEN, saying why in the caller's terms, unless access gives the
// caller write access at place. notMember says why a cooperative may not.
func mayWrite(ctx context.Context, access func(registry.Actor, registry.Place) registry.Access, place registry.Place, what, notMember string) error {
	actor, _ := registry.ActorFromContext(ctx)
	if access(actor, place) >= registry.AccessWrite {
		return nil
	}
	switch actor.Role {
	case registry.RoleOfficer:
		where := "province " + cmpOr(place.ProvinceCode, "(none)")
		if place.CommuneCode != "" {
			where += ", commune " + place.CommuneCode
		}
		return registry.Errorf(registry.EFORBIDDEN, "you may not %s in %s: it is outside your jurisdiction", what, where)
	case registry.RoleCooperative:
		return registry.Errorf(registry.EFORBIDDEN, "you may not %s: %s", what, notMember)
	case registry.RoleFarmer:
		return registry.Errorf(registry.EFORBIDDEN, "you may not %s: a farmer keeps only their own plots", what)
	}
	return registry.Errorf(registry.EFORBIDDEN, "your role (%s) may not %s", cmpOr(actor.Role, "public"), what)
}

// insertPlot stores a prepared plot and its audit record in tx, and notes the change.
func (db *DB) insertPlot(ctx context.Context, tx pgx.Tx, p *registry.Plot) error {
	actor := actorName(ctx)
	geom, err := wkb.Marshal(p.Geometry)
	if err != nil {
		return err
	}
	err = tx.QueryRow(ctx, `
		INSERT INTO plot (producer_id, province_code, commune_code, crop, variety, planting_year,
		                  cadastral_sheet, cadastral_parcel, land_cert_no, source, external_id, geom,
		                  created_by, updated_by)
		VALUES ($1, NULLIF($2, ''), NULLIF($3, ''), $4, NULLIF($5, ''), NULLIF($6, 0), NULLIF($7, ''),
		        NULLIF($8, ''), NULLIF($9, ''), $10, NULLIF($11, ''), ST_Multi(ST_GeomFromWKB($12, 4326)), $13, $13)
		RETURNING id, area_ha, version, created_at, updated_at`,
		p.ProducerID, p.ProvinceCode, p.CommuneCode, p.Crop, p.Variety, p.PlantingYear, p.CadastralSheet,
		p.CadastralParcel, p.LandCertNo, p.Source, p.ExternalID, geom, actor).
		Scan(&p.ID, &p.AreaHa, &p.Version, &p.CreatedAt, &p.UpdatedAt)
	if err != nil {
		return mapPlotError(err, p)
	}
	p.CreatedBy, p.UpdatedBy = actor, actor
	after, err := rowJSON(ctx, tx, "plot", p.ID)
	if err != nil {
		return err
	}
	if err := audit(ctx, tx, auditEntry{Action: "plot.create", ObjectType: "plot", ObjectID: p.ID, Province: p.ProvinceCode, After: after}); err != nil {
		return err
	}
	return db.changed(ctx, tx, registry.ChangePlot, p.Geometry.Bound())
}

// UpdatePlot replaces plot p.ID with p if its version is still ifVersion. A stale version is
// refused with EPRECONDITION; a change the caller may not make (outside their jurisdiction,
// before or after a move) with EFORBIDDEN; both refusals are audited.
func (s *PlotService) UpdatePlot(ctx context.Context, p *registry.Plot, ifVersion int) error {
	p.Normalize()
	if err := p.Validate(s.db.now()); err != nil {
		return err
	}
	actor := actorName(ctx)
	var before *registry.Plot
	authorize := func(tx pgx.Tx) error {
		b, place, err := findPlot(ctx, tx, p.ID)
		if err != nil {
			return err
		}
		if err := visible(ctx, b, place); err != nil {
			return err
		}
		if err := mayWritePlot(ctx, place, "change this plot"); err != nil {
			return err
		}
		a, _ := registry.ActorFromContext(ctx)
		before = b
		return registry.CheckFarmerPlotChange(a, b, p)
	}
	return s.db.versionedWrite(ctx, "plot", "plot.update", p.ID, ifVersion, authorize, func(tx pgx.Tx) (string, error) {
		geom, err := wkb.Marshal(p.Geometry)
		if err != nil {
			return "", err
		}
		// A plot that moves is placed again from its new location, unless the change names
		// its commune or province itself.
		oldProvince, oldCommune := before.ProvinceCode, before.CommuneCode
		moved := !before.Geometry.Equal(p.Geometry)
		fallback := ""
		samePlace := p.ProvinceCode == oldProvince && p.CommuneCode == oldCommune
		if moved && samePlace {
			p.ProvinceCode, p.CommuneCode, fallback = "", "", oldProvince
		}
		// A change that neither moves the plot nor names another place keeps the place it has
		// (a farmer correcting the crop is not asked about boundaries loaded since).
		if !moved && samePlace {
			fallback = keepPlace
		}
		place, err := s.prepare(ctx, tx, p, fallback)
		if err != nil {
			return "", err
		}
		if fallback != "" && p.CommuneCode == "" && p.ProvinceCode == oldProvince {
			p.CommuneCode = oldCommune // no boundary says otherwise
			place.CommuneCode = oldCommune
		}
		if err := mayWritePlot(ctx, place, "move or give the plot"); err != nil {
			return "", err
		}
		err = tx.QueryRow(ctx, `
			UPDATE plot SET producer_id = $2, province_code = NULLIF($3, ''), commune_code = NULLIF($4, ''),
			       crop = $5, variety = NULLIF($6, ''), planting_year = NULLIF($7, 0),
			       cadastral_sheet = NULLIF($8, ''), cadastral_parcel = NULLIF($9, ''),
			       land_cert_no = NULLIF($10, ''), source = $11, external_id = NULLIF($12, ''),
			       geom = ST_Multi(ST_GeomFromWKB($13, 4326)), version = version + 1,
			       updated_at = now(), updated_by = $14
			WHERE id = $1
			RETURNING area_ha, version, created_at, updated_at, created_by`,
			p.ID, p.ProducerID, p.ProvinceCode, p.CommuneCode, p.Crop, p.Variety, p.PlantingYear,
			p.CadastralSheet, p.CadastralParcel, p.LandCertNo, p.Source, p.ExternalID, geom, actor).
			Scan(&p.AreaHa, &p.Version, &p.CreatedAt, &p.UpdatedAt, &p.CreatedBy)
		if err != nil {
			return "", mapPlotError(err, p)
		}
		p.UpdatedBy = actor
		for _, b := range []orb.Bound{before.Geometry.Bound(), p.Geometry.Bound()} {
			if err := s.db.changed(ctx, tx, registry.ChangePlot, b); err != nil {
				return "", err
			}
		}
		return p.ProvinceCode, nil
	})
}

// DeletePlot marks plot id deleted if its version is still ifVersion. Farmers may not delete
// plots, even their own: a registered plot leaves through its officer or cooperative.
func (s *PlotService) DeletePlot(ctx context.Context, id int64, ifVersion int) error {
	var before *registry.Plot
	authorize := func(tx pgx.Tx) error {
		b, place, err := findPlot(ctx, tx, id)
		if err != nil {
			return err
		}
		before = b
		if err := visible(ctx, b, place); err != nil {
			return err
		}
		if a, _ := registry.ActorFromContext(ctx); a.Role == registry.RoleFarmer {
			return registry.Errorf(registry.EFORBIDDEN, "a farmer may not delete a plot: ask your cooperative or the agriculture officer")
		}
		return mayWritePlot(ctx, place, "delete this plot")
	}
	return s.db.versionedWrite(ctx, "plot", "plot.delete", id, ifVersion, authorize, func(tx pgx.Tx) (string, error) {
		if _, err := tx.Exec(ctx, `UPDATE plot SET deleted_at = now(), version = version + 1, updated_at = now(), updated_by = $2 WHERE id = $1`, id, actorName(ctx)); err != nil {
			return "", err
		}
		return "", s.db.changed(ctx, tx, registry.ChangePlot, before.Geometry.Bound())
	})
}

// PlotHistory returns the earlier versions of a live plot, newest first.
func (s *PlotService) PlotHistory(ctx context.Context, id int64) ([]*registry.Plot, error) {
	_, place, err := findPlot(ctx, s.db.reader(ctx), id)
	if err != nil {
		return nil, err
	}
	actor, _ := registry.ActorFromContext(ctx)
	access := registry.PlotAccess(actor, place)
	if access == registry.AccessNone {
		return nil, registry.Errorf(registry.ENOTFOUND, "plot %d not found", id)
	}
	redact := access == registry.AccessPublic
	rows, err := s.db.reader(ctx).Query(ctx, `
		SELECT plot_id, producer_id, COALESCE(province_code, ''), COALESCE(commune_code, ''), crop,
		       COALESCE(variety, ''), COALESCE(planting_year, 0), COALESCE(cadastral_sheet, ''),
		       COALESCE(cadastral_parcel, ''), COALESCE(land_cert_no, ''), source, COALESCE(external_id, ''),
		       ST_AsBinary(geom), area_ha, version, valid_from, valid_to, written_by, replaced_by, deleted_at
		FROM plot_history WHERE plot_id = $1 ORDER BY version DESC`, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*registry.Plot
	for rows.Next() {
		// In a history row, CreatedAt/UpdatedAt hold when the version was valid from/to, and
		// CreatedBy/UpdatedBy who wrote it and who replaced it.
		p, err := scanPlot(rows)
		if err != nil {
			return nil, err
		}
		if redact {
			p.Redact()
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// keepPlace, as prepare's fallbackProvince, keeps the plot's province and commune as they are.
const keepPlace = "keep"

// prepare completes and checks p against the database: crop name to code, the geometry's OGC
// validity and area, the producer, and the plot's commune and province. It returns the plot's
// place for authorization.
func (s *PlotService) prepare(ctx context.Context, tx pgx.Tx, p *registry.Plot, fallbackProvince string) (registry.Place, error) {
	code, err := resolveCrop(ctx, tx, p.Crop)
	if err != nil {
		return registry.Place{}, err
	}
	p.Crop = code
	if err := checkPlotGeometry(ctx, tx, p.Geometry, s.Limits); err != nil {
		return registry.Place{}, err
	}
	var coop *int64
	if p.ProducerID != nil {
		err := tx.QueryRow(ctx, `SELECT cooperative_id FROM producer WHERE id = $1 AND deleted_at IS NULL`, *p.ProducerID).Scan(&coop)
		if errors.Is(err, pgx.ErrNoRows) {
			return registry.Place{}, &registry.Error{Code: registry.EINVALID, Message: fmt.Sprintf("producer %d does not exist", *p.ProducerID),
				Details: []registry.Detail{{Field: "properties.producer_id", Message: "no such producer"}}}
		} else if err != nil {
			return registry.Place{}, err
		}
	}
	if fallbackProvince == keepPlace {
		return plotPlace(p, coop), nil
	}
	if err := s.placePlot(ctx, tx, p, fallbackProvince); err != nil {
		return registry.Place{}, err
	}
	return plotPlace(p, coop), nil
}

// unit is an administrative unit as placement names it: code and name, with its province's.
type unit struct {
	Code, Name, ProvinceCode, ProvinceName string
	// Bounded says its boundary is loaded; Holds that the boundary holds the plot.
	Bounded, Holds bool
}

// String names the unit for a person: "Xã Ea Kao (66 Đắk Lắk)".
func (u unit) String() string {
	if u.Code == u.ProvinceCode {
		return fmt.Sprintf("province %s %s", u.Code, u.Name)
	}
	return fmt.Sprintf("commune %s %s (province %s %s)", u.Code, u.Name, u.ProvinceCode, u.ProvinceName)
}

// placeSQL reads, for a plot (its point on surface), the loaded commune and province boundaries
// that hold it, and the named commune and province with whether their boundaries are loaded and
// hold it.
const placeSQL = `
	WITH pt AS (SELECT ST_PointOnSurface(ST_GeomFromWKB($1, 4326)) AS g),
	     lc AS (SELECT c.code, c.name, c.province_code FROM commune c, pt
	            WHERE c.scheme = 2025 AND c.boundary && pt.g AND ST_Intersects(c.boundary, pt.g) LIMIT 1),
	     lp AS (SELECT v.code, v.name FROM province v, pt
	            WHERE v.scheme = 2025 AND v.boundary && pt.g AND ST_Intersects(v.boundary, pt.g)
	            ORDER BY v.code = (SELECT province_code FROM lc) DESC LIMIT 1),
	     nc AS (SELECT c.code, c.name, c.province_code, c.boundary IS NOT NULL AS bounded,
	                   COALESCE(ST_Intersects(c.boundary, pt.g), false) AS holds FROM commune c, pt
	            WHERE c.scheme = 2025 AND c.code = $2),
	     np AS (SELECT v.code, v.name, v.boundary IS NOT NULL AS bounded, COALESCE(ST_Intersects(v.boundary, pt.g), false) AS holds
	            FROM province v, pt WHERE v.scheme = 2025 AND v.code = COALESCE((SELECT province_code FROM nc), NULLIF($3, '')))
	SELECT COALESCE((SELECT code FROM lc), ''), COALESCE((SELECT name FROM lc), ''),
	       COALESCE((SELECT province_code FROM lc), (SELECT code FROM lp), ''),
	       COALESCE((SELECT v.name FROM province v WHERE v.scheme = 2025 AND v.code = (SELECT province_code FROM lc)), (SELECT name FROM lp), ''),
	       (SELECT code FROM nc) IS NOT NULL, COALESCE((SELECT name FROM nc), ''), COALESCE((SELECT bounded FROM nc), false), COALESCE((SELECT holds FROM nc), false),
	       (SELECT code FROM np) IS NOT NULL, COALESCE((SELECT code FROM np), ''), COALESCE((SELECT name FROM np), ''),
	       COALESCE((SELECT bounded FROM np), false), COALESCE((SELECT holds FROM np), false)`

// placePlot fills in the plot's province and commune from where it lies wherever boundaries
// are loaded: a named commune or province whose loaded boundary does not hold the plot is
// refused, naming the unit that does when it is loaded. Where no loaded boundary says, the named
// codes are used; else fallbackProvince (where it was before a move), else the configured
// default province.
func (s *PlotService) placePlot(ctx context.Context, tx pgx.Tx, p *registry.Plot, fallbackProvince string) error {
	geom, err := wkb.Marshal(p.Geometry)
	if err != nil {
		return err
	}
	var at, commune, province unit
	var communeKnown, provinceKnown bool
	err = tx.QueryRow(ctx, placeSQL, geom, p.CommuneCode, p.ProvinceCode).Scan(
		&at.Code, &at.Name, &at.ProvinceCode, &at.ProvinceName,
		&communeKnown, &commune.Name, &commune.Bounded, &commune.Holds,
		&provinceKnown, &province.Code, &province.Name, &province.Bounded, &province.Holds)
	if err != nil {
		return err
	}
	where := at.String()
	if at.Code == "" {
		at.Code, at.Name = at.ProvinceCode, at.ProvinceName
		where = at.String()
	}
	refuse := func(field, named string) error {
		msg := fmt.Sprintf("the plot does not lie in %s, whose boundary is loaded", named)
		if at.ProvinceCode != "" {
			msg = fmt.Sprintf("the plot lies in %s, not in %s", where, named)
		}
		return &registry.Error{Code: registry.EINVALID, Message: msg + ": check the code, or the coordinates",
			Details: []registry.Detail{{Field: field, Message: "does not match where the plot lies"}}}
	}
	if p.CommuneCode != "" {
		if !communeKnown {
			return &registry.Error{Code: registry.EINVALID, Message: fmt.Sprintf("commune %s is not a commune of the 2025 list", p.CommuneCode),
				Details: []registry.Detail{{Field: "properties.commune_code", Message: "unknown commune code"}}}
		}
		commune.Code, commune.ProvinceCode, commune.ProvinceName = p.CommuneCode, province.Code, province.Name
		if p.ProvinceCode != "" && p.ProvinceCode != province.Code {
			return &registry.Error{Code: registry.EINVALID, Message: fmt.Sprintf("commune %s is in province %s, not %s", p.CommuneCode, province.Code, p.ProvinceCode),
				Details: []registry.Detail{{Field: "properties.province_code", Message: "does not match the commune"}}}
		}
		// Communes do not overlap: a plot inside another loaded commune is not in this one.
		if (commune.Bounded && !commune.Holds) || (at.Code != "" && at.Code != at.ProvinceCode && at.Code != commune.Code) ||
			(province.Bounded && !province.Holds) || (at.ProvinceCode != "" && at.ProvinceCode != province.Code) {
			return refuse("properties.commune_code", commune.String())
		}
		p.ProvinceCode = province.Code
		return nil
	}
	if p.ProvinceCode != "" {
		if !provinceKnown {
			return &registry.Error{Code: registry.EINVALID, Message: fmt.Sprintf("province %s is not a province of the 2025 list", p.ProvinceCode),
				Details: []registry.Detail{{Field: "properties.province_code", Message: "unknown province code"}}}
		}
		province.ProvinceCode, province.ProvinceName = province.Code, province.Name
		if (province.Bounded && !province.Holds) || (at.ProvinceCode != "" && at.ProvinceCode != p.ProvinceCode) {
			return refuse("properties.province_code", province.String())
		}
	} else {
		p.ProvinceCode = cmpOr(at.ProvinceCode, cmpOr(fallbackProvince, s.DefaultProvince))
	}
	if at.Code != "" && at.Code != at.ProvinceCode && at.ProvinceCode == p.ProvinceCode {
		p.CommuneCode = at.Code
	}
	return nil
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// validityReasons turns GEOS's reasons into advice.
var validityReasons = map[string]string{
	"Self-intersection":                  "the boundary crosses itself",
	"Ring Self-intersection":             "a ring touches itself",
	"Too few points":                     "a ring has too few distinct points (repeated positions do not count)",
	"Hole lies outside shell":            "a hole lies outside its polygon",
	"Nested shells":                      "one polygon lies inside another: make the inner one a hole, or merge them",
	"Interior is disconnected":           "the holes cut the polygon in pieces",
	"Duplicate Rings":                    "a ring appears twice",
	"Invalid Coordinate":                 "a coordinate is not a finite number",
	"Ring is not closed":                 "a ring is not closed",
	"Nested holes":                       "one hole lies inside another",
	"Self-intersection at or near point": "the boundary crosses itself",
}

// checkPlotGeometry runs the checks that need PostGIS: OGC validity (with GEOS's reason and
// location) and the area on the ellipsoid against the limits.
func checkPlotGeometry(ctx context.Context, q querier, mp orb.MultiPolygon, lim geo.Limits) error {
	geom, err := wkb.Marshal(mp)
	if err != nil {
		return err
	}
	var valid bool
	var reason string
	var x, y *float64
	var areaHa float64
	err = q.QueryRow(ctx, `
		WITH g AS (SELECT ST_GeomFromWKB($1, 4326) AS geom), d AS (SELECT geom, ST_IsValidDetail(geom) AS v FROM g)
		SELECT (v).valid, COALESCE((v).reason, ''), ST_X((v).location), ST_Y((v).location),
		       CASE WHEN (v).valid THEN ST_Area(geom::geography, true) / 10000.0 ELSE 0 END
		FROM d`, geom).Scan(&valid, &reason, &x, &y, &areaHa)
	if err != nil {
		return err
	}
	if !valid {
		advice := reason
		for k, v := range validityReasons {
			if strings.EqualFold(k, reason) {
				advice = v
			}
		}
		msg := fmt.Sprintf("geometry is not valid: %s (%s)", advice, reason)
		d := registry.Detail{Field: "geometry", Message: advice}
		if x != nil && y != nil {
			msg = fmt.Sprintf("geometry is not valid: %s at [%s, %s] (%s); fix the boundary there", advice, ftoa(round(*x, 8)), ftoa(round(*y, 8)), reason)
			d.Location = []float64{*x, *y}
		}
		return &registry.Error{Code: registry.EINVALID, Message: msg, Details: []registry.Detail{d}}
	}
	if lim.MinAreaHa > 0 && areaHa < lim.MinAreaHa {
		return &registry.Error{Code: registry.EINVALID,
			Message: fmt.Sprintf("plot area is %s ha, below the minimum of %s ha: check the units and that the polygon is the whole plot", ftoa(round(areaHa, 6)), ftoa(lim.MinAreaHa)),
			Details: []registry.Detail{{Field: "geometry", Message: "area too small"}}}
	}
	if lim.MaxAreaHa > 0 && areaHa > lim.MaxAreaHa {
		return &registry.Error{Code: registry.EINVALID,
			Message: fmt.Sprintf("plot area is %s ha, above the maximum of %s ha: a plot is one field; split larger holdings into plots", ftoa(round(areaHa, 2)), ftoa(lim.MaxAreaHa)),
			Details: []registry.Detail{{Field: "geometry", Message: "area too large"}}}
	}
	return nil
}

func mapPlotError(err error, p *registry.Plot) error {
	err = mapError(err)
	var re *registry.Error
	if errors.As(err, &re) && re.Code == registry.ECONFLICT {
		return registry.Errorf(registry.ECONFLICT, "a live plot with external id %q already exists in source %q", p.ExternalID, p.Source)
	}
	return err
}

func actorName(ctx context.Context) string {
	a, _ := registry.ActorFromContext(ctx)
	return a.String()
}

func ftoa(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

func round(f float64, digits int) float64 {
	p := math.Pow10(digits)
	return math.Round(f*p) / p
}
