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
	// Neighbours say how plots sit among their neighbours: the overlap rule (of imports too),
	// slivers, snapping.
	Neighbours geo.NeighbourRules
	// DefaultProvince is the province of a plot whose request, commune and location (against
	// loaded boundaries) do not say; empty leaves such plots without a province.
	DefaultProvince string
	// MaxPageSize caps FindPlots pages.
	MaxPageSize int
}

var _ registry.PlotService = (*PlotService)(nil)

// NewPlotService returns a PlotService on db with the default limits.
func NewPlotService(db *DB) *PlotService {
	return &PlotService{db: db, Limits: geo.DefaultLimits(), Neighbours: geo.DefaultNeighbourRules(), MaxPageSize: 1000}
}

const plotColumns = `p.id, p.producer_id, COALESCE(p.province_code, ''), COALESCE(p.commune_code, ''), p.crop,
	COALESCE(p.variety, ''), COALESCE(p.planting_year, 0), COALESCE(p.cadastral_sheet, ''),
	COALESCE(p.cadastral_parcel, ''), COALESCE(p.land_cert_no, ''), p.source, COALESCE(p.external_id, ''),
	ST_AsBinary(p.geom), p.area_ha, p.version, p.created_at, p.updated_at, p.created_by, p.updated_by, p.deleted_at,
	COALESCE(p.parent_ids, '{}'), COALESCE(p.retired, ''), COALESCE(p.retired_into, '{}')`

// plotSelect reads plots with their owner's cooperative, which authorization needs.
const plotSelect = `SELECT ` + plotColumns + `, o.cooperative_id FROM plot p LEFT JOIN producer o ON o.id = p.producer_id`

// scanPlot scans plotColumns, then extra.
func scanPlot(row scanner, extra ...any) (*registry.Plot, error) {
	var p registry.Plot
	var geom []byte
	var year int16
	dest := append([]any{&p.ID, &p.ProducerID, &p.ProvinceCode, &p.CommuneCode, &p.Crop, &p.Variety, &year,
		&p.CadastralSheet, &p.CadastralParcel, &p.LandCertNo, &p.Source, &p.ExternalID, &geom,
		&p.AreaHa, &p.Version, &p.CreatedAt, &p.UpdatedAt, &p.CreatedBy, &p.UpdatedBy, &p.DeletedAt,
		&p.ParentIDs, &p.Retired, &p.RetiredInto}, extra...)
	if err := row.Scan(dest...); err != nil {
		return nil, err
	}
	p.PlantingYear = int(year)
	if err := decodePlotGeometry(&p, geom); err != nil {
		return nil, err
	}
	return &p, nil
}

// decodePlotGeometry sets the plot's geometry from the WKB of a stored one.
func decodePlotGeometry(p *registry.Plot, geom []byte) error {
	g, err := wkb.Unmarshal(geom)
	if err != nil {
		return fmt.Errorf("plot %d: decoding geometry: %w", p.ID, err)
	}
	switch g := g.(type) {
	case orb.MultiPolygon:
		p.Geometry = g
	case orb.Polygon:
		p.Geometry = orb.MultiPolygon{g}
	default:
		return fmt.Errorf("plot %d: stored geometry is a %s", p.ID, g.GeoJSONType())
	}
	return nil
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

// CreatePlot validates and stores p, with its audit record, in one transaction: snapped onto its
// neighbours, where the caller may write, and refused (EINVALID, with the overlaps and a
// suggested geometry) when it overlaps a neighbour beyond the tolerance, unless an officer
// keeps the overlap with p.OverlapReason.
func (s *PlotService) CreatePlot(ctx context.Context, p *registry.Plot) error {
	p.Normalize()
	if err := p.Validate(s.db.now()); err != nil {
		return err
	}
	err := s.db.Transact(ctx, func(tx pgx.Tx) error {
		if err := mayKeepOverlaps(ctx, p.OverlapReason); err != nil {
			return err
		}
		if err := lockNeighbourhood(ctx, tx, p.Geometry.Bound()); err != nil {
			return err
		}
		snapped, err := snapPlot(ctx, tx, p.Geometry, s.Neighbours, nil)
		if err != nil {
			return err
		}
		p.Geometry = snapped
		place, err := s.prepare(ctx, tx, p, "")
		if err != nil {
			return err
		}
		if p.NewProducer != nil {
			if place, err = insertNewHousehold(ctx, tx, p); err != nil {
				return err
			}
		}
		if err := mayWritePlot(ctx, place, "register a plot"); err != nil {
			return err
		}
		reason, err := s.guardOverlaps(ctx, tx, p, nil)
		if err != nil {
			return err
		}
		return s.db.insertPlot(ctx, tx, p, reason)
	})
	if registry.ErrorCode(err) == registry.EFORBIDDEN {
		s.db.auditRefusal(ctx, auditEntry{Action: "plot.create", Outcome: "denied", ObjectType: "plot", Province: p.ProvinceCode, Commune: p.CommuneCode, Reason: registry.ErrorMessage(err)})
	}
	return err
}

// insertNewHousehold registers p.NewProducer, a household, in tx as the producer of the
// prepared plot p: in the plot's commune unless it names its own, a member of the writing
// cooperative when a cooperative writes. It returns the plot's place with its new owner.
func insertNewHousehold(ctx context.Context, tx pgx.Tx, p *registry.Plot) (registry.Place, error) {
	np := p.NewProducer
	if np.ProvinceCode == "" && np.CommuneCode == "" {
		np.ProvinceCode, np.CommuneCode = p.ProvinceCode, p.CommuneCode
	}
	if actor, _ := registry.ActorFromContext(ctx); actor.Role == registry.RoleCooperative && np.CooperativeID == nil {
		np.CooperativeID = actor.ProducerID
	}
	if err := checkProducerRefs(ctx, tx, np); err != nil {
		return registry.Place{}, prefixDetails(err, "properties.producer.")
	}
	if err := mayWriteProducer(ctx, producerPlace(np), "register this household"); err != nil {
		return registry.Place{}, err
	}
	if err := insertProducer(ctx, tx, np); err != nil {
		return registry.Place{}, prefixDetails(err, "properties.producer.")
	}
	p.ProducerID = &np.ID
	return plotPlace(p, np.CooperativeID), nil
}

// prefixDetails returns err with its details' fields under prefix, for a nested object.
func prefixDetails(err error, prefix string) error {
	var e *registry.Error
	if !errors.As(err, &e) || len(e.Details) == 0 {
		return err
	}
	c := *e
	c.Details = make([]registry.Detail, len(e.Details))
	for i, d := range e.Details {
		d.Field = prefix + d.Field
		c.Details[i] = d
	}
	return &c
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
		return registry.Errorf(registry.EFORBIDDEN, "you may not %s in %s: it is outside your jurisdiction (%s)", what, where, jurisdictionOf(actor))
	case registry.RoleCooperative:
		return registry.Errorf(registry.EFORBIDDEN, "you may not %s: %s", what, notMember)
	case registry.RoleFarmer:
		return registry.Errorf(registry.EFORBIDDEN, "you may not %s: a farmer keeps only their own plots", what)
	}
	return registry.Errorf(registry.EFORBIDDEN, "your role (%s) may not %s", cmpOr(actor.Role, "public"), what)
}

// jurisdictionOf names an officer's jurisdiction: "your jurisdiction: province 66, commune
// 24280 of province 68".
func jurisdictionOf(a registry.Actor) string {
	if len(a.Jurisdictions) == 0 {
		return "you have no jurisdiction"
	}
	parts := make([]string, len(a.Jurisdictions))
	for i, j := range a.Jurisdictions {
		parts[i] = "province " + j.ProvinceCode
		if j.CommuneCode != "" {
			parts[i] = "commune " + j.CommuneCode + " of province " + j.ProvinceCode
		}
	}
	return "your jurisdiction: " + strings.Join(parts, ", ")
}

// insertPlot stores a prepared plot and its audit record (with reason, "" for none) in tx, and
// notes the change.
func (db *DB) insertPlot(ctx context.Context, tx pgx.Tx, p *registry.Plot, reason string) error {
	actor := actorName(ctx)
	geom, err := wkb.Marshal(p.Geometry)
	if err != nil {
		return err
	}
	err = tx.QueryRow(ctx, `
		INSERT INTO plot (producer_id, province_code, commune_code, crop, variety, planting_year,
		                  cadastral_sheet, cadastral_parcel, land_cert_no, source, external_id, geom,
		                  created_by, updated_by, parent_ids)
		VALUES ($1, NULLIF($2, ''), NULLIF($3, ''), $4, NULLIF($5, ''), NULLIF($6, 0), NULLIF($7, ''),
		        NULLIF($8, ''), NULLIF($9, ''), $10, NULLIF($11, ''), ST_Multi(ST_GeomFromWKB($12, 4326)), $13, $13,
		        NULLIF($14::bigint[], '{}'))
		RETURNING id, area_ha, version, created_at, updated_at`,
		p.ProducerID, p.ProvinceCode, p.CommuneCode, p.Crop, p.Variety, p.PlantingYear, p.CadastralSheet,
		p.CadastralParcel, p.LandCertNo, p.Source, p.ExternalID, geom, actor, nonNil(p.ParentIDs)).
		Scan(&p.ID, &p.AreaHa, &p.Version, &p.CreatedAt, &p.UpdatedAt)
	if err != nil {
		return mapPlotError(err, p)
	}
	p.CreatedBy, p.UpdatedBy = actor, actor
	after, err := rowJSON(ctx, tx, "plot", p.ID)
	if err != nil {
		return err
	}
	if err := audit(ctx, tx, auditEntry{Action: "plot.create", ObjectType: "plot", ObjectID: p.ID, Province: p.ProvinceCode, Reason: reason, After: after}); err != nil {
		return err
	}
	return db.changed(ctx, tx, registry.ChangePlot, p.Geometry.Bound())
}

// UpdatePlot replaces plot p.ID with p if its version is still ifVersion. A stale version is
// refused with EPRECONDITION; a change the caller may not make (outside their jurisdiction,
// before or after a move) with EFORBIDDEN; both refusals are audited. A new boundary is snapped
// onto the neighbours and must pass the overlap rule, as in CreatePlot; a change that keeps the
// boundary is not asked about overlaps it already had.
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
		if err := registry.CheckFarmerPlotChange(a, b, p); err != nil {
			return err
		}
		return mayKeepOverlaps(ctx, p.OverlapReason)
	}
	return s.db.versionedWriteNoted(ctx, "plot", "plot.update", p.ID, ifVersion, authorize, func(tx pgx.Tx) (writeNote, error) {
		moved := !before.Geometry.Equal(p.Geometry)
		if moved {
			if err := lockNeighbourhood(ctx, tx, p.Geometry.Bound()); err != nil {
				return writeNote{}, err
			}
			snapped, err := snapPlot(ctx, tx, p.Geometry, s.Neighbours, []int64{p.ID})
			if err != nil {
				return writeNote{}, err
			}
			p.Geometry = snapped
		}
		fallback := editFallback(before, p, moved)
		place, err := s.prepare(ctx, tx, p, fallback)
		if err != nil {
			return writeNote{}, err
		}
		keepCommune(before, p, fallback, &place)
		if err := mayWritePlot(ctx, place, "move or give the plot"); err != nil {
			return writeNote{}, err
		}
		reason := ""
		if moved {
			if reason, err = s.guardOverlaps(ctx, tx, p, []int64{p.ID}); err != nil {
				return writeNote{}, err
			}
		}
		geom, err := wkb.Marshal(p.Geometry)
		if err != nil {
			return writeNote{}, err
		}
		err = tx.QueryRow(ctx, `
			UPDATE plot SET producer_id = $2, province_code = NULLIF($3, ''), commune_code = NULLIF($4, ''),
			       crop = $5, variety = NULLIF($6, ''), planting_year = NULLIF($7, 0),
			       cadastral_sheet = NULLIF($8, ''), cadastral_parcel = NULLIF($9, ''),
			       land_cert_no = NULLIF($10, ''), source = $11, external_id = NULLIF($12, ''),
			       geom = ST_Multi(ST_GeomFromWKB($13, 4326)), version = version + 1,
			       updated_at = now(), updated_by = $14
			WHERE id = $1
			RETURNING area_ha, version, created_at, updated_at, created_by, COALESCE(parent_ids, '{}')`,
			p.ID, p.ProducerID, p.ProvinceCode, p.CommuneCode, p.Crop, p.Variety, p.PlantingYear,
			p.CadastralSheet, p.CadastralParcel, p.LandCertNo, p.Source, p.ExternalID, geom, actor).
			Scan(&p.AreaHa, &p.Version, &p.CreatedAt, &p.UpdatedAt, &p.CreatedBy, &p.ParentIDs)
		if err != nil {
			return writeNote{}, mapPlotError(err, p)
		}
		p.UpdatedBy = actor
		for _, b := range []orb.Bound{before.Geometry.Bound(), p.Geometry.Bound()} {
			if err := s.db.changed(ctx, tx, registry.ChangePlot, b); err != nil {
				return writeNote{}, err
			}
		}
		return writeNote{province: p.ProvinceCode, reason: reason}, nil
	})
}

// editFallback readies p, an edit of before, for placement, and returns prepare's
// fallbackProvince: a plot that moves is placed again from its new location, unless the change
// names its commune or province itself; a change that neither moves it nor names another place
// keeps the place it has (a farmer correcting the crop is not asked about boundaries loaded
// since).
func editFallback(before, p *registry.Plot, moved bool) string {
	samePlace := p.ProvinceCode == before.ProvinceCode && p.CommuneCode == before.CommuneCode
	switch {
	case moved && samePlace:
		p.ProvinceCode, p.CommuneCode = "", ""
		return before.ProvinceCode
	case samePlace:
		return keepPlace
	}
	return ""
}

// keepCommune gives an edited plot placed with editFallback's fallback its commune back when it
// stays in its province and no loaded boundary says otherwise.
func keepCommune(before, p *registry.Plot, fallback string, place *registry.Place) {
	if fallback != "" && p.CommuneCode == "" && p.ProvinceCode == before.ProvinceCode {
		p.CommuneCode = before.CommuneCode
		place.CommuneCode = before.CommuneCode
	}
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
	coop, err := producerCooperative(ctx, tx, p)
	if err != nil {
		return registry.Place{}, err
	}
	if fallbackProvince == keepPlace {
		return plotPlace(p, coop), nil
	}
	if _, err := s.placePlot(ctx, tx, p, fallbackProvince); err != nil {
		return registry.Place{}, err
	}
	return plotPlace(p, coop), nil
}

// producerCooperative returns the cooperative of the plot's producer (nil for none), and
// EINVALID when the producer does not exist.
func producerCooperative(ctx context.Context, q querier, p *registry.Plot) (*int64, error) {
	if p.ProducerID == nil {
		return nil, nil
	}
	var coop *int64
	err := q.QueryRow(ctx, `SELECT cooperative_id FROM producer WHERE id = $1 AND deleted_at IS NULL`, *p.ProducerID).Scan(&coop)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, &registry.Error{Code: registry.EINVALID, Message: fmt.Sprintf("producer %d does not exist", *p.ProducerID),
			Details: []registry.Detail{{Field: "properties.producer_id", Message: "no such producer"}}}
	}
	return coop, err
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

// unitNames are the names of the province and commune a plot was placed in, where placement
// knew them ("" otherwise).
type unitNames struct {
	province, commune string
}

// placePlot fills in the plot's province and commune from where it lies wherever boundaries
// are loaded: a named commune or province whose loaded boundary does not hold the plot is
// refused, naming the unit that does when it is loaded. Where no loaded boundary says, the named
// codes are used; else fallbackProvince (where it was before a move), else the configured
// default province. It returns the units' names where it read them.
func (s *PlotService) placePlot(ctx context.Context, q querier, p *registry.Plot, fallbackProvince string) (unitNames, error) {
	geom, err := wkb.Marshal(p.Geometry)
	if err != nil {
		return unitNames{}, err
	}
	var at, commune, province unit
	var communeKnown, provinceKnown bool
	err = q.QueryRow(ctx, placeSQL, geom, p.CommuneCode, p.ProvinceCode).Scan(
		&at.Code, &at.Name, &at.ProvinceCode, &at.ProvinceName,
		&communeKnown, &commune.Name, &commune.Bounded, &commune.Holds,
		&provinceKnown, &province.Code, &province.Name, &province.Bounded, &province.Holds)
	if err != nil {
		return unitNames{}, err
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
			return unitNames{}, &registry.Error{Code: registry.EINVALID, Message: fmt.Sprintf("commune %s is not a commune of the 2025 list", p.CommuneCode),
				Details: []registry.Detail{{Field: "properties.commune_code", Message: "unknown commune code"}}}
		}
		commune.Code, commune.ProvinceCode, commune.ProvinceName = p.CommuneCode, province.Code, province.Name
		if p.ProvinceCode != "" && p.ProvinceCode != province.Code {
			return unitNames{}, &registry.Error{Code: registry.EINVALID, Message: fmt.Sprintf("commune %s is in province %s, not %s", p.CommuneCode, province.Code, p.ProvinceCode),
				Details: []registry.Detail{{Field: "properties.province_code", Message: "does not match the commune"}}}
		}
		// Communes do not overlap: a plot inside another loaded commune is not in this one.
		if (commune.Bounded && !commune.Holds) || (at.Code != "" && at.Code != at.ProvinceCode && at.Code != commune.Code) ||
			(province.Bounded && !province.Holds) || (at.ProvinceCode != "" && at.ProvinceCode != province.Code) {
			return unitNames{}, refuse("properties.commune_code", commune.String())
		}
		p.ProvinceCode = province.Code
		return unitNames{province: province.Name, commune: commune.Name}, nil
	}
	names := unitNames{}
	if p.ProvinceCode != "" {
		if !provinceKnown {
			return unitNames{}, &registry.Error{Code: registry.EINVALID, Message: fmt.Sprintf("province %s is not a province of the 2025 list", p.ProvinceCode),
				Details: []registry.Detail{{Field: "properties.province_code", Message: "unknown province code"}}}
		}
		province.ProvinceCode, province.ProvinceName = province.Code, province.Name
		if (province.Bounded && !province.Holds) || (at.ProvinceCode != "" && at.ProvinceCode != p.ProvinceCode) {
			return unitNames{}, refuse("properties.province_code", province.String())
		}
		names.province = province.Name
	} else {
		p.ProvinceCode = cmpOr(at.ProvinceCode, cmpOr(fallbackProvince, s.DefaultProvince))
		if at.ProvinceCode != "" {
			names.province = at.ProvinceName
		}
	}
	if at.Code != "" && at.Code != at.ProvinceCode && at.ProvinceCode == p.ProvinceCode {
		p.CommuneCode = at.Code
		names.commune = at.Name
	}
	return names, nil
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

// validityCodes name GEOS's reasons for a user interface (registry.Detail.Code); other reasons
// are "invalid_geometry".
var validityCodes = map[string]string{
	"Self-intersection":       "self_intersection",
	"Ring Self-intersection":  "ring_self_intersection",
	"Too few points":          "too_few_points",
	"Hole lies outside shell": "hole_outside_shell",
	"Nested shells":           "nested_shells",
}

// geometryProblem is one thing the database finds wrong with a plot's geometry: the message of
// a write's refusal, and the problem located.
type geometryProblem struct {
	message string
	detail  registry.Detail
}

// geometryCheck is what checkGeometry finds.
type geometryCheck struct {
	valid    bool
	areaHa   float64 // on the ellipsoid (meaningless for an invalid geometry)
	problems []geometryProblem
}

// checkGeometry runs the checks of a plot's geometry that need PostGIS: OGC validity (GEOS's
// reason and location) and the area on the ellipsoid against the limits. GEOS stops at the
// first invalidity; with crossings set, every other point where the boundary crosses or touches
// itself is reported too (the ends of its pieces, noded, where more than two meet).
func checkGeometry(ctx context.Context, q querier, mp orb.MultiPolygon, lim geo.Limits, crossings bool) (geometryCheck, error) {
	geom, err := wkb.Marshal(mp)
	if err != nil {
		return geometryCheck{}, err
	}
	var c geometryCheck
	var reason string
	var x, y *float64
	var xs, ys []float64
	err = q.QueryRow(ctx, `
		WITH g AS (SELECT ST_GeomFromWKB($1, 4326) AS geom), d AS (SELECT geom, ST_IsValidDetail(geom) AS v FROM g)
		SELECT (v).valid, COALESCE((v).reason, ''), ST_X((v).location), ST_Y((v).location),
		       ST_Area(geom::geography, true) / 10000.0, c.xs, c.ys
		FROM d LEFT JOIN LATERAL (
		  SELECT array_agg(x ORDER BY x, y) AS xs, array_agg(y ORDER BY x, y) AS ys FROM (
		    SELECT ST_X(e.pt) AS x, ST_Y(e.pt) AS y
		    FROM ST_Dump(ST_Node(ST_Boundary(d.geom))) l, LATERAL (VALUES (ST_StartPoint(l.geom)), (ST_EndPoint(l.geom))) e(pt)
		    WHERE $2 AND NOT (d.v).valid AND (d.v).reason ILIKE '%self-intersection%'
		    GROUP BY 1, 2 HAVING count(*) > 2 LIMIT 50) n) c ON true`,
		geom, crossings).Scan(&c.valid, &reason, &x, &y, &c.areaHa, &xs, &ys)
	if err != nil {
		return geometryCheck{}, err
	}
	if !c.valid {
		advice := reason
		for k, v := range validityReasons {
			if strings.EqualFold(k, reason) {
				advice = v
			}
		}
		msg := fmt.Sprintf("geometry is not valid: %s (%s)", advice, reason)
		d := registry.Detail{Field: "geometry", Message: advice, Code: cmpOr(validityCodes[reason], "invalid_geometry"), Args: map[string]string{"reason": reason}}
		if x != nil && y != nil {
			at := fmt.Sprintf("[%s, %s]", ftoa(round(*x, 8)), ftoa(round(*y, 8)))
			msg = fmt.Sprintf("geometry is not valid: %s at %s (%s); fix the boundary there", advice, at, reason)
			d.Location = []float64{*x, *y}
			d.Args["at"] = at
		}
		c.problems = append(c.problems, geometryProblem{msg, d})
		for i := range min(len(xs), len(ys)) {
			if x != nil && y != nil && math.Abs(xs[i]-*x) < 1e-12 && math.Abs(ys[i]-*y) < 1e-12 {
				continue
			}
			at := fmt.Sprintf("[%s, %s]", ftoa(round(xs[i], 8)), ftoa(round(ys[i], 8)))
			c.problems = append(c.problems, geometryProblem{
				fmt.Sprintf("geometry is not valid: the boundary crosses or touches itself at %s; fix the boundary there", at),
				registry.Detail{Field: "geometry", Message: "the boundary crosses or touches itself", Location: []float64{xs[i], ys[i]},
					Code: "self_intersection", Args: map[string]string{"at": at}}})
		}
		return c, nil
	}
	if lim.MinAreaHa > 0 && c.areaHa < lim.MinAreaHa {
		area := ftoa(round(c.areaHa, 6))
		c.problems = append(c.problems, geometryProblem{
			fmt.Sprintf("plot area is %s ha, below the minimum of %s ha: check the units and that the polygon is the whole plot", area, ftoa(lim.MinAreaHa)),
			registry.Detail{Field: "geometry", Message: "area too small", Code: "area_below_min", Args: map[string]string{"area": area, "min": ftoa(lim.MinAreaHa)}}})
	}
	if lim.MaxAreaHa > 0 && c.areaHa > lim.MaxAreaHa {
		area := ftoa(round(c.areaHa, 2))
		c.problems = append(c.problems, geometryProblem{
			fmt.Sprintf("plot area is %s ha, above the maximum of %s ha: a plot is one field; split larger holdings into plots", area, ftoa(lim.MaxAreaHa)),
			registry.Detail{Field: "geometry", Message: "area too large", Code: "area_above_max", Args: map[string]string{"area": area, "max": ftoa(lim.MaxAreaHa)}}})
	}
	return c, nil
}

// checkPlotGeometry refuses, with EINVALID and its reason and place, a geometry that
// checkGeometry finds a problem with.
func checkPlotGeometry(ctx context.Context, q querier, mp orb.MultiPolygon, lim geo.Limits) error {
	c, err := checkGeometry(ctx, q, mp, lim, false)
	if err != nil {
		return err
	}
	if len(c.problems) > 0 {
		return &registry.Error{Code: registry.EINVALID, Message: c.problems[0].message, Details: []registry.Detail{c.problems[0].detail}}
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
