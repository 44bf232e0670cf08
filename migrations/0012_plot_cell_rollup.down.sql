-- Back to the cells of 0010: every level summed from the plots.
-- Adds the live plots of new_rows to the cells and takes those of old_rows away.
CREATE OR REPLACE FUNCTION plot_cell_apply() RETURNS trigger LANGUAGE plpgsql AS $$
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
-- Rebuilds every cell from the plots (after a repair by hand; the triggers keep it exact).
CREATE OR REPLACE FUNCTION plot_cell_rebuild() RETURNS void LANGUAGE sql AS $$
    TRUNCATE plot_cell;
    INSERT INTO plot_cell (level, x, y, plots, area_ha, sum_x, sum_y)
    SELECT l, mercator_tile_x(cx, l), mercator_tile_y(cy, l), count(*), sum(area_ha), sum(cx), sum(cy)
    FROM (SELECT (ST_XMin(geom_3857) + ST_XMax(geom_3857)) / 2 AS cx, (ST_YMin(geom_3857) + ST_YMax(geom_3857)) / 2 AS cy, area_ha
          FROM plot WHERE deleted_at IS NULL) r, generate_series(11, 16) l
    GROUP BY 1, 2, 3;
$$;

SELECT plot_cell_rebuild();
