-- Crops (cây trồng): a controlled list, so that maps, statistics and export codes agree on what
-- "cà phê" is. Input matches the code, either name, or the name without diacritics (fold_key).
CREATE TABLE crop (
    code      text PRIMARY KEY CHECK (code ~ '^[a-z][a-z_]*$'),
    name_vi   text NOT NULL,
    name_en   text NOT NULL,
    perennial boolean NOT NULL,
    fold_key  text NOT NULL UNIQUE
);
INSERT INTO crop (code, name_vi, name_en, perennial, fold_key) VALUES
  ('coffee',        'Cà phê',      'Coffee',        true,  'ca phe'),
  ('durian',        'Sầu riêng',   'Durian',        true,  'sau rieng'),
  ('pepper',        'Hồ tiêu',     'Black pepper',  true,  'ho tieu'),
  ('tea',           'Chè',         'Tea',           true,  'che'),
  ('cashew',        'Điều',        'Cashew',        true,  'dieu'),
  ('rubber',        'Cao su',      'Rubber',        true,  'cao su'),
  ('cocoa',         'Ca cao',      'Cocoa',         true,  'ca cao'),
  ('macadamia',     'Mắc ca',      'Macadamia',     true,  'mac ca'),
  ('avocado',       'Bơ',          'Avocado',       true,  'bo'),
  ('passion_fruit', 'Chanh leo',   'Passion fruit', true,  'chanh leo'),
  ('dragon_fruit',  'Thanh long',  'Dragon fruit',  true,  'thanh long'),
  ('mango',         'Xoài',        'Mango',         true,  'xoai'),
  ('lychee',        'Vải',         'Lychee',        true,  'vai'),
  ('longan',        'Nhãn',        'Longan',        true,  'nhan'),
  ('rambutan',      'Chôm chôm',   'Rambutan',      true,  'chom chom'),
  ('mangosteen',    'Măng cụt',    'Mangosteen',    true,  'mang cut'),
  ('jackfruit',     'Mít',         'Jackfruit',     true,  'mit'),
  ('pomelo',        'Bưởi',        'Pomelo',        true,  'buoi'),
  ('orange',        'Cam',         'Orange',        true,  'cam'),
  ('lime',          'Chanh',       'Lime',          true,  'chanh'),
  ('star_apple',    'Vú sữa',      'Star apple',    true,  'vu sua'),
  ('banana',        'Chuối',       'Banana',        true,  'chuoi'),
  ('coconut',       'Dừa',         'Coconut',       true,  'dua'),
  ('sugarcane',     'Mía',         'Sugarcane',     false, 'mia'),
  ('rice',          'Lúa',         'Rice',          false, 'lua'),
  ('maize',         'Ngô',         'Maize',         false, 'ngo'),
  ('cassava',       'Sắn',         'Cassava',       false, 'san'),
  ('sweet_potato',  'Khoai lang',  'Sweet potato',  false, 'khoai lang'),
  ('watermelon',    'Dưa hấu',     'Watermelon',    false, 'dua hau'),
  ('chili',         'Ớt',          'Chili',         false, 'ot'),
  ('vegetables',    'Rau',         'Vegetables',    false, 'rau');

-- Producers (cơ sở / nông hộ): households, cooperatives (HTX) and enterprises. Columns whose
-- comment starts with PERSONAL hold personal data: never returned by public endpoints, never in
-- public tiles, never logged.
CREATE TABLE producer (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind           text NOT NULL CHECK (kind IN ('household', 'cooperative', 'enterprise')),
    name           text NOT NULL CHECK (name <> ''),
    citizen_id     text CHECK (citizen_id ~ '^[0-9]{12}$'),
    tax_code       text CHECK (tax_code ~ '^[0-9]{10}(-[0-9]{3})?$'),
    phone          text CHECK (phone ~ '^\+84[0-9]{9,10}$'),
    address        text,
    -- A household's cooperative (HTX), when it is a member of one.
    cooperative_id bigint REFERENCES producer (id),
    admin_scheme   smallint NOT NULL DEFAULT 2025,
    province_code  text,
    commune_code   text,
    -- The producer's id in the file or system it came from.
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
COMMENT ON COLUMN producer.name IS 'PERSONAL for households (a person''s name); public for cooperatives and enterprises';
COMMENT ON COLUMN producer.citizen_id IS 'PERSONAL: citizen ID (CCCD), 12 digits';
COMMENT ON COLUMN producer.phone IS 'PERSONAL: phone number, E.164';
COMMENT ON COLUMN producer.address IS 'PERSONAL for households; public for cooperatives and enterprises';
COMMENT ON COLUMN producer.tax_code IS 'PERSONAL for households (a household business tax code is a person''s); public for enterprises';
-- Jurisdiction filters: every list of an officer is per province or commune.
CREATE INDEX producer_province_idx ON producer (province_code, commune_code) WHERE deleted_at IS NULL;
-- Members of a cooperative.
CREATE INDEX producer_cooperative_idx ON producer (cooperative_id) WHERE cooperative_id IS NOT NULL;
-- Re-importing a source matches producers by their id in that source.
CREATE UNIQUE INDEX producer_source_external_key ON producer (source, external_id) WHERE external_id IS NOT NULL;
-- A citizen ID belongs to one household producer.
CREATE UNIQUE INDEX producer_citizen_id_key ON producer (citizen_id) WHERE citizen_id IS NOT NULL AND deleted_at IS NULL;

-- Plots (thửa, điểm sản xuất). The geometry is the truth; the area is computed from it on the
-- ellipsoid (geography) and can never disagree with it.
CREATE TABLE plot (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    producer_id      bigint REFERENCES producer (id),
    admin_scheme     smallint NOT NULL DEFAULT 2025,
    -- Jurisdiction. NULL only while neither the request, the commune nor a loaded boundary says
    -- which province the plot is in.
    province_code    text,
    commune_code     text,
    crop             text NOT NULL REFERENCES crop (code),
    variety          text,
    planting_year    smallint CHECK (planting_year BETWEEN 1900 AND 2100),
    cadastral_sheet  text, -- số tờ
    cadastral_parcel text, -- số thửa
    land_cert_no     text, -- số giấy chứng nhận quyền sử dụng đất
    source           text NOT NULL DEFAULT '',
    external_id      text, -- the feature's own id in the source file
    geom             geometry(MultiPolygon, 4326) NOT NULL CHECK (ST_IsValid(geom) AND NOT ST_IsEmpty(geom)),
    area_ha          double precision GENERATED ALWAYS AS (ST_Area(geom::geography, true) / 10000.0) STORED,
    version          integer NOT NULL DEFAULT 1 CHECK (version > 0),
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    created_by       text NOT NULL,
    updated_by       text NOT NULL,
    deleted_at       timestamptz,
    FOREIGN KEY (admin_scheme, province_code) REFERENCES province (scheme, code),
    FOREIGN KEY (admin_scheme, commune_code) REFERENCES commune (scheme, code)
);
COMMENT ON COLUMN plot.land_cert_no IS 'PERSONAL: identifies a land-use certificate and so its holder';
-- Every map view and bbox query: the spatial index.
CREATE INDEX plot_geom_gix ON plot USING gist (geom) WHERE deleted_at IS NULL;
-- Jurisdiction and commune filters.
CREATE INDEX plot_province_commune_idx ON plot (province_code, commune_code) WHERE deleted_at IS NULL;
-- A producer's plots.
CREATE INDEX plot_producer_idx ON plot (producer_id) WHERE deleted_at IS NULL;
-- Crop filter.
CREATE INDEX plot_crop_idx ON plot (crop) WHERE deleted_at IS NULL;
-- Re-importing a file matches plots by the file's own feature id.
CREATE UNIQUE INDEX plot_source_external_key ON plot (source, external_id) WHERE external_id IS NOT NULL AND deleted_at IS NULL;

-- Every earlier version of a plot, written by a trigger so no code path can skip it. Plots are
-- never deleted for real (deleted_at marks them), so history always has its plot.
CREATE TABLE plot_history (
    plot_id          bigint NOT NULL REFERENCES plot (id),
    version          integer NOT NULL,
    producer_id      bigint,
    admin_scheme     smallint NOT NULL,
    province_code    text,
    commune_code     text,
    crop             text NOT NULL,
    variety          text,
    planting_year    smallint,
    cadastral_sheet  text,
    cadastral_parcel text,
    land_cert_no     text,
    source           text NOT NULL,
    external_id      text,
    geom             geometry(MultiPolygon, 4326) NOT NULL,
    area_ha          double precision NOT NULL,
    deleted_at       timestamptz,
    valid_from       timestamptz NOT NULL,
    valid_to         timestamptz NOT NULL,
    written_by       text NOT NULL,
    replaced_by      text NOT NULL,
    PRIMARY KEY (plot_id, version)
);
-- Jurisdiction of history reads.
CREATE INDEX plot_history_province_idx ON plot_history (province_code);

CREATE FUNCTION plot_keep_history() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO plot_history (plot_id, version, producer_id, admin_scheme, province_code, commune_code,
        crop, variety, planting_year, cadastral_sheet, cadastral_parcel, land_cert_no, source,
        external_id, geom, area_ha, deleted_at, valid_from, valid_to, written_by, replaced_by)
    VALUES (OLD.id, OLD.version, OLD.producer_id, OLD.admin_scheme, OLD.province_code, OLD.commune_code,
        OLD.crop, OLD.variety, OLD.planting_year, OLD.cadastral_sheet, OLD.cadastral_parcel,
        OLD.land_cert_no, OLD.source, OLD.external_id, OLD.geom, OLD.area_ha, OLD.deleted_at,
        OLD.updated_at, now(), OLD.updated_by,
        NEW.updated_by);
    IF NEW.version <= OLD.version THEN
        RAISE EXCEPTION 'plot %: version must grow on every change (% -> %)', OLD.id, OLD.version, NEW.version
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END $$;
-- AFTER, because a BEFORE trigger may not look at the generated area_ha.
CREATE TRIGGER plot_keep_history AFTER UPDATE ON plot
    FOR EACH ROW WHEN (OLD.* IS DISTINCT FROM NEW.*) EXECUTE FUNCTION plot_keep_history();
