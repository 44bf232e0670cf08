-- Livestock species with the average live weight used to turn head counts into animal units
-- (đơn vị vật nuôi, ĐVN: 1 ĐVN = 500 kg live weight; Animal Husbandry Law 2018, Decree 13/2020
-- amended by 46/2022). The weights are defaults (unconfirmed against the decree's appendix):
-- a province may edit them; facilities keep the units computed when they declared.
CREATE TABLE livestock_species (
    code           text PRIMARY KEY CHECK (code ~ '^[a-z][a-z_]*$'),
    name_vi        text NOT NULL,
    name_en        text NOT NULL,
    live_weight_kg numeric(8, 3) NOT NULL CHECK (live_weight_kg > 0)
);
INSERT INTO livestock_species (code, name_vi, name_en, live_weight_kg) VALUES
  ('pig',          'Lợn thịt',  'Pig (fattening)', 100),
  ('sow',          'Lợn nái',   'Sow',             200),
  ('cattle',       'Bò thịt',   'Beef cattle',     350),
  ('dairy_cattle', 'Bò sữa',    'Dairy cattle',    500),
  ('buffalo',      'Trâu',      'Buffalo',         450),
  ('goat',         'Dê',        'Goat',            35),
  ('sheep',        'Cừu',       'Sheep',           40),
  ('horse',        'Ngựa',      'Horse',           300),
  ('chicken',      'Gà',        'Chicken',         2),
  ('duck',         'Vịt',       'Duck',            2.5),
  ('quail',        'Chim cút',  'Quail',           0.2),
  ('rabbit',       'Thỏ',       'Rabbit',          3);

-- Livestock facilities (cơ sở chăn nuôi). Scale class by animal units: large >= 300,
-- medium 30 to < 300, small 10 to < 30, household < 10.
CREATE TABLE livestock_facility (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    facility_code text,
    name          text NOT NULL CHECK (name <> ''),
    operator_id   bigint REFERENCES producer (id),
    address       text,
    admin_scheme  smallint NOT NULL DEFAULT 2025,
    province_code text NOT NULL,
    commune_code  text,
    location      geometry(Point, 4326) NOT NULL,
    footprint     geometry(MultiPolygon, 4326),
    animal_units  numeric(12, 2) NOT NULL DEFAULT 0 CHECK (animal_units >= 0),
    scale_class   text NOT NULL DEFAULT 'household' CHECK (scale_class IN ('large', 'medium', 'small', 'household')),
    biosecurity   text,   -- e.g. 'ASF-free certified compartment'
    certificates  text[] NOT NULL DEFAULT '{}',
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
COMMENT ON COLUMN livestock_facility.address IS 'PERSONAL when the operator is a household';
-- A facility code is issued once.
CREATE UNIQUE INDEX livestock_facility_code_key ON livestock_facility (facility_code) WHERE facility_code IS NOT NULL;
-- Facilities on the map.
CREATE INDEX livestock_facility_location_gix ON livestock_facility USING gist (location) WHERE deleted_at IS NULL;
-- Jurisdiction filters.
CREATE INDEX livestock_facility_province_idx ON livestock_facility (province_code, scale_class) WHERE deleted_at IS NULL;
-- Re-importing a source matches facilities by their id in that source.
CREATE UNIQUE INDEX livestock_facility_source_external_key ON livestock_facility (source, external_id) WHERE external_id IS NOT NULL;

-- Current head counts per species.
CREATE TABLE livestock_head_count (
    facility_id   bigint NOT NULL REFERENCES livestock_facility (id),
    species       text NOT NULL REFERENCES livestock_species (code),
    heads         integer NOT NULL CHECK (heads >= 0),
    animal_units  numeric(12, 2) NOT NULL CHECK (animal_units >= 0),
    province_code text NOT NULL,
    PRIMARY KEY (facility_id, species)
);

-- Quarterly declarations (kê khai chăn nuôi), kept as declared.
CREATE TABLE livestock_declaration (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    facility_id   bigint NOT NULL REFERENCES livestock_facility (id),
    period        text NOT NULL CHECK (period ~ '^[0-9]{4}-Q[1-4]$'),
    head_counts   jsonb NOT NULL,  -- {"pig": 120, "sow": 12}
    animal_units  numeric(12, 2) NOT NULL,
    declared_at   timestamptz NOT NULL DEFAULT now(),
    declared_by   text NOT NULL,
    province_code text NOT NULL,
    UNIQUE (facility_id, period)
);

-- Feed production facilities (cơ sở sản xuất thức ăn chăn nuôi).
CREATE TABLE feed_facility (
    id                     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name                   text NOT NULL CHECK (name <> ''),
    operator_id            bigint REFERENCES producer (id),
    address                text,
    admin_scheme           smallint NOT NULL DEFAULT 2025,
    province_code          text NOT NULL,
    commune_code           text,
    location               geometry(Point, 4326) NOT NULL,
    design_capacity_tpy    numeric(12, 2) CHECK (design_capacity_tpy >= 0), -- tonnes a year
    products               text[] NOT NULL DEFAULT '{}',
    certificate_no         text,
    certificate_issuer     text,
    certificate_issued_on  date,
    certificate_expires_on date,
    source                 text NOT NULL DEFAULT '',
    external_id            text,
    version                integer NOT NULL DEFAULT 1 CHECK (version > 0),
    created_at             timestamptz NOT NULL DEFAULT now(),
    updated_at             timestamptz NOT NULL DEFAULT now(),
    created_by             text NOT NULL,
    updated_by             text NOT NULL,
    deleted_at             timestamptz,
    FOREIGN KEY (admin_scheme, province_code) REFERENCES province (scheme, code),
    FOREIGN KEY (admin_scheme, commune_code) REFERENCES commune (scheme, code)
);
-- Feed mills on the map.
CREATE INDEX feed_facility_location_gix ON feed_facility USING gist (location) WHERE deleted_at IS NULL;
-- Jurisdiction filters.
CREATE INDEX feed_facility_province_idx ON feed_facility (province_code) WHERE deleted_at IS NULL;
-- Re-importing a source matches mills by their id in that source.
CREATE UNIQUE INDEX feed_facility_source_external_key ON feed_facility (source, external_id) WHERE external_id IS NOT NULL;
