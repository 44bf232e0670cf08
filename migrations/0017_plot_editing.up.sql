-- Editing plots on the map (issue 13): plots split and merged keep their lineage, and drawn
-- boundaries are snapped onto their neighbours' so that neighbours share edges exactly.

-- A plot made by a split or a merge names the plots it came from; a plot retired by one says
-- how, and which plots replace it. A retired plot is deleted (deleted_at), and stays readable
-- in its history.
ALTER TABLE plot ADD COLUMN parent_ids bigint[];
ALTER TABLE plot ADD COLUMN retired text;
ALTER TABLE plot ADD COLUMN retired_into bigint[];
ALTER TABLE plot ADD CONSTRAINT plot_retired_check CHECK (retired IN ('split', 'merge'));
ALTER TABLE plot ADD CONSTRAINT plot_retired_into_check
    CHECK ((retired IS NULL AND retired_into IS NULL) OR (retired IS NOT NULL AND deleted_at IS NOT NULL AND cardinality(retired_into) > 0));
ALTER TABLE plot ADD CONSTRAINT plot_parent_ids_check CHECK (cardinality(parent_ids) > 0);

ALTER TABLE plot_history ADD COLUMN parent_ids bigint[];
ALTER TABLE plot_history ADD COLUMN retired text;
ALTER TABLE plot_history ADD COLUMN retired_into bigint[];

-- The history trigger of 0004, with the lineage columns.
CREATE OR REPLACE FUNCTION plot_keep_history() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO plot_history (plot_id, version, producer_id, admin_scheme, province_code, commune_code,
        crop, variety, planting_year, cadastral_sheet, cadastral_parcel, land_cert_no, source,
        external_id, geom, area_ha, deleted_at, valid_from, valid_to, written_by, replaced_by,
        parent_ids, retired, retired_into)
    VALUES (OLD.id, OLD.version, OLD.producer_id, OLD.admin_scheme, OLD.province_code, OLD.commune_code,
        OLD.crop, OLD.variety, OLD.planting_year, OLD.cadastral_sheet, OLD.cadastral_parcel,
        OLD.land_cert_no, OLD.source, OLD.external_id, OLD.geom, OLD.area_ha, OLD.deleted_at,
        OLD.updated_at, now(), OLD.updated_by,
        NEW.updated_by, OLD.parent_ids, OLD.retired, OLD.retired_into);
    IF NEW.version <= OLD.version THEN
        RAISE EXCEPTION 'plot %: version must grow on every change (% -> %)', OLD.id, OLD.version, NEW.version
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END $$;

-- plot_snap moves the vertices of a drawn plot g that lie within tolerance (degrees) of a live
-- neighbour (other than the plots in skip) onto it: first onto the neighbours' vertices (and
-- the neighbours' vertices near g's sides into those sides, ST_Snap), then the vertices still
-- near a neighbour's side onto that side (ST_Snap leaves a vertex near the middle of a side
-- where it is). Neighbours drawn with the editor's snapping then share their edges exactly
-- instead of overlapping or leaving gaps of a few millimetres. A snap that would make the plot
-- invalid (or that cannot mend an invalid one) is not made: g comes back as it was (as a
-- MultiPolygon).
CREATE FUNCTION plot_snap(g geometry, tolerance double precision, skip bigint[] DEFAULT '{}')
RETURNS geometry LANGUAGE plpgsql STABLE AS $$
DECLARE
    edges geometry;
    out   geometry;
    polys geometry[] := '{}';
    rings geometry[];
    part  geometry;
    ring  geometry;
    pt    geometry;
    n     int;
BEGIN
    IF g IS NULL OR tolerance IS NULL OR tolerance <= 0 OR ST_IsEmpty(g) THEN
        RETURN ST_Multi(g);
    END IF;
    SELECT ST_Collect(e.geom) INTO edges
    FROM plot p, LATERAL ST_Dump(ST_Boundary(p.geom)) e
    WHERE p.deleted_at IS NULL AND p.geom && ST_Expand(g, tolerance) AND p.id <> ALL (coalesce(skip, '{}'))
      AND ST_DWithin(p.geom, g, tolerance);
    IF edges IS NULL THEN
        RETURN ST_Multi(g);
    END IF;
    out := ST_Snap(g, edges, tolerance);
    IF EXISTS (SELECT 1 FROM ST_DumpPoints(out) d WHERE ST_DWithin(d.geom, edges, tolerance) AND NOT ST_Intersects(d.geom, edges)) THEN
        FOR i IN 1 .. ST_NumGeometries(out) LOOP
            part := ST_GeometryN(out, i);
            rings := '{}';
            FOR j IN 0 .. ST_NumInteriorRings(part) LOOP
                ring := CASE WHEN j = 0 THEN ST_ExteriorRing(part) ELSE ST_InteriorRingN(part, j) END;
                n := ST_NPoints(ring);
                FOR k IN 0 .. n - 2 LOOP
                    pt := ST_PointN(ring, k + 1);
                    IF ST_DWithin(pt, edges, tolerance) AND NOT ST_Intersects(pt, edges) THEN
                        pt := ST_ClosestPoint(edges, pt);
                        ring := ST_SetPoint(ring, k, pt);
                        IF k = 0 THEN
                            ring := ST_SetPoint(ring, n - 1, pt);
                        END IF;
                    END IF;
                END LOOP;
                rings := rings || ring;
            END LOOP;
            polys := polys || ST_MakePolygon(rings[1], rings[2:]);
        END LOOP;
        out := ST_Collect(polys);
    END IF;
    out := ST_Multi(out);
    IF ST_IsEmpty(out) OR NOT ST_IsValid(out) THEN
        RETURN ST_Multi(g);
    END IF;
    RETURN out;
END $$;

-- Finding producers by name in the forms (GET /api/v1/producers?q=): the folded name, searched
-- anywhere in it ("van mot" finds "Nguyễn Văn Một"), by trigrams.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX producer_name_trgm_idx ON producer USING gin (fold(name) gin_trgm_ops) WHERE deleted_at IS NULL;
