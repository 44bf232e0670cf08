-- EUDR geolocation exports (compliance/eudr, registry/postgres/eudr.go): a job per export, its
-- zip kept as an upload (in chunks, so that every server and every backup has it) for a day,
-- and the cut that removes a polygon's holes.

-- Uploads may now also be an export's zip. The list is extended, not rewritten: other
-- migrations add their own purposes, and this one keeps whatever the constraint allows.
DO $$
DECLARE
    allowed text[];
BEGIN
    SELECT array_agg(DISTINCT m[1] ORDER BY m[1]) INTO allowed
    FROM pg_constraint c, regexp_matches(pg_get_constraintdef(c.oid), '''([^'']+)''', 'g') m
    WHERE c.conrelid = 'upload'::regclass AND c.conname = 'upload_purpose_check';
    IF NOT 'export' = ANY (coalesce(allowed, '{}')) THEN
        allowed := coalesce(allowed, '{}') || 'export'::text;
    END IF;
    ALTER TABLE upload DROP CONSTRAINT IF EXISTS upload_purpose_check;
    EXECUTE format('ALTER TABLE upload ADD CONSTRAINT upload_purpose_check CHECK (purpose = ANY (%L::text[]))', allowed);
END $$;

-- One EUDR export: what was asked (the selection and options), by whom, how far it has come,
-- and, once done, its summary and zip (an upload); kept a day after it ends.
CREATE TABLE eudr_export (
    id            text PRIMARY KEY CHECK (id ~ '^[0-9a-f]{18}$'),
    owner         text NOT NULL,   -- the actor, as the audit log names it
    owner_user_id bigint REFERENCES app_user (id) ON DELETE SET NULL,
    owner_kind    text NOT NULL CHECK (owner_kind IN ('user', 'token', 'system')),
    request_id    text,
    request       jsonb NOT NULL,
    state         text NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'running', 'done', 'failed')),
    progress      jsonb NOT NULL DEFAULT '{}',
    summary       jsonb,
    error         jsonb,
    upload_id     bigint REFERENCES upload (id) ON DELETE SET NULL,
    river_job_id  bigint,
    -- host:pid of the server running it (a server restarting on that host fails the exports its
    -- stopped process was running).
    running_on    text,
    started_at    timestamptz NOT NULL DEFAULT now(),
    ended_at      timestamptz
);
-- Cleaning finds ended exports by age, and unfinished ones.
CREATE INDEX eudr_export_ended_idx ON eudr_export (ended_at);
CREATE INDEX eudr_export_unfinished_idx ON eudr_export (state) WHERE state IN ('queued', 'running');

-- eudr_split_holes cuts every hole out of a polygonal geometry: each holed polygon is split by a
-- north-south line through a point inside one of its holes, again and again, until no part has
-- a hole. The parts cover exactly the polygon (the EU system ignores holes, and would count a
-- hole as production land); they share the cut sides. The cut runs at a longitude of six
-- decimals when one passes through the hole, so that the new positions need no rounding across
-- the cut.
CREATE FUNCTION eudr_split_holes(g geometry) RETURNS geometry
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
    done  geometry[] := '{}';
    todo  geometry[];
    p     geometry;
    hole  geometry;
    inside geometry;
    x     double precision;
    cuts  int := 0;
BEGIN
    todo := ARRAY(SELECT d.geom FROM ST_Dump(g) d WHERE ST_Dimension(d.geom) = 2);
    WHILE cardinality(todo) > 0 LOOP
        p := todo[1];
        todo := todo[2:];
        IF ST_NumInteriorRings(p) = 0 THEN
            done := done || p;
            CONTINUE;
        END IF;
        cuts := cuts + 1;
        IF cuts > 10000 THEN
            RAISE EXCEPTION 'eudr_split_holes: more than 10000 cuts' USING ERRCODE = 'data_exception';
        END IF;
        hole := ST_MakePolygon(ST_InteriorRingN(p, 1));
        inside := ST_PointOnSurface(hole);
        x := round(ST_X(inside)::numeric, 6)::double precision;
        IF NOT ST_Contains(hole, ST_SetSRID(ST_MakePoint(x, ST_Y(inside)), ST_SRID(p))) THEN
            x := ST_X(inside);
        END IF;
        todo := todo || ARRAY(
            SELECT d.geom FROM ST_Dump(ST_Split(p, ST_SetSRID(ST_MakeLine(
                ST_MakePoint(x, ST_YMin(p) - 1), ST_MakePoint(x, ST_YMax(p) + 1)), ST_SRID(p)))) d
            WHERE ST_Dimension(d.geom) = 2 AND NOT ST_IsEmpty(d.geom));
    END LOOP;
    RETURN ST_SetSRID(ST_Collect(done), ST_SRID(g));
END $$;
