package postgres

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/wkb"
	"github.com/vungtrong/vungtrong/geo"
	"github.com/vungtrong/vungtrong/registry"
)

// The overlap rule, one for imports and for plots written one at a time: two plots overlap
// when their interiors do (the DE-9IM pattern T********, one relate test where "intersects but
// does not touch" would be two), by the area of their intersection on the ellipsoid; the
// overlap blocks when it is more than the tolerance share of the smaller plot, so that
// neighbours sharing an edge, or overlapping by a survey sliver, pass.

// interiorsOverlapSQL is the SQL test that the interiors of geometries a and b overlap.
func interiorsOverlapSQL(a, b string) string {
	return "ST_Relate(" + a + ", " + b + ", 'T********')"
}

// overlapM2SQL is the SQL area, in square metres, of shared, the intersection of two plots.
func overlapM2SQL(shared string) string {
	return "ST_Area((" + shared + ")::geography)"
}

// overlapPctSQL is the SQL share, in percent, that an overlap of m2 square metres is of the
// smaller of two plots of aHa and bHa hectares.
func overlapPctSQL(m2, aHa, bHa string) string {
	return fmt.Sprintf("(100 * %s / (10000 * least(%s, %s)))", m2, aHa, bHa)
}

// overlapBlocksSQL is the SQL condition that an overlap of m2 square metres between plots of
// aHa and bHa hectares blocks, with tolerance the share allowed.
func overlapBlocksSQL(m2, aHa, bHa, tolerance string) string {
	return fmt.Sprintf("(%s > %s * 10000 * least(%s, %s))", m2, tolerance, aHa, bHa)
}

// overlapNoiseM2 is the overlap below which a plot written one at a time is not told about a
// neighbour: neighbours that share an edge exactly still overlap by a few square nanometres
// where the floating-point crossings of their sides fall, which no person can see or fix.
const overlapNoiseM2 = 1e-4

// snapPlot returns mp snapped onto its live neighbours (plot_snap, migration 0017), leaving
// out the plots in skip (the plot being edited): what a write stores.
func snapPlot(ctx context.Context, q querier, mp orb.MultiPolygon, rules geo.NeighbourRules, skip []int64) (orb.MultiPolygon, error) {
	if rules.SnapM <= 0 || len(mp) == 0 {
		return mp, nil
	}
	b, err := wkb.Marshal(mp)
	if err != nil {
		return nil, err
	}
	var out []byte
	if err := q.QueryRow(ctx, `SELECT ST_AsBinary(plot_snap(ST_GeomFromWKB($1, 4326), $2, $3))`, b, rules.SnapDegrees(), nonNil(skip)).Scan(&out); err != nil {
		return nil, err
	}
	return decodeMultiPolygon(out)
}

// decodeMultiPolygon decodes WKB of a polygonal geometry as a MultiPolygon (nil for none).
func decodeMultiPolygon(b []byte) (orb.MultiPolygon, error) {
	if b == nil {
		return nil, nil
	}
	g, err := wkb.Unmarshal(b)
	if err != nil {
		return nil, err
	}
	switch g := g.(type) {
	case orb.MultiPolygon:
		return g, nil
	case orb.Polygon:
		return orb.MultiPolygon{g}, nil
	case orb.Collection:
		var mp orb.MultiPolygon
		for _, c := range g {
			switch c := c.(type) {
			case orb.Polygon:
				mp = append(mp, c)
			case orb.MultiPolygon:
				mp = append(mp, c...)
			}
		}
		return mp, nil
	}
	return nil, fmt.Errorf("geometry is a %s, not polygons", g.GeoJSONType())
}

// plotOverlaps returns the live plots (other than those in skip) whose interiors overlap mp,
// a plot of areaHa hectares, by the overlap rule with tolerance, largest first.
func plotOverlaps(ctx context.Context, q querier, mp orb.MultiPolygon, areaHa, tolerance float64, skip []int64) ([]registry.PlotOverlap, error) {
	b, err := wkb.Marshal(mp)
	if err != nil {
		return nil, err
	}
	rows, err := q.Query(ctx, `
		WITH g AS (SELECT ST_GeomFromWKB($1, 4326) AS g)
		SELECT p.id, o.m2, `+overlapPctSQL("o.m2", "$2::float8", "p.area_ha")+`, `+overlapBlocksSQL("o.m2", "$2::float8", "p.area_ha", "$3::float8")+`,
		       ST_AsBinary(ST_Multi(ST_CollectionExtract(x.shared, 3)))
		FROM g JOIN plot p ON p.geom && g.g AND p.deleted_at IS NULL AND p.id <> ALL ($4)
		CROSS JOIN LATERAL (SELECT ST_Intersection(g.g, p.geom) AS shared) x
		CROSS JOIN LATERAL (SELECT `+overlapM2SQL("x.shared")+` AS m2) o
		WHERE `+interiorsOverlapSQL("g.g", "p.geom")+` AND o.m2 >= $5
		ORDER BY o.m2 DESC, p.id`, b, areaHa, tolerance, nonNil(skip), overlapNoiseM2)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []registry.PlotOverlap{}
	for rows.Next() {
		var o registry.PlotOverlap
		var shared []byte
		if err := rows.Scan(&o.Plot, &o.M2, &o.Pct, &o.Blocks, &shared); err != nil {
			return nil, err
		}
		if o.Geometry, err = decodeMultiPolygon(shared); err != nil {
			return nil, err
		}
		o.M2, o.Pct = round(o.M2, 2), round(o.Pct, 2)
		out = append(out, o)
	}
	return out, rows.Err()
}

// suggestPlot returns mp without the plots of neighbours (which it overlaps): the difference,
// without its slivers (parts under rules.SliverM2, or narrower than about half a metre
// everywhere), snapped onto the edges of those neighbours. It returns nil when
// nothing of at least lim.MinAreaHa is left. Only a part whose area is less than half its
// perimeter times the width can be that narrow everywhere (a strip of width w has area w × its
// length, about half its perimeter): the others are not shrunk by a buffer to find out.
func suggestPlot(ctx context.Context, q querier, mp orb.MultiPolygon, neighbours []int64, rules geo.NeighbourRules, lim geo.Limits) (orb.MultiPolygon, float64, error) {
	b, err := wkb.Marshal(mp)
	if err != nil {
		return nil, 0, err
	}
	var out []byte
	var areaHa *float64
	err = q.QueryRow(ctx, `
		WITH g AS (SELECT ST_GeomFromWKB($1, 4326) AS g),
		     nb AS (SELECT ST_Union(p.geom) AS u FROM plot p WHERE p.id = ANY ($2)),
		     parts AS (SELECT d.geom AS part FROM g, nb, LATERAL ST_Dump(ST_Difference(g.g, nb.u)) d),
		     kept AS (SELECT part FROM parts
		              WHERE ST_Dimension(part) = 2 AND ST_Area(part::geography) >= $3
		                AND (ST_Area(part) > $4 * ST_Perimeter(part) / 2 OR NOT ST_IsEmpty(ST_Buffer(part, -$4::float8 / 2, 'quad_segs=2')))),
		     c AS (SELECT ST_Multi(ST_Collect(part)) AS c FROM kept),
		     -- Snapped onto the neighbours' edges it was cut from (their vertices and sides);
		     -- as cut when snapping would make it invalid.
		     t AS (SELECT c.c, CASE WHEN $5::float8 > 0 THEN ST_Multi(ST_Snap(c.c, ST_Boundary(nb.u), $5)) END AS snapped FROM c, nb),
		     s AS (SELECT CASE WHEN snapped IS NOT NULL AND NOT ST_IsEmpty(snapped) AND ST_IsValid(snapped) THEN snapped ELSE c END AS s FROM t)
		SELECT ST_AsBinary(s), ST_Area(s::geography, true) / 10000 FROM s WHERE s IS NOT NULL AND NOT ST_IsEmpty(s)`,
		b, neighbours, rules.SliverM2, geo.SliverWidthDegrees, rules.SnapDegrees()).Scan(&out, &areaHa)
	if errors.Is(err, pgx.ErrNoRows) || (err == nil && (areaHa == nil || *areaHa < lim.MinAreaHa || *areaHa <= 0)) {
		return nil, 0, nil
	}
	if err != nil {
		return nil, 0, err
	}
	s, err := decodeMultiPolygon(out)
	return s, *areaHa, err
}

// mayKeepOverlaps returns EFORBIDDEN when the caller gives a reason to keep an overlap but may
// not: keeping one is the agriculture officers' (and administrators') decision.
func mayKeepOverlaps(ctx context.Context, reason string) error {
	if reason == "" {
		return nil
	}
	switch a, _ := registry.ActorFromContext(ctx); a.Role {
	case registry.RoleAdmin, registry.RoleOfficer:
		return nil
	default:
		return registry.Errorf(registry.EFORBIDDEN, "your role (%s) may not keep an overlap with a neighbouring plot (overlap_reason): move the boundary off the neighbour, or ask the agriculture officer", cmpOr(a.Role, "public"))
	}
}

// guardOverlaps applies the overlap rule to a plot about to be written (already snapped and
// placed), leaving out the plots in skip: it returns nothing when no overlap blocks, the audit
// reason when p.OverlapReason keeps the blocking overlaps, and otherwise EINVALID naming them,
// with the overlaps and a suggested geometry without them in the error's extra members.
func (s *PlotService) guardOverlaps(ctx context.Context, tx pgx.Tx, p *registry.Plot, skip []int64) (string, error) {
	areaHa, err := plotArea(ctx, tx, p.Geometry)
	if err != nil {
		return "", err
	}
	overlaps, err := plotOverlaps(ctx, tx, p.Geometry, areaHa, s.Neighbours.OverlapTolerance, skip)
	if err != nil {
		return "", err
	}
	var blocking []registry.PlotOverlap
	for _, o := range overlaps {
		if o.Blocks {
			blocking = append(blocking, o)
		}
	}
	if len(blocking) == 0 {
		return "", nil
	}
	if p.OverlapReason != "" {
		if err := mayKeepOverlaps(ctx, p.OverlapReason); err != nil {
			return "", err
		}
		ids := make([]string, len(blocking))
		for i, o := range blocking {
			ids[i] = fmt.Sprint(o.Plot)
		}
		return fmt.Sprintf("overlap with plot %s kept: %s", strings.Join(ids, ", "), p.OverlapReason), nil
	}
	suggested, suggestedHa, err := suggestPlot(ctx, tx, p.Geometry, overlapIDs(overlaps), s.Neighbours, s.Limits)
	if err != nil {
		return "", err
	}
	return "", overlapError(p, blocking, overlaps, suggested, suggestedHa)
}

// overlapIDs returns the neighbours' ids of overlaps.
func overlapIDs(overlaps []registry.PlotOverlap) []int64 {
	ids := make([]int64, len(overlaps))
	for i, o := range overlaps {
		ids[i] = o.Plot
	}
	return ids
}

// overlapError is the refusal of a plot whose blocking overlaps are blocking (of all its
// overlaps): the first in the message, each in the details, and the overlaps and the suggested
// geometry as extra members for the editor to show.
func overlapError(p *registry.Plot, blocking, overlaps []registry.PlotOverlap, suggested orb.MultiPolygon, suggestedHa float64) error {
	details := make([]registry.Detail, len(blocking))
	for i, o := range blocking {
		m2, pct := ftoa(round(o.M2, 1)), ftoa(round(o.Pct, 1))
		details[i] = registry.Detail{Field: "geometry", Code: "overlap",
			Message: fmt.Sprintf("overlaps plot %d by %s m² (%s%% of the smaller plot)", o.Plot, m2, pct),
			Args:    map[string]string{"plot": fmt.Sprint(o.Plot), "m2": m2, "pct": pct}}
	}
	first := blocking[0]
	msg := fmt.Sprintf("the plot overlaps plot %d by %s m² (%s%% of the smaller plot)", first.Plot, ftoa(round(first.M2, 1)), ftoa(round(first.Pct, 1)))
	if n := len(blocking) - 1; n > 0 {
		msg += fmt.Sprintf(" and %d more plots (see details)", n)
	}
	msg += ": move its boundary off the neighbours"
	if suggested != nil {
		msg += fmt.Sprintf(" (suggested_geometry is the plot without them, %s ha)", ftoa(round(suggestedHa, 4)))
	}
	msg += "; an agriculture officer may keep an overlap by sending overlap_reason"
	extra := map[string]any{"overlaps": overlaps, "suggested_geometry": suggested, "suggested_area_ha": nil}
	if suggested != nil {
		extra["suggested_area_ha"] = suggestedHa
	}
	return &registry.Error{Code: registry.EINVALID, Message: msg, Details: details, Extra: extra}
}

// plotArea returns the area of mp on the ellipsoid, in hectares, as plot.area_ha computes it.
func plotArea(ctx context.Context, q querier, mp orb.MultiPolygon) (float64, error) {
	b, err := wkb.Marshal(mp)
	if err != nil {
		return 0, err
	}
	var ha float64
	err = q.QueryRow(ctx, `SELECT ST_Area(ST_GeomFromWKB($1, 4326)::geography, true) / 10000.0`, b).Scan(&ha)
	return ha, err
}

// Advisory lock classes of the neighbourhood locks (lockNeighbourhood).
const (
	plotCellLockKey   = 0x706c6f74 // "plot": a cell of 0.01°
	plotRegionLockKey = 0x706c6f75 // a region of 0.1°
)

// maxLockedCells is the most cells of 0.01° one write locks; a plot that spans more locks its
// regions of 0.1° whole instead.
const maxLockedCells = 64

// lockNeighbourhood serializes the writes of plots near b until tx ends, so that two plots
// written at once over the same ground cannot both pass the overlap rule, each before the other
// is there to see. A write locks the cells of 0.01° (about a kilometre) that b spans, after a
// shared lock on their regions of 0.1°; a plot too large for that locks its regions exclusively.
// Locks are taken in one order (regions, then cells, each sorted), so writers never deadlock.
func lockNeighbourhood(ctx context.Context, tx pgx.Tx, b orb.Bound) error {
	if b.IsZero() {
		return nil
	}
	b = b.Pad(1e-6)
	cells := gridCells(b, 0.01, 20000)
	regions := gridCells(b, 0.1, 2000)
	exclusive := len(cells) > maxLockedCells
	if exclusive {
		cells = nil
	}
	_, err := tx.Exec(ctx, `
		SELECT count(*) FROM (
		  SELECT CASE WHEN $3 THEN pg_advisory_xact_lock($1, k)::text ELSE pg_advisory_xact_lock_shared($1, k)::text END FROM unnest($2::int4[]) k
		  UNION ALL
		  SELECT pg_advisory_xact_lock($4, k)::text FROM unnest($5::int4[]) k) x`,
		int32(plotRegionLockKey), regions, exclusive, int32(plotCellLockKey), nonNil(cells))
	return err
}

// gridCells numbers, in ascending order, the cells of a grid of size degrees that b touches;
// rows is the number of rows the numbering allows.
func gridCells(b orb.Bound, size float64, rows int) []int32 {
	x0, x1 := int(math.Floor((b.Min[0]+180)/size)), int(math.Floor((b.Max[0]+180)/size))
	y0, y1 := int(math.Floor((b.Min[1]+90)/size)), int(math.Floor((b.Max[1]+90)/size))
	var out []int32
	for x := x0; x <= x1; x++ {
		for y := y0; y <= y1; y++ {
			out = append(out, int32(x*rows+y))
		}
	}
	slices.Sort(out)
	return out
}
