-- Plot density cells, rolled up: the cells of level 16 are summed from the plots, and every
-- coarser level (15 to 11) from those sums, since cell (L-1, x >> 1, y >> 1) holds cell
-- (L, x, y). The old functions crossed every plot with six levels and grouped six times as many
-- rows; a bulk import of a million plots spent half its insert time there.
CREATE OR REPLACE FUNCTION plot_cell_apply() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO plot_cell AS c (level, x, y, plots, area_ha, sum_x, sum_y)
        SELECT l, x >> (16 - l), y >> (16 - l), sum(n), sum(a), sum(sx), sum(sy)
        FROM (SELECT mercator_tile_x(cx, 16) AS x, mercator_tile_y(cy, 16) AS y, count(*) AS n, sum(area_ha) AS a, sum(cx) AS sx, sum(cy) AS sy
              FROM (SELECT (ST_XMin(geom_3857) + ST_XMax(geom_3857)) / 2 AS cx, (ST_YMin(geom_3857) + ST_YMax(geom_3857)) / 2 AS cy, area_ha
                    FROM new_rows WHERE deleted_at IS NULL) r
              GROUP BY 1, 2) c16, generate_series(11, 16) l
        GROUP BY 1, 2, 3
        ON CONFLICT (level, x, y) DO UPDATE SET plots = c.plots + EXCLUDED.plots, area_ha = c.area_ha + EXCLUDED.area_ha,
            sum_x = c.sum_x + EXCLUDED.sum_x, sum_y = c.sum_y + EXCLUDED.sum_y;
    ELSE
        INSERT INTO plot_cell AS c (level, x, y, plots, area_ha, sum_x, sum_y)
        SELECT l, x >> (16 - l), y >> (16 - l), sum(n), sum(a), sum(sx), sum(sy)
        FROM (SELECT mercator_tile_x(cx, 16) AS x, mercator_tile_y(cy, 16) AS y, sum(sign) AS n, sum(sign * area_ha) AS a,
                     sum(sign * cx) AS sx, sum(sign * cy) AS sy
              FROM (SELECT -1 AS sign, (ST_XMin(geom_3857) + ST_XMax(geom_3857)) / 2 AS cx, (ST_YMin(geom_3857) + ST_YMax(geom_3857)) / 2 AS cy, area_ha
                    FROM old_rows WHERE deleted_at IS NULL
                    UNION ALL
                    SELECT 1, (ST_XMin(geom_3857) + ST_XMax(geom_3857)) / 2, (ST_YMin(geom_3857) + ST_YMax(geom_3857)) / 2, area_ha
                    FROM new_rows WHERE deleted_at IS NULL) r
              GROUP BY 1, 2) c16, generate_series(11, 16) l
        GROUP BY 1, 2, 3
        HAVING sum(n) <> 0 OR sum(a) <> 0 OR sum(sx) <> 0 OR sum(sy) <> 0
        ON CONFLICT (level, x, y) DO UPDATE SET plots = c.plots + EXCLUDED.plots, area_ha = c.area_ha + EXCLUDED.area_ha,
            sum_x = c.sum_x + EXCLUDED.sum_x, sum_y = c.sum_y + EXCLUDED.sum_y;
        DELETE FROM plot_cell WHERE plots <= 0;
    END IF;
    RETURN NULL;
END $$;

-- The same cells from scratch (after a repair by hand), by the same rule.
CREATE OR REPLACE FUNCTION plot_cell_rebuild() RETURNS void LANGUAGE sql AS $$
    TRUNCATE plot_cell;
    INSERT INTO plot_cell (level, x, y, plots, area_ha, sum_x, sum_y)
    SELECT l, x >> (16 - l), y >> (16 - l), sum(n), sum(a), sum(sx), sum(sy)
    FROM (SELECT mercator_tile_x(cx, 16) AS x, mercator_tile_y(cy, 16) AS y, count(*) AS n, sum(area_ha) AS a, sum(cx) AS sx, sum(cy) AS sy
          FROM (SELECT (ST_XMin(geom_3857) + ST_XMax(geom_3857)) / 2 AS cx, (ST_YMin(geom_3857) + ST_YMax(geom_3857)) / 2 AS cy, area_ha
                FROM plot WHERE deleted_at IS NULL) r
          GROUP BY 1, 2) c16, generate_series(11, 16) l
    GROUP BY 1, 2, 3;
$$;

-- Cells of the coarser levels were made by the old rule: make them by the new one (they can
-- differ only for a plot whose centre lies on a cell's edge to the last bit).
SELECT plot_cell_rebuild();
