-- Administrative units (đơn vị hành chính). Two schemes coexist: Decision 124/2004 (63
-- provinces, districts, 10,035 communes; until 30 Jun 2025) and Decision 19/2025 (34 provinces,
-- 3,321 communes, no districts; from 1 Jul 2025). Codes are never reused, so a code plus its
-- scheme names one unit forever. Boundaries are optional: the official lists give codes and
-- names; shapes come from whoever has them.
CREATE TABLE province (
    scheme   smallint NOT NULL CHECK (scheme IN (2004, 2025)),
    code     text NOT NULL CHECK (code ~ '^[0-9]{2}$'),
    name     text NOT NULL,
    boundary geometry(MultiPolygon, 4326),
    PRIMARY KEY (scheme, code)
);
-- Finds the province that contains a geometry (jurisdiction of a new plot).
CREATE INDEX province_boundary_gix ON province USING gist (boundary);

CREATE TABLE commune (
    scheme        smallint NOT NULL CHECK (scheme IN (2004, 2025)),
    code          text NOT NULL CHECK (code ~ '^[0-9]{5}$'),
    province_code text NOT NULL,
    -- Districts existed only in the 2004 scheme.
    district_code text CHECK (district_code ~ '^[0-9]{3}$'),
    name          text NOT NULL,
    boundary      geometry(MultiPolygon, 4326),
    PRIMARY KEY (scheme, code),
    FOREIGN KEY (scheme, province_code) REFERENCES province (scheme, code),
    CHECK (scheme = 2004 OR district_code IS NULL)
);
-- Lists the communes of a province (pickers, statistics).
CREATE INDEX commune_province_idx ON commune (scheme, province_code);
-- Finds the commune that contains a geometry.
CREATE INDEX commune_boundary_gix ON commune USING gist (boundary);
-- Search by commune name on the map (case-insensitive prefix).
CREATE INDEX commune_name_idx ON commune (lower(name) text_pattern_ops);

-- Old (2004) unit -> new (2025) unit. A 'partial' merge means only part of the old unit went
-- into the new one, so an old code can map to several new codes.
CREATE TABLE admin_unit_merge (
    level    text NOT NULL CHECK (level IN ('province', 'commune')),
    old_code text NOT NULL,
    old_name text NOT NULL,
    new_code text NOT NULL,
    kind     text NOT NULL CHECK (kind IN ('full', 'partial')),
    PRIMARY KEY (level, old_code, new_code)
);
-- Answers "what did this new unit come from?".
CREATE INDEX admin_unit_merge_new_idx ON admin_unit_merge (level, new_code);
