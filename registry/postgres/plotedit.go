package postgres

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/wkb"
	"github.com/vungtrong/vungtrong/registry"
	"github.com/vungtrong/vungtrong/vntext"
)

// maxSplitPieces bounds the plots one split makes: a line that zigzags across a plot more
// often than that is a slip of the hand.
const maxSplitPieces = 50

// mayReshape returns EFORBIDDEN when the caller may not split, merge or restore plots at all:
// farmers keep their plots' crops, not their boundaries.
func mayReshape(ctx context.Context, what string) error {
	if a, _ := registry.ActorFromContext(ctx); a.Role == registry.RoleFarmer {
		return registry.Errorf(registry.EFORBIDDEN, "a farmer may not %s: ask your cooperative or the agriculture officer", what)
	}
	return nil
}

// SplitPlot cuts plot id along line into pieces that become new plots with its properties (its
// external id cleared: the pieces are not the feature of the file it came from), and retires
// it, in one transaction: the pieces, their audit records and growing-area membership, the
// plot's retirement and its audit record ("plot.split"), the tiles. The pieces cover exactly
// the plot, so they overlap nothing it did not, and are not snapped: their areas add up to the
// plot's, and merged back they are the plot again.
func (s *PlotService) SplitPlot(ctx context.Context, id int64, ifVersion int, line orb.LineString) ([]*registry.Plot, error) {
	if len(line) < 2 {
		return nil, registry.Invalid([]registry.Detail{{Field: "line", Message: "a line needs at least two positions"}})
	}
	var before *registry.Plot
	authorize := func(tx pgx.Tx) error {
		b, place, err := findPlot(ctx, tx, id)
		if err != nil {
			return err
		}
		if err := visible(ctx, b, place); err != nil {
			return err
		}
		if err := mayReshape(ctx, "split a plot"); err != nil {
			return err
		}
		before = b
		return mayWritePlot(ctx, place, "split this plot")
	}
	var pieces []*registry.Plot
	err := s.db.versionedWriteNoted(ctx, "plot", "plot.split", id, ifVersion, authorize, func(tx pgx.Tx) (writeNote, error) {
		shapes, err := s.splitShapes(ctx, tx, id, line)
		if err != nil {
			return writeNote{}, err
		}
		ids := make([]int64, len(shapes))
		for i, shape := range shapes {
			p := *before
			p.ID, p.Geometry, p.ExternalID, p.ParentIDs, p.Retired, p.RetiredInto = 0, shape, "", []int64{id}, "", nil
			if err := s.db.insertPlot(ctx, tx, &p, fmt.Sprintf("split from plot %d", id)); err != nil {
				return writeNote{}, err
			}
			ids[i] = p.ID
			pieces = append(pieces, &p)
		}
		if err := retirePlots(ctx, tx, []int64{id}, registry.RetiredSplit, ids); err != nil {
			return writeNote{}, err
		}
		if err := moveMembership(ctx, tx, []int64{id}, ids); err != nil {
			return writeNote{}, err
		}
		if err := s.db.changed(ctx, tx, registry.ChangePlot, before.Geometry.Bound()); err != nil {
			return writeNote{}, err
		}
		return writeNote{reason: "split into plots " + joinIDs(ids)}, nil
	})
	if err != nil {
		return nil, err
	}
	return pieces, nil
}

// splitShapes cuts the stored geometry of plot id along line, largest piece first, refusing
// (EINVALID, naming why) a line that does not cut the plot in two or cuts off a piece too
// small to be a plot.
func (s *PlotService) splitShapes(ctx context.Context, tx pgx.Tx, id int64, line orb.LineString) ([]orb.MultiPolygon, error) {
	lb, err := wkb.Marshal(line)
	if err != nil {
		return nil, err
	}
	var crosses bool
	var parts int
	var shapes [][]byte
	var areas []float64
	err = tx.QueryRow(ctx, `
		WITH p AS (SELECT geom AS g FROM plot WHERE id = $1), l AS (SELECT ST_GeomFromWKB($2, 4326) AS l),
		     pieces AS (SELECT d.geom AS piece FROM p, l, LATERAL ST_Dump(ST_CollectionExtract(ST_Split(p.g, l.l), 3)) d
		                WHERE ST_Intersects(p.g, l.l))
		SELECT ST_Intersects(p.g, l.l), ST_NumGeometries(p.g),
		       ARRAY(SELECT ST_AsBinary(piece) FROM pieces ORDER BY ST_Area(piece::geography, true) DESC),
		       ARRAY(SELECT ST_Area(piece::geography, true) / 10000 FROM pieces ORDER BY ST_Area(piece::geography, true) DESC)
		FROM p, l`, id, lb).Scan(&crosses, &parts, &shapes, &areas)
	if err != nil {
		return nil, err
	}
	refuse := func(format string, args ...any) error {
		msg := fmt.Sprintf(format, args...)
		return &registry.Error{Code: registry.EINVALID, Message: msg, Details: []registry.Detail{{Field: "line", Message: msg}}}
	}
	switch {
	case !crosses:
		return nil, refuse("the line does not cross plot %d: draw it across the plot, from outside one side to outside the other", id)
	case len(shapes) <= parts:
		return nil, refuse("the line does not cut plot %d in two: draw it across the whole plot, from outside one side to outside the other (a line that ends inside the plot, or runs along its boundary, cuts nothing)", id)
	case len(shapes) > maxSplitPieces:
		return nil, refuse("the line cuts plot %d in %d pieces, more than %d: draw a simpler line", id, len(shapes), maxSplitPieces)
	}
	if small := areas[len(areas)-1]; small < s.Limits.MinAreaHa {
		return nil, refuse("the line cuts off a piece of %s m² from plot %d, smaller than the smallest plot (%s m²): draw it elsewhere",
			ftoa(round(small*10000, 2)), id, ftoa(round(s.Limits.MinAreaHa*10000, 2)))
	}
	out := make([]orb.MultiPolygon, len(shapes))
	for i, b := range shapes {
		if out[i], err = decodeMultiPolygon(b); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// retirePlots retires the live plots ids (a split or a merge: how) into the plots that replace
// them, as a new version of each that the history trigger keeps.
func retirePlots(ctx context.Context, tx pgx.Tx, ids []int64, how string, into []int64) error {
	_, err := tx.Exec(ctx, `
		UPDATE plot SET deleted_at = now(), retired = $2, retired_into = $3, version = version + 1, updated_at = now(), updated_by = $4
		WHERE id = ANY ($1) AND deleted_at IS NULL`, ids, how, into, actorName(ctx))
	return mapError(err)
}

// moveMembership moves the current growing-area membership of the plots from to the plots to:
// the pieces of a split stay in the plot's growing area, a merge of its plots stays in it.
func moveMembership(ctx context.Context, tx pgx.Tx, from, to []int64) error {
	_, err := tx.Exec(ctx, `
		WITH gone AS (UPDATE growing_area_plot SET removed_at = now() WHERE plot_id = ANY ($1) AND removed_at IS NULL
		              RETURNING growing_area_id, province_code)
		INSERT INTO growing_area_plot (growing_area_id, plot_id, province_code)
		SELECT DISTINCT g.growing_area_id, t.id, g.province_code FROM gone g CROSS JOIN unnest($2::bigint[]) t(id)`, from, to)
	return mapError(err)
}

func joinIDs(ids []int64) string {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = fmt.Sprint(id)
	}
	return strings.Join(s, ", ")
}

// MergePlots joins plots into one new plot, and retires them, in one transaction: each must be
// live and at the version named (EPRECONDITION), visible and writable by the caller
// (ENOTFOUND, EFORBIDDEN), of one producer (or all without one) and one growing area, and
// together one polygon: adjacent along an edge, not only at a corner (EINVALID). The new plot
// takes the properties of the first plot named (its external id cleared) and the union of their
// boundaries; the plots' audit records say "plot.merge", the new plot's "plot.create". A
// stale version and a refusal are audited, as for UpdatePlot.
func (s *PlotService) MergePlots(ctx context.Context, refs []registry.PlotRef) (*registry.Plot, error) {
	if len(refs) < 2 {
		return nil, registry.Invalid([]registry.Detail{{Field: "plots", Message: "name at least two plots to merge, each with the version you read"}})
	}
	ids := make([]int64, len(refs))
	for i, r := range refs {
		if r.ID <= 0 || r.Version <= 0 {
			return nil, registry.Invalid([]registry.Detail{{Field: fmt.Sprintf("plots[%d]", i), Message: "a plot is named by its id and the version you read, both positive numbers"}})
		}
		if slices.Contains(ids[:i], r.ID) {
			return nil, registry.Invalid([]registry.Detail{{Field: fmt.Sprintf("plots[%d]", i), Message: fmt.Sprintf("plot %d is named twice", r.ID)}})
		}
		ids[i] = r.ID
	}
	if err := mayReshape(ctx, "merge plots"); err != nil {
		return nil, err
	}
	var merged *registry.Plot
	var stale []staleVersion
	var denied error
	var deniedPlace registry.Place
	var deniedID int64
	err := s.db.Transact(ctx, func(tx pgx.Tx) error {
		// Locked in id order, as every writer locks, so that two merges never deadlock.
		rows, err := tx.Query(ctx, plotSelect+` WHERE p.id = ANY ($1) AND p.deleted_at IS NULL ORDER BY p.id FOR UPDATE OF p`, ids)
		if err != nil {
			return err
		}
		byID := map[int64]*registry.Plot{}
		places := map[int64]registry.Place{}
		for rows.Next() {
			var coop *int64
			p, err := scanPlot(rows, &coop)
			if err != nil {
				rows.Close()
				return err
			}
			byID[p.ID], places[p.ID] = p, plotPlace(p, coop)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		befores := make([][]byte, len(refs))
		for i, r := range refs {
			p, ok := byID[r.ID]
			if !ok {
				return registry.Errorf(registry.ENOTFOUND, "plot %d not found", r.ID)
			}
			if err := visible(ctx, p, places[r.ID]); err != nil {
				return err
			}
			if err := mayWritePlot(ctx, places[r.ID], "merge this plot"); err != nil {
				denied, deniedPlace, deniedID = err, places[r.ID], r.ID
				return err
			}
			if p.Version != r.Version {
				stale = append(stale, staleVersion{id: r.ID, province: p.ProvinceCode, have: r.Version, current: p.Version})
			}
			if befores[i], err = rowJSON(ctx, tx, "plot", r.ID); err != nil {
				return err
			}
		}
		if len(stale) > 0 {
			st := stale[0]
			return registry.Errorf(registry.EPRECONDITION, "plot %d has changed since you read it (you sent version %d, it is now at version %d): reload the plots and merge them again", st.id, st.have, st.current)
		}
		first := byID[refs[0].ID]
		for _, r := range refs[1:] {
			if p := byID[r.ID]; !sameProducer(first.ProducerID, p.ProducerID) {
				return registry.Invalid([]registry.Detail{{Field: "plots", Code: "different_producers",
					Message: fmt.Sprintf("plots %d and %d belong to different producers: only the plots of one producer merge into one (change the producer of one first)", first.ID, p.ID)}})
			}
		}
		if err := sameGrowingArea(ctx, tx, ids); err != nil {
			return err
		}
		shape, err := s.mergeShape(ctx, tx, ids)
		if err != nil {
			return err
		}
		if err := checkPlotGeometry(ctx, tx, shape, s.Limits); err != nil {
			return err
		}
		p := *first
		p.ID, p.Geometry, p.ExternalID, p.ParentIDs, p.Retired, p.RetiredInto = 0, shape, "", ids, "", nil
		if err := s.db.insertPlot(ctx, tx, &p, "merged from plots "+joinIDs(ids)); err != nil {
			return err
		}
		if err := retirePlots(ctx, tx, ids, registry.RetiredMerge, []int64{p.ID}); err != nil {
			return err
		}
		for i, r := range refs {
			after, err := rowJSON(ctx, tx, "plot", r.ID)
			if err != nil {
				return err
			}
			if err := audit(ctx, tx, auditEntry{Action: "plot.merge", ObjectType: "plot", ObjectID: r.ID, Province: byID[r.ID].ProvinceCode,
				Reason: fmt.Sprintf("merged into plot %d", p.ID), Before: befores[i], After: after}); err != nil {
				return err
			}
		}
		if err := moveMembership(ctx, tx, ids, []int64{p.ID}); err != nil {
			return err
		}
		merged = &p
		return s.db.changed(ctx, tx, registry.ChangePlot, shape.Bound())
	})
	switch {
	case denied != nil:
		s.db.auditRefusal(ctx, auditEntry{Action: "plot.merge", Outcome: "denied", ObjectType: "plot", ObjectID: deniedID, Province: deniedPlace.ProvinceCode,
			Commune: deniedPlace.CommuneCode, Reason: registry.ErrorMessage(denied)})
	case len(stale) > 0:
		for _, st := range stale {
			s.db.auditRefusal(ctx, auditEntry{Action: "plot.merge", Outcome: "rejected", ObjectType: "plot", ObjectID: st.id, Province: st.province,
				Reason: fmt.Sprintf("stale version: sent %d, current %d", st.have, st.current)})
		}
	}
	if err != nil {
		return nil, err
	}
	return merged, nil
}

func sameProducer(a, b *int64) bool {
	return (a == nil) == (b == nil) && (a == nil || *a == *b)
}

// sameGrowingArea refuses (EINVALID) to merge plots that do not all belong to one growing area,
// or all to none: the merged plot could not be in two.
func sameGrowingArea(ctx context.Context, tx pgx.Tx, ids []int64) error {
	var areas []string
	err := tx.QueryRow(ctx, `
		SELECT ARRAY(SELECT DISTINCT COALESCE(m.growing_area_id::text, 'none') FROM unnest($1::bigint[]) t(id)
		             LEFT JOIN growing_area_plot m ON m.plot_id = t.id AND m.removed_at IS NULL ORDER BY 1)`, ids).Scan(&areas)
	if err != nil {
		return err
	}
	if len(areas) > 1 {
		return registry.Invalid([]registry.Detail{{Field: "plots", Code: "different_growing_areas",
			Message: fmt.Sprintf("the plots belong to different growing areas (%s): a plot is in one growing area at most; move them into one first", strings.Join(areas, ", "))}})
	}
	return nil
}

// mergeShape returns the union of plots ids as one polygon, without the holes of less than the
// sliver area that boundaries drawn a hair apart leave between them. Plots that touch at a
// corner only, or not at all, are refused (EINVALID); so are plots a hair apart, unless
// snapping each onto the others (within the snap distance) joins them.
func (s *PlotService) mergeShape(ctx context.Context, tx pgx.Tx, ids []int64) (orb.MultiPolygon, error) {
	var pieces int
	var shape []byte
	for _, tolerance := range []float64{0, s.Neighbours.SnapDegrees()} {
		err := tx.QueryRow(ctx, `
			WITH parts AS (SELECT CASE WHEN $2 > 0 THEN ST_Snap(p.geom, (SELECT ST_Collect(o.geom) FROM plot o WHERE o.id = ANY ($1) AND o.id <> p.id), $2)
			                           ELSE p.geom END AS g
			               FROM plot p WHERE p.id = ANY ($1)),
			     u AS (SELECT ST_Union(g) AS g FROM parts),
			     one AS (SELECT g, ST_NumGeometries(g) AS n, CASE WHEN ST_NumGeometries(g) = 1 THEN ST_GeometryN(g, 1) END AS poly FROM u)
			SELECT n, ST_AsBinary(ST_Multi(COALESCE(
			         ST_MakePolygon(ST_ExteriorRing(poly), ARRAY(
			           SELECT ST_InteriorRingN(poly, k) FROM generate_series(1, ST_NumInteriorRings(poly)) k
			           WHERE ST_Area(ST_MakePolygon(ST_InteriorRingN(poly, k))::geography) >= $3)),
			         g)))
			FROM one`, ids, tolerance, s.Neighbours.SliverM2).Scan(&pieces, &shape)
		if err != nil {
			return nil, err
		}
		if pieces == 1 || (tolerance == 0 && s.Neighbours.SnapM <= 0) {
			break
		}
	}
	if pieces != 1 {
		return nil, registry.Invalid([]registry.Detail{{Field: "plots", Code: "not_adjacent",
			Message: fmt.Sprintf("plots %s are not adjacent: together they make %d separate pieces; only plots that share an edge merge (touching at a corner is not enough)", joinIDs(ids), pieces)}})
	}
	mp, err := decodeMultiPolygon(shape)
	if err != nil {
		return nil, err
	}
	return dropStraightVertices(mp), nil
}

// straightVertex is how far, in degrees (about a micrometre), a vertex may lie off the straight
// line between its neighbours and still be no corner: a cut of a split, not a surveyed point.
const straightVertex = 1e-11

// dropStraightVertices removes from mp's rings the vertices that lie on the straight line
// between their neighbours: where the plots a split made meet the old boundary. A merge of the
// pieces then has the plot's own vertices again, and its area on the ellipsoid is the plot's
// (an extra vertex on a straight side is not on the geodesic between the side's ends, and moves
// the area on the ellipsoid by square centimetres).
func dropStraightVertices(mp orb.MultiPolygon) orb.MultiPolygon {
	out := make(orb.MultiPolygon, 0, len(mp))
	for _, poly := range mp {
		np := make(orb.Polygon, 0, len(poly))
		for _, ring := range poly {
			np = append(np, dropStraight(ring))
		}
		out = append(out, np)
	}
	return out
}

// dropStraight removes the straight vertices of a closed ring, keeping at least a triangle.
func dropStraight(ring orb.Ring) orb.Ring {
	pts := slices.Clone(ring[:len(ring)-1])
	for changed := true; changed && len(pts) > 3; {
		changed = false
		for i := 0; i < len(pts) && len(pts) > 3; i++ {
			a, p, b := pts[(i+len(pts)-1)%len(pts)], pts[i], pts[(i+1)%len(pts)]
			if offLine(a, b, p) <= straightVertex && between(a, b, p) {
				pts = slices.Delete(pts, i, i+1)
				changed = true
				i--
			}
		}
	}
	return append(orb.Ring(pts), pts[0])
}

// offLine is the distance of p from the line through a and b, in degrees.
func offLine(a, b, p orb.Point) float64 {
	dx, dy := b[0]-a[0], b[1]-a[1]
	l := math.Hypot(dx, dy)
	if l == 0 {
		return math.Hypot(p[0]-a[0], p[1]-a[1])
	}
	return math.Abs(dx*(p[1]-a[1])-dy*(p[0]-a[0])) / l
}

// between reports whether p projects onto the segment a-b (not beyond its ends).
func between(a, b, p orb.Point) bool {
	dx, dy := b[0]-a[0], b[1]-a[1]
	t := dx*(p[0]-a[0]) + dy*(p[1]-a[1])
	return t >= 0 && t <= dx*dx+dy*dy
}

// RestorePlot writes, as a new version of plot id, the plot as it was at version (its boundary
// exactly, and every property), if its version is still ifVersion: audited as "plot.restore"
// with the reason "restored version N". The caller must be able to write the plot where it is
// and where the old version puts it; a boundary that moves must pass the overlap rule
// (overlapReason keeps an overlap, for officers).
func (s *PlotService) RestorePlot(ctx context.Context, id int64, version, ifVersion int, overlapReason string) (*registry.Plot, error) {
	overlapReason = vntext.Clean(overlapReason)
	if utf8.RuneCountInString(overlapReason) > 500 {
		return nil, registry.Invalid([]registry.Detail{{Field: "overlap_reason", Message: "overlap_reason is longer than 500 characters"}})
	}
	var before *registry.Plot
	authorize := func(tx pgx.Tx) error {
		b, place, err := findPlot(ctx, tx, id)
		if err != nil {
			return err
		}
		if err := visible(ctx, b, place); err != nil {
			return err
		}
		if err := mayReshape(ctx, "restore an earlier version of a plot"); err != nil {
			return err
		}
		if err := mayWritePlot(ctx, place, "restore this plot"); err != nil {
			return err
		}
		before = b
		return mayKeepOverlaps(ctx, overlapReason)
	}
	var restored *registry.Plot
	err := s.db.versionedWriteNoted(ctx, "plot", "plot.restore", id, ifVersion, authorize, func(tx pgx.Tx) (writeNote, error) {
		old, err := plotVersion(ctx, tx, id, version, before.Version)
		if err != nil {
			return writeNote{}, err
		}
		old.OverlapReason = overlapReason
		coop, err := producerCooperative(ctx, tx, old)
		if err != nil {
			return writeNote{}, err
		}
		if err := mayWritePlot(ctx, plotPlace(old, coop), fmt.Sprintf("restore version %d, which puts the plot", version)); err != nil {
			return writeNote{}, err
		}
		reason := fmt.Sprintf("restored version %d", version)
		if !before.Geometry.Equal(old.Geometry) {
			if err := lockNeighbourhood(ctx, tx, old.Geometry.Bound()); err != nil {
				return writeNote{}, err
			}
			kept, err := s.guardOverlaps(ctx, tx, old, []int64{id})
			if err != nil {
				return writeNote{}, err
			}
			if kept != "" {
				reason += "; " + kept
			}
		}
		_, err = tx.Exec(ctx, `
			UPDATE plot p SET producer_id = h.producer_id, admin_scheme = h.admin_scheme, province_code = h.province_code,
			       commune_code = h.commune_code, crop = h.crop, variety = h.variety, planting_year = h.planting_year,
			       cadastral_sheet = h.cadastral_sheet, cadastral_parcel = h.cadastral_parcel, land_cert_no = h.land_cert_no,
			       source = h.source, external_id = h.external_id, geom = h.geom,
			       version = p.version + 1, updated_at = now(), updated_by = $3
			FROM plot_history h WHERE p.id = $1 AND h.plot_id = $1 AND h.version = $2`, id, version, actorName(ctx))
		if err != nil {
			return writeNote{}, mapPlotError(err, old)
		}
		for _, b := range []orb.Bound{before.Geometry.Bound(), old.Geometry.Bound()} {
			if err := s.db.changed(ctx, tx, registry.ChangePlot, b); err != nil {
				return writeNote{}, err
			}
		}
		if restored, _, err = findPlot(ctx, tx, id); err != nil {
			return writeNote{}, err
		}
		return writeNote{province: restored.ProvinceCode, reason: reason}, nil
	})
	if err != nil {
		return nil, err
	}
	return restored, nil
}

// plotVersion reads an earlier version of plot id from its history; current is the plot's
// version now. A version that is not an earlier one is EINVALID, saying which there are.
func plotVersion(ctx context.Context, q querier, id int64, version, current int) (*registry.Plot, error) {
	if version == current {
		return nil, registry.Invalid([]registry.Detail{{Field: "version", Message: fmt.Sprintf("version %d is the current version of plot %d: there is nothing to restore", version, id)}})
	}
	p, err := scanPlot(q.QueryRow(ctx, `
		SELECT plot_id, producer_id, COALESCE(province_code, ''), COALESCE(commune_code, ''), crop,
		       COALESCE(variety, ''), COALESCE(planting_year, 0), COALESCE(cadastral_sheet, ''),
		       COALESCE(cadastral_parcel, ''), COALESCE(land_cert_no, ''), source, COALESCE(external_id, ''),
		       ST_AsBinary(geom), area_ha, version, valid_from, valid_to, written_by, replaced_by, deleted_at,
		       COALESCE(parent_ids, '{}'), COALESCE(retired, ''), COALESCE(retired_into, '{}')
		FROM plot_history WHERE plot_id = $1 AND version = $2`, id, version))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, registry.Invalid([]registry.Detail{{Field: "version", Message: fmt.Sprintf("plot %d has no version %d: its versions are 1 to %d (GET /api/v1/plots/%d/history)", id, version, current, id)}})
	}
	return p, err
}
