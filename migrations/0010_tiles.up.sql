-- What the vector tiles read. Tiles are in Web Mercator (EPSG:3857): plots keep a projected
-- copy of their geometry, so a tile query filters on an index in the tile's own coordinates and
-- never reprojects a row.
ALTER TABLE plot ADD COLUMN geom_3857 geometry(MultiPolygon, 3857) GENERATED ALWAYS AS (ST_Transform(geom, 3857)) STORED;
-- The tile query's bounding-box filter.
CREATE INDEX plot_geom_3857_gix ON plot USING gist (geom_3857) WHERE deleted_at IS NULL;

-- Web Mercator tile column and row of a projected coordinate at a zoom.
CREATE FUNCTION mercator_tile_x(x double precision, zoom integer) RETURNS integer
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN floor((x + 20037508.342789244) / (40075016.685578488 / (1 << zoom)))::integer;
CREATE FUNCTION mercator_tile_y(y double precision, zoom integer) RETURNS integer
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN floor((20037508.342789244 - y) / (40075016.685578488 / (1 << zoom)))::integer;

-- Plot density at low zooms, where single plots are smaller than a pixel: live plots counted
-- per cell of the Web Mercator grid. A cell of level L is the tile (L, x, y); the map shows
-- level z+5 at zoom z (32 x 32 cells a tile), levels 11 to 16 for zooms 6 to 11. The sums of
-- the plots' centres give each cell's centre of mass. Kept exact by statement triggers on plot,
-- which work set-wise: a COPY of a million plots updates the cells in one pass.
CREATE TABLE plot_cell (
    level   smallint NOT NULL,
    x       integer NOT NULL,
    y       integer NOT NULL,
    plots   integer NOT NULL,
    area_ha double precision NOT NULL,
    sum_x   double precision NOT NULL,
    sum_y   double precision NOT NULL,
    PRIMARY KEY (level, x, y)
);

-- Adds the live plots of new_rows to the cells and takes those of old_rows away.
CREATE FUNCTION plot_cell_apply() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO plot_cell AS c (level, x, y, plots, area_ha, sum_x, sum_y)
        SELECT l, mercator_tile_x(cx, l), mercator_tile_y(cy, l), count(*), sum(area_ha), sum(cx), sum(cy)
        FROM (SELECT (ST_XMin(geom_3857) + ST_XMax(geom_3857)) / 2 AS cx, (ST_YMin(geom_3857) + ST_YMax(geom_3857)) / 2 AS cy, area_ha
              FROM new_rows WHERE deleted_at IS NULL) r, generate_series(11, 16) l
        GROUP BY 1, 2, 3
        ON CONFLICT (level, x, y) DO UPDATE SET plots = c.plots + EXCLUDED.plots, area_ha = c.area_ha + EXCLUDED.area_ha,
            sum_x = c.sum_x + EXCLUDED.sum_x, sum_y = c.sum_y + EXCLUDED.sum_y;
    ELSE
        INSERT INTO plot_cell AS c (level, x, y, plots, area_ha, sum_x, sum_y)
        SELECT l, mercator_tile_x(cx, l), mercator_tile_y(cy, l), sum(sign), sum(sign * area_ha), sum(sign * cx), sum(sign * cy)
        FROM (SELECT -1 AS sign, (ST_XMin(geom_3857) + ST_XMax(geom_3857)) / 2 AS cx, (ST_YMin(geom_3857) + ST_YMax(geom_3857)) / 2 AS cy, area_ha
              FROM old_rows WHERE deleted_at IS NULL
              UNION ALL
              SELECT 1, (ST_XMin(geom_3857) + ST_XMax(geom_3857)) / 2, (ST_YMin(geom_3857) + ST_YMax(geom_3857)) / 2, area_ha
              FROM new_rows WHERE deleted_at IS NULL) r, generate_series(11, 16) l
        GROUP BY 1, 2, 3
        HAVING sum(sign) <> 0 OR sum(sign * area_ha) <> 0 OR sum(sign * cx) <> 0 OR sum(sign * cy) <> 0
        ON CONFLICT (level, x, y) DO UPDATE SET plots = c.plots + EXCLUDED.plots, area_ha = c.area_ha + EXCLUDED.area_ha,
            sum_x = c.sum_x + EXCLUDED.sum_x, sum_y = c.sum_y + EXCLUDED.sum_y;
        DELETE FROM plot_cell WHERE plots <= 0;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER plot_cell_insert AFTER INSERT ON plot REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION plot_cell_apply();
CREATE TRIGGER plot_cell_update AFTER UPDATE ON plot REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION plot_cell_apply();

-- Rebuilds every cell from the plots (after a repair by hand; the triggers keep it exact).
CREATE FUNCTION plot_cell_rebuild() RETURNS void LANGUAGE sql AS $$
    TRUNCATE plot_cell;
    INSERT INTO plot_cell (level, x, y, plots, area_ha, sum_x, sum_y)
    SELECT l, mercator_tile_x(cx, l), mercator_tile_y(cy, l), count(*), sum(area_ha), sum(cx), sum(cy)
    FROM (SELECT (ST_XMin(geom_3857) + ST_XMax(geom_3857)) / 2 AS cx, (ST_YMin(geom_3857) + ST_YMax(geom_3857)) / 2 AS cy, area_ha
          FROM plot WHERE deleted_at IS NULL) r, generate_series(11, 16) l
    GROUP BY 1, 2, 3;
$$;

-- A growing area on the map: the union of its member plots (or its drawn outline when it has
-- no members), with its area and plot count, kept by triggers on membership and plot changes.
ALTER TABLE growing_area ADD COLUMN footprint_3857 geometry(MultiPolygon, 3857);
ALTER TABLE growing_area ADD COLUMN area_ha double precision NOT NULL DEFAULT 0;
ALTER TABLE growing_area ADD COLUMN plot_count integer NOT NULL DEFAULT 0;
ALTER TABLE growing_area ADD COLUMN household_count integer NOT NULL DEFAULT 0;
-- Growing areas in a tile.
CREATE INDEX growing_area_footprint_gix ON growing_area USING gist (footprint_3857) WHERE deleted_at IS NULL;

-- (The parameter's name must not be a column name of the query: columns would win.)
CREATE FUNCTION growing_area_refresh(refresh_id bigint) RETURNS void LANGUAGE sql AS $$
    UPDATE growing_area g SET
        footprint_3857 = COALESCE(s.shape, ST_Multi(ST_Transform(g.outline, 3857))),
        area_ha = COALESCE(s.total_ha, 0), plot_count = COALESCE(s.n, 0), household_count = COALESCE(s.households, 0)
    FROM (SELECT ST_Multi(ST_CollectionExtract(ST_Union(p.geom_3857), 3)) AS shape, sum(p.area_ha) AS total_ha, count(*) AS n,
                 count(DISTINCT p.producer_id) AS households
          FROM growing_area_plot m JOIN plot p ON p.id = m.plot_id AND p.deleted_at IS NULL
          WHERE m.growing_area_id = refresh_id AND m.removed_at IS NULL) s
    WHERE g.id = refresh_id;
$$;

CREATE FUNCTION growing_area_plot_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN PERFORM growing_area_refresh(OLD.growing_area_id); END IF;
    IF TG_OP <> 'DELETE' THEN PERFORM growing_area_refresh(NEW.growing_area_id); END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER growing_area_plot_changed AFTER INSERT OR UPDATE OR DELETE ON growing_area_plot
    FOR EACH ROW EXECUTE FUNCTION growing_area_plot_changed();

CREATE FUNCTION plot_growing_area_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM growing_area_refresh(m.growing_area_id) FROM growing_area_plot m WHERE m.plot_id = NEW.id AND m.removed_at IS NULL;
    RETURN NULL;
END $$;
CREATE TRIGGER plot_growing_area_changed AFTER UPDATE ON plot
    FOR EACH ROW WHEN (OLD.geom IS DISTINCT FROM NEW.geom OR OLD.deleted_at IS DISTINCT FROM NEW.deleted_at OR OLD.producer_id IS DISTINCT FROM NEW.producer_id)
    EXECUTE FUNCTION plot_growing_area_changed();

-- Shapes already there.
SELECT growing_area_refresh(id) FROM growing_area;
SELECT plot_cell_rebuild();

-- Search by name without diacritics or punctuation ("cu mgar" finds "Xã Cư M'gar"): the same
-- key as vntext.SearchKey.
CREATE EXTENSION IF NOT EXISTS unaccent;
CREATE FUNCTION fold(t text) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN trim(regexp_replace(regexp_replace(lower(public.unaccent('public.unaccent', replace(replace(t, 'đ', 'd'), 'Đ', 'D'))),
                                              '[^[:alnum:][:space:]]', '', 'g'), '\s+', ' ', 'g'));
-- Commune search.
CREATE INDEX commune_name_fold_idx ON commune (fold(name) text_pattern_ops);
