// Package postgis renders the vector tiles in PostGIS with ST_AsMVT: one query per layer,
// prepared with the tile's z/x/y as parameters, filtering on a spatial index in the tile's own
// projection. Tile connections have JIT and parallel gather off (per tile they cost more than
// they give) and keep one generic plan per query; a tile query stops when its request's
// context ends.
package postgis

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/vungtrong/vungtrong/tiles"
)

// Source renders tiles from the registry's database, or from a streaming replica of it.
type Source struct {
	pool    *pgxpool.Pool
	replica *pgxpool.Pool
	wait    time.Duration
	// need is the primary's log position the tiles must show (Require); replayed the highest
	// one the replica is known to have replayed.
	need, replayed atomic.Uint64
	fellBack       atomic.Int64
}

// Options tune the tile connections.
type Options struct {
	// MaxConns caps the tile pool; 0 keeps pgx's default.
	MaxConns int
	// StatementTimeout stops a tile query that runs away (default 30 s).
	StatementTimeout time.Duration
	// ReplicaURL, when set, is a streaming replica of url that renders the tiles: the primary
	// renders only those the replica has not caught up for yet (see Require).
	ReplicaURL string
	// ReplicaWait is how long a tile waits for the replica to replay a change it needs before
	// the primary renders it instead (default 100 ms).
	ReplicaWait time.Duration
}

// Open opens a pool of tile connections to the database at url (and to its replica).
func Open(ctx context.Context, url string, opts Options) (*Source, error) {
	pool, err := openPool(ctx, url, opts)
	if err != nil {
		return nil, err
	}
	s := &Source{pool: pool, wait: cmp.Or(opts.ReplicaWait, 100*time.Millisecond)}
	if opts.ReplicaURL != "" {
		if s.replica, err = openPool(ctx, opts.ReplicaURL, opts); err != nil {
			pool.Close()
			return nil, err
		}
	}
	return s, nil
}

func openPool(ctx context.Context, url string, opts Options) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("tiles: database URL: %w", err)
	}
	timeout := opts.StatementTimeout
	if timeout == 0 {
		timeout = 30 * time.Second
	}
	rp := cfg.ConnConfig.RuntimeParams
	rp["application_name"] = "vungtrong-tiles"
	for k, v := range Settings() {
		rp[k] = v
	}
	rp["statement_timeout"] = fmt.Sprint(timeout.Milliseconds())
	// A database that does not answer fails a tile quickly instead of holding its request.
	cfg.ConnConfig.ConnectTimeout = 5 * time.Second
	if opts.MaxConns > 0 {
		cfg.MaxConns = int32(opts.MaxConns)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("tiles: %w", err)
	}
	return pool, nil
}

// Settings are the session settings of the tile connections: JIT and parallel gather cost a
// tile more than they give, and one generic plan per query, made once, saves planning each
// tile with its envelope as constants (which costs about as much as running a z16 tile).
func Settings() map[string]string {
	return map[string]string{"jit": "off", "max_parallel_workers_per_gather": "0", "plan_cache_mode": "force_generic_plan"}
}

// Close closes the pools.
func (s *Source) Close() {
	s.pool.Close()
	if s.replica != nil {
		s.replica.Close()
	}
}

// Require says that tiles rendered from now on must show the primary's changes up to lsn (a
// position in its write-ahead log, in bytes): the replica renders a tile only once it has
// replayed that far. Call it before the cache forgets the tiles of the change.
func (s *Source) Require(lsn uint64) {
	for {
		cur := s.need.Load()
		if lsn <= cur || s.need.CompareAndSwap(cur, lsn) {
			return
		}
	}
}

// Tile renders one tile of a layer: an MVT, empty when the tile has no features.
func (s *Source) Tile(ctx context.Context, layer string, t tiles.ID) ([]byte, error) {
	sql, args, err := Query(layer, t)
	if err != nil {
		return nil, err
	}
	var mvt []byte
	if err := s.pick(ctx).QueryRow(ctx, sql, args...).Scan(&mvt); err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("tiles: %s %v: %w", layer, t, err)
	}
	return mvt, nil
}

// pick returns the pool to render a tile with: the replica once it has replayed every change
// required (waiting for it a little), else the primary.
func (s *Source) pick(ctx context.Context) *pgxpool.Pool {
	if s.replica == nil {
		return s.pool
	}
	need := s.need.Load()
	if need <= s.replayed.Load() {
		return s.replica
	}
	deadline := time.Now().Add(s.wait)
	for {
		var at *int64
		// NULL when the "replica" is not in recovery (a primary given as read URL): it has all.
		err := s.replica.QueryRow(ctx, `SELECT (pg_last_wal_replay_lsn() - '0/0')::bigint`).Scan(&at)
		if err != nil {
			return s.pool
		}
		if at == nil || uint64(*at) >= need {
			for {
				cur := s.replayed.Load()
				if need <= cur || s.replayed.CompareAndSwap(cur, need) {
					break
				}
			}
			return s.replica
		}
		if time.Now().After(deadline) {
			s.fellBack.Add(1)
			return s.pool
		}
		select {
		case <-ctx.Done():
			return s.pool
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// Pools returns the source's connection pools by name, for metrics.
func (s *Source) Pools() map[string]*pgxpool.Pool {
	return map[string]*pgxpool.Pool{"tiles": s.pool, "tiles_replica": s.replica}
}

// FellBack returns how many tiles the primary rendered because the replica lagged.
func (s *Source) FellBack() int64 { return s.fellBack.Load() }

// ErrUnknownLayer is returned for a layer the source has no query for.
var ErrUnknownLayer = errors.New("tiles/postgis: unknown layer")

// unit is the size of one MVT unit at zoom z, in Web Mercator metres: the simplification
// tolerance of what is smaller than what the tile can show.
func unit(z int) float64 { return 40075016.685578488 / float64(int(1)<<z) / tiles.Extent }

// Query returns the SQL and arguments that render a tile of a layer. The benchmark runs the
// same queries directly to measure the floor under the server.
func Query(layer string, t tiles.ID) (string, []any, error) {
	args := []any{t.Z, t.X, t.Y}
	switch layer {
	case "plots":
		// At z12 a plot is a few pixels wide: detail below half a pixel is not drawn, and
		// every vertex costs in the query and in the tile's size.
		tolerance := 0.0
		switch t.Z {
		case 12:
			tolerance = 4 * unit(t.Z)
		case 13:
			tolerance = 2 * unit(t.Z)
		}
		b := t.Bound3857()
		pad := 64 * unit(t.Z)
		scale := tiles.Extent / (b.Max[0] - b.Min[0])
		return plotsSQL, []any{b.Min[0] - pad, b.Min[1] - pad, b.Max[0] + pad, b.Max[1] + pad, -b.Min[0], -b.Max[1], scale, tolerance}, nil
	case "plot_density":
		return densitySQL, args, nil
	case "growing_areas":
		return growingAreasSQL, append(args, unit(t.Z)), nil
	case "communes":
		return communesSQL, append(args, unit(t.Z)/111320), nil
	case "provinces":
		return provincesSQL, append(args, unit(t.Z)/111320), nil
	case "packing_houses":
		return packingHousesSQL, args, nil
	case "livestock":
		return livestockSQL, args, nil
	case "feed_mills":
		return feedMillsSQL, args, nil
	}
	return "", nil, fmt.Errorf("%w %q", ErrUnknownLayer, layer)
}

// The queries. Each filters with && on a GiST index (the envelope widened by the buffer) and
// names only whitelisted attributes. Except for plots (see plotsSQL), $1, $2, $3 are z, x, y
// and ST_AsMVTGeom clips. Every inner query ends in OFFSET 0, which keeps PostgreSQL from
// folding it into the outer one: folded, each feature's geometry is computed twice, once for
// the outer filter and once for ST_AsMVT.
const (
	// Plots are small beside a tile, and there are thousands in one: rather than
	// ST_AsMVTGeom (which clips and repairs each polygon, the larger part of a tile's cost)
	// each plot is moved into tile units with one affine transform and snapped to the unit
	// grid. Rings are oriented as MVT 2.1 wants: an exterior ring has a positive surveyor's
	// area in tile units, where y runs down, so it must run clockwise on the map (y up) before
	// the flip, and holes counter-clockwise; plots that collapse below a unit are left out;
	// nothing is clipped (clients clip; a plot sticks out of its tile by at most its size).
	// $1-$4: the tile's envelope widened by the 64-unit buffer; $5, $6: minus its west and
	// north edges; $7: units per metre; $8: simplification tolerance in metres (0: none).
	plotsSQL = `
SELECT ST_AsMVT(q, 'plots', 4096, 'geom', 'id') FROM (
  SELECT p.id, p.crop, (round(p.area_ha * 100) / 100)::real AS area_ha,
         (SELECT s.risk FROM plot_screening s WHERE s.plot_id = p.id AND s.plot_version = p.version) AS risk,
         ST_SnapToGrid(ST_TransScale(ST_ForcePolygonCW(CASE WHEN $8::float8 > 0 THEN ST_Simplify(p.geom_3857, $8::float8, true) ELSE p.geom_3857 END),
                                     $5, $6, $7::float8, -$7::float8), 1) AS geom
  FROM plot p
  WHERE p.geom_3857 && ST_MakeEnvelope($1, $2, $3, $4, 3857) AND p.deleted_at IS NULL
  OFFSET 0
) q WHERE NOT ST_IsEmpty(q.geom)`

	// Cells of level z+5: 32 x 32 a tile, and one row around for the buffer.
	densitySQL = `
SELECT ST_AsMVT(q, 'plot_density', 4096, 'geom') FROM (
  SELECT c.plots, (round(c.area_ha * 10) / 10)::real AS area_ha,
         ST_AsMVTGeom(ST_MakePoint(c.sum_x / c.plots, c.sum_y / c.plots), ST_TileEnvelope($1, $2, $3), 4096, 64, true) AS geom
  FROM plot_cell c
  WHERE c.level = $1 + 5 AND c.x BETWEEN $2 * 32 - 1 AND $2 * 32 + 32 AND c.y BETWEEN $3 * 32 - 1 AND $3 * 32 + 32
  OFFSET 0
) q WHERE q.geom IS NOT NULL`

	growingAreasSQL = `
SELECT ST_AsMVT(q, 'growing_areas', 4096, 'geom', 'id') FROM (
  SELECT g.id, g.name, array_to_string(g.crops, ',') AS crops, g.plot_count AS plots, (round(g.area_ha * 10) / 10)::real AS area_ha,
         COALESCE(c.status, 'none') AS status, c.active, c.suspended, c.pending, c.expired,
         ST_AsMVTGeom(ST_Simplify(g.footprint_3857, $4, true), ST_TileEnvelope($1, $2, $3), 4096, 64, true) AS geom
  FROM growing_area g
  LEFT JOIN LATERAL (
    SELECT CASE WHEN bool_or(s.st = 'active') THEN 'active' WHEN bool_or(s.st = 'suspended') THEN 'suspended'
                WHEN bool_or(s.st = 'expired') THEN 'expired' ELSE 'pending' END AS status,
           string_agg(m.market, ',' ORDER BY m.market) FILTER (WHERE s.st = 'active') AS active,
           string_agg(m.market, ',' ORDER BY m.market) FILTER (WHERE s.st = 'suspended') AS suspended,
           string_agg(m.market, ',' ORDER BY m.market) FILTER (WHERE s.st IN ('draft', 'submitted', 'inspected')) AS pending,
           string_agg(m.market, ',' ORDER BY m.market) FILTER (WHERE s.st = 'expired') AS expired
    FROM market_code m CROSS JOIN LATERAL (SELECT code_status(m.status, m.valid_to) AS st) s
    WHERE m.growing_area_id = g.id AND m.status <> 'revoked'
    HAVING count(*) > 0
  ) c ON true
  WHERE g.footprint_3857 && ST_TileEnvelope($1, $2, $3, margin => 64.0 / 4096) AND g.deleted_at IS NULL
  OFFSET 0
) q WHERE q.geom IS NOT NULL`

	communesSQL = `
SELECT ST_AsMVT(q, 'communes', 4096, 'geom') FROM (
  SELECT c.code, c.name, c.province_code,
         ST_AsMVTGeom(ST_Transform(ST_Simplify(c.boundary, $4, true), 3857), ST_TileEnvelope($1, $2, $3), 4096, 16, true) AS geom
  FROM commune c
  WHERE c.scheme = 2025 AND c.boundary && ST_Transform(ST_TileEnvelope($1, $2, $3, margin => 16.0 / 4096), 4326)
  OFFSET 0
) q WHERE q.geom IS NOT NULL`

	provincesSQL = `
SELECT ST_AsMVT(q, 'provinces', 4096, 'geom') FROM (
  SELECT v.code, v.name,
         ST_AsMVTGeom(ST_Transform(ST_Simplify(v.boundary, $4, true), 3857), ST_TileEnvelope($1, $2, $3), 4096, 16, true) AS geom
  FROM province v
  WHERE v.scheme = 2025 AND v.boundary && ST_Transform(ST_TileEnvelope($1, $2, $3, margin => 16.0 / 4096), 4326)
  OFFSET 0
) q WHERE q.geom IS NOT NULL`

	packingHousesSQL = `
SELECT ST_AsMVT(q, 'packing_houses', 4096, 'geom', 'id') FROM (
  SELECT h.id, h.name, COALESCE(c.status, 'none') AS status, c.active,
         ST_AsMVTGeom(ST_Transform(h.location, 3857), ST_TileEnvelope($1, $2, $3), 4096, 64, true) AS geom
  FROM packing_house h
  LEFT JOIN LATERAL (
    SELECT CASE WHEN bool_or(s.st = 'active') THEN 'active' WHEN bool_or(s.st = 'suspended') THEN 'suspended'
                WHEN bool_or(s.st = 'expired') THEN 'expired' ELSE 'pending' END AS status,
           string_agg(m.market, ',' ORDER BY m.market) FILTER (WHERE s.st = 'active') AS active
    FROM market_code m CROSS JOIN LATERAL (SELECT code_status(m.status, m.valid_to) AS st) s
    WHERE m.packing_house_id = h.id AND m.status <> 'revoked'
    HAVING count(*) > 0
  ) c ON true
  WHERE h.location && ST_Transform(ST_TileEnvelope($1, $2, $3, margin => 64.0 / 4096), 4326) AND h.deleted_at IS NULL
  OFFSET 0
) q WHERE q.geom IS NOT NULL`

	// Livestock tiles say how big a farm is and what it keeps, never whose it is: a
	// household's farm is a person's.
	livestockSQL = `
SELECT ST_AsMVT(q, 'livestock', 4096, 'geom', 'id') FROM (
  SELECT f.id, f.scale_class AS scale, round(f.animal_units)::integer AS animal_units,
         (SELECT h.species FROM livestock_head_count h WHERE h.facility_id = f.id ORDER BY h.animal_units DESC LIMIT 1) AS species,
         ST_AsMVTGeom(ST_Transform(f.location, 3857), ST_TileEnvelope($1, $2, $3), 4096, 64, true) AS geom
  FROM livestock_facility f
  WHERE f.location && ST_Transform(ST_TileEnvelope($1, $2, $3, margin => 64.0 / 4096), 4326) AND f.deleted_at IS NULL
  OFFSET 0
) q WHERE q.geom IS NOT NULL`

	feedMillsSQL = `
SELECT ST_AsMVT(q, 'feed_mills', 4096, 'geom', 'id') FROM (
  SELECT m.id, m.name, round(m.design_capacity_tpy)::integer AS capacity_tpy,
         ST_AsMVTGeom(ST_Transform(m.location, 3857), ST_TileEnvelope($1, $2, $3), 4096, 64, true) AS geom
  FROM feed_facility m
  WHERE m.location && ST_Transform(ST_TileEnvelope($1, $2, $3, margin => 64.0 / 4096), 4326) AND m.deleted_at IS NULL
  OFFSET 0
) q WHERE q.geom IS NOT NULL`
)
