-- Applications for a growing-area or packing-house code (hồ sơ đăng ký).
CREATE TABLE application (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    growing_area_id     bigint REFERENCES growing_area (id),
    packing_house_id    bigint REFERENCES packing_house (id),
    registrant_id       bigint NOT NULL REFERENCES producer (id),
    market              text NOT NULL CHECK (market ~ '^[A-Z]{2}$'),
    crop                text REFERENCES crop (code),
    varieties           text[] NOT NULL DEFAULT '{}',
    household_count     integer CHECK (household_count >= 0),
    area_ha             double precision CHECK (area_ha >= 0),
    tree_age_years      numeric(5, 1),
    expected_harvest    text,            -- e.g. 'tháng 5 - tháng 8'
    expected_yield_t    numeric(12, 2),
    avg_yield_3y_t_ha   numeric(8, 3),   -- 3-year average yield, t/ha/yr
    certificate         text,            -- VietGAP / GlobalGAP certificate number
    status              text NOT NULL DEFAULT 'draft'
        CHECK (status IN ('draft', 'submitted', 'withdrawn', 'accepted', 'rejected')),
    submitted_at        timestamptz,
    decided_at          timestamptz,
    province_code       text NOT NULL,
    version             integer NOT NULL DEFAULT 1 CHECK (version > 0),
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    created_by          text NOT NULL,
    updated_by          text NOT NULL,
    CHECK ((growing_area_id IS NULL) <> (packing_house_id IS NULL))
);
-- Officers' queues: applications by province and status.
CREATE INDEX application_province_status_idx ON application (province_code, status);

-- Inspections (biên bản kiểm tra) of a growing area or packing house.
CREATE TABLE inspection (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    application_id   bigint REFERENCES application (id),
    market_code_id   bigint REFERENCES market_code (id),
    growing_area_id  bigint REFERENCES growing_area (id),
    packing_house_id bigint REFERENCES packing_house (id),
    inspected_on     date NOT NULL,
    inspectors       text[] NOT NULL DEFAULT '{}',
    -- Checklist: pesticides used, farming diary kept, pest density, samples and lab results,
    -- orchard hygiene. Its shape follows the form in use and may change with it.
    checklist        jsonb NOT NULL DEFAULT '{}',
    conclusion       text NOT NULL CHECK (conclusion IN ('pass', 'fail', 'conditional')),
    notes            text,
    province_code    text NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    created_by       text NOT NULL,
    CHECK ((growing_area_id IS NULL) <> (packing_house_id IS NULL))
);
-- "When was it last inspected?"
CREATE INDEX inspection_area_idx ON inspection (growing_area_id, inspected_on DESC) WHERE growing_area_id IS NOT NULL;
CREATE INDEX inspection_house_idx ON inspection (packing_house_id, inspected_on DESC) WHERE packing_house_id IS NOT NULL;

-- Seasonal reports (Phụ lục 2): planned at the start of a season, actual output after harvest.
CREATE TABLE seasonal_report (
    id                     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    growing_area_id        bigint NOT NULL REFERENCES growing_area (id),
    season                 text NOT NULL,        -- e.g. '2026' or '2026-vụ 1'
    crop                   text NOT NULL REFERENCES crop (code),
    variety                text,
    area_ha                double precision CHECK (area_ha >= 0),
    standard               text,                 -- VietGAP, GlobalGAP, ...
    market                 text CHECK (market ~ '^[A-Z]{2}$'),
    expected_output_t      numeric(12, 2),
    expected_harvest_from  date,
    expected_harvest_to    date,
    actual_output_t        numeric(12, 2),
    reported_at            timestamptz NOT NULL DEFAULT now(),
    reported_by            text NOT NULL,
    province_code          text NOT NULL,
    UNIQUE (growing_area_id, season, crop, market)
);
