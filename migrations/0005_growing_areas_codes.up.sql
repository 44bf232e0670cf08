-- Growing areas (vùng trồng): many plots of many households under one control procedure.
CREATE TABLE growing_area (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name           text NOT NULL CHECK (name <> ''),
    -- The cooperative or enterprise that registers the area and answers for it.
    registrant_id  bigint REFERENCES producer (id),
    crops          text[] NOT NULL CHECK (cardinality(crops) > 0),
    admin_scheme   smallint NOT NULL DEFAULT 2025,
    province_code  text NOT NULL,
    commune_code   text,
    -- A drawn outline when one exists; the member plots are the truth for area and location.
    outline        geometry(MultiPolygon, 4326),
    source         text NOT NULL DEFAULT '',
    external_id    text,
    version        integer NOT NULL DEFAULT 1 CHECK (version > 0),
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    created_by     text NOT NULL,
    updated_by     text NOT NULL,
    deleted_at     timestamptz,
    FOREIGN KEY (admin_scheme, province_code) REFERENCES province (scheme, code),
    FOREIGN KEY (admin_scheme, commune_code) REFERENCES commune (scheme, code)
);
-- Jurisdiction filters.
CREATE INDEX growing_area_province_idx ON growing_area (province_code, commune_code) WHERE deleted_at IS NULL;
-- Growing areas on the map.
CREATE INDEX growing_area_outline_gix ON growing_area USING gist (outline) WHERE deleted_at IS NULL;
-- Re-importing a source matches areas by their id in that source.
CREATE UNIQUE INDEX growing_area_source_external_key ON growing_area (source, external_id) WHERE external_id IS NOT NULL;

-- Membership of plots in growing areas, with its history (removed_at). A plot belongs to at most
-- one growing area at a time: counting it twice is how code borrowing hides.
CREATE TABLE growing_area_plot (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    growing_area_id bigint NOT NULL REFERENCES growing_area (id),
    plot_id         bigint NOT NULL REFERENCES plot (id),
    province_code   text NOT NULL,
    added_at        timestamptz NOT NULL DEFAULT now(),
    removed_at      timestamptz
);
-- One current membership per plot.
CREATE UNIQUE INDEX growing_area_plot_current_key ON growing_area_plot (plot_id) WHERE removed_at IS NULL;
-- The plots of an area.
CREATE INDEX growing_area_plot_area_idx ON growing_area_plot (growing_area_id) WHERE removed_at IS NULL;

-- Packing houses (cơ sở đóng gói, PHC).
CREATE TABLE packing_house (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name          text NOT NULL CHECK (name <> ''),
    operator_id   bigint REFERENCES producer (id),
    address       text,
    admin_scheme  smallint NOT NULL DEFAULT 2025,
    province_code text NOT NULL,
    commune_code  text,
    location      geometry(Point, 4326) NOT NULL,
    footprint     geometry(MultiPolygon, 4326),
    capacity_tpd  numeric(10, 2) CHECK (capacity_tpd >= 0), -- tonnes a day
    source        text NOT NULL DEFAULT '',
    external_id   text,
    version       integer NOT NULL DEFAULT 1 CHECK (version > 0),
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    created_by    text NOT NULL,
    updated_by    text NOT NULL,
    deleted_at    timestamptz,
    FOREIGN KEY (admin_scheme, province_code) REFERENCES province (scheme, code),
    FOREIGN KEY (admin_scheme, commune_code) REFERENCES commune (scheme, code)
);
-- Packing houses on the map.
CREATE INDEX packing_house_location_gix ON packing_house USING gist (location) WHERE deleted_at IS NULL;
-- Jurisdiction filters.
CREATE INDEX packing_house_province_idx ON packing_house (province_code) WHERE deleted_at IS NULL;
-- Re-importing a source matches packing houses by their id in that source.
CREATE UNIQUE INDEX packing_house_source_external_key ON packing_house (source, external_id) WHERE external_id IS NOT NULL;

-- Which growing areas' produce a packing house may pack.
CREATE TABLE packing_house_growing_area (
    packing_house_id bigint NOT NULL REFERENCES packing_house (id),
    growing_area_id  bigint NOT NULL REFERENCES growing_area (id),
    province_code    text NOT NULL,
    PRIMARY KEY (packing_house_id, growing_area_id)
);
-- The packing houses of a growing area (traceability lookups).
CREATE INDEX packing_house_growing_area_area_idx ON packing_house_growing_area (growing_area_id);

-- Market codes: growing-area codes (mã số vùng trồng, PUC) and packing-house codes (PHC), one per
-- importing market, each with its own status, validity and approving document. The code is
-- stored exactly as issued; its parts sit in their own columns and are never re-derived from
-- today's administrative units (codes issued before 2025 keep their old province letters).
CREATE TABLE market_code (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    code                text NOT NULL CHECK (code <> ''),
    -- The code without separators, upper case: 'VN-DTPH-0001' and 'VNDTPH-0001' are one code.
    code_key            text GENERATED ALWAYS AS (upper(regexp_replace(code, '[^A-Za-z0-9]', '', 'g'))) STORED,
    growing_area_id     bigint REFERENCES growing_area (id),
    packing_house_id    bigint REFERENCES packing_house (id),
    -- ISO 3166-1 alpha-2 of the importing market ('CN', 'US', 'AU', ...), 'EU' for the Union,
    -- 'VN' for a domestic code.
    market              text NOT NULL CHECK (market ~ '^[A-Z]{2}$'),
    code_country        text,     -- 'VN'
    code_province       text,     -- province letters as issued, e.g. 'DL'
    code_kind           text,     -- 'OR' orchard, 'PH' packing house, ...
    code_sequence       integer,
    status              text NOT NULL DEFAULT 'draft'
        CHECK (status IN ('draft', 'submitted', 'inspected', 'active', 'suspended', 'revoked')),
    status_reason       text CHECK (status_reason IN ('quarantine_pest', 'residue_violation', 'code_borrowing', 'missed_supervision', 'other')),
    status_note         text,
    status_changed_at   timestamptz NOT NULL DEFAULT now(),
    valid_from          date,
    valid_to            date,
    approving_document  text,     -- số văn bản phê duyệt
    approving_authority text,
    province_code       text NOT NULL,
    version             integer NOT NULL DEFAULT 1 CHECK (version > 0),
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    created_by          text NOT NULL,
    updated_by          text NOT NULL,
    CHECK ((growing_area_id IS NULL) <> (packing_house_id IS NULL)),
    CHECK (valid_to IS NULL OR valid_from IS NULL OR valid_to >= valid_from),
    CHECK ((status = 'suspended') <= (status_reason IS NOT NULL))
);
-- A code is unique however it is written.
CREATE UNIQUE INDEX market_code_key ON market_code (code_key);
-- One live code per growing area and market.
CREATE UNIQUE INDEX market_code_area_market_key ON market_code (growing_area_id, market)
    WHERE growing_area_id IS NOT NULL AND status <> 'revoked';
-- One live code per packing house and market.
CREATE UNIQUE INDEX market_code_house_market_key ON market_code (packing_house_id, market)
    WHERE packing_house_id IS NOT NULL AND status <> 'revoked';
-- Jurisdiction filters and lists by status.
CREATE INDEX market_code_province_status_idx ON market_code (province_code, status);

-- Every status change of a code, with its reason and document.
CREATE TABLE market_code_event (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    market_code_id bigint NOT NULL REFERENCES market_code (id),
    at             timestamptz NOT NULL DEFAULT now(),
    from_status    text,
    to_status      text NOT NULL,
    reason         text,
    note           text,
    document       text,
    actor          text NOT NULL,
    province_code  text NOT NULL
);
-- A code's status history.
CREATE INDEX market_code_event_code_idx ON market_code_event (market_code_id, at);
