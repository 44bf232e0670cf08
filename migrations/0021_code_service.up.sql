-- The code service (issue 14): applications through their whole procedure, their attachments,
-- inspections with photos, code numbering, the export-market steps, dated packing-house links.

-- Applications (hồ sơ đăng ký): the states of the procedure and the fields of Form 01.
ALTER TABLE application DROP CONSTRAINT application_status_check;
ALTER TABLE application ADD CONSTRAINT application_status_check CHECK (status IN
    ('draft', 'submitted', 'returned', 'under_review', 'inspection_scheduled', 'inspected', 'approved', 'rejected', 'withdrawn'));
-- expected_yield_t held the expected output in tonnes: named as Form 01 names it.
ALTER TABLE application RENAME COLUMN expected_yield_t TO expected_output_t;
ALTER TABLE application
    ADD COLUMN representative        text,
    ADD COLUMN phone                 text,
    ADD COLUMN email                 text,
    ADD COLUMN address               text,
    ADD COLUMN expected_harvest_from smallint,
    ADD COLUMN expected_harvest_to   smallint,
    ADD COLUMN harvests_per_year     smallint,
    -- [{"name": "VietGAP", "certificate": "...", "issued_on": "YYYY-MM-DD", "valid_to": "YYYY-MM-DD"}]
    ADD COLUMN standards             jsonb NOT NULL DEFAULT '[]',
    ADD COLUMN commitment            boolean NOT NULL DEFAULT false,
    ADD COLUMN return_note           text,
    ADD COLUMN rejection_reasons     text[] NOT NULL DEFAULT '{}',
    ADD COLUMN inspection_on         date,
    ADD COLUMN inspectors            text[] NOT NULL DEFAULT '{}',
    ADD COLUMN market_code_id        bigint REFERENCES market_code (id);
ALTER TABLE application ADD CONSTRAINT application_harvest_months_check
    CHECK (expected_harvest_from >= 1 AND expected_harvest_from <= 12 AND expected_harvest_to >= 1 AND expected_harvest_to <= 12);
ALTER TABLE application ADD CONSTRAINT application_harvests_per_year_check CHECK (harvests_per_year BETWEEN 1 AND 12);
-- One open application per growing area (or packing house) and market.
CREATE UNIQUE INDEX application_area_market_open_key ON application (growing_area_id, market)
    WHERE growing_area_id IS NOT NULL AND status NOT IN ('rejected', 'withdrawn');
CREATE UNIQUE INDEX application_house_market_open_key ON application (packing_house_id, market)
    WHERE packing_house_id IS NOT NULL AND status NOT IN ('rejected', 'withdrawn');
-- A cooperative's page: its applications.
CREATE INDEX application_registrant_idx ON application (registrant_id, created_at DESC);

-- Every step of an application, with who and why.
CREATE TABLE application_event (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    application_id bigint NOT NULL REFERENCES application (id),
    at             timestamptz NOT NULL DEFAULT now(),
    from_status    text,
    to_status      text NOT NULL,
    note           text,
    actor          text NOT NULL,
    province_code  text NOT NULL
);
CREATE INDEX application_event_app_idx ON application_event (application_id, at);

-- Attachments of an application (farming diary pages, certificates, the commitment letter),
-- kept in the database so that every server and every backup has them.
CREATE TABLE application_attachment (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    application_id bigint NOT NULL REFERENCES application (id),
    kind           text NOT NULL CHECK (kind IN ('diary', 'certificate', 'commitment', 'other')),
    filename       text NOT NULL,
    content_type   text NOT NULL CHECK (content_type IN ('application/pdf', 'image/jpeg', 'image/png')),
    size           integer NOT NULL CHECK (size > 0),
    sha256         bytea NOT NULL,
    data           bytea NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    created_by     text NOT NULL
);
CREATE INDEX application_attachment_app_idx ON application_attachment (application_id);

-- Inspections record their reasons and their photos (position and time of each).
ALTER TABLE inspection ADD COLUMN reasons text;
CREATE TABLE inspection_photo (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    inspection_id bigint NOT NULL REFERENCES inspection (id),
    content_type  text NOT NULL CHECK (content_type IN ('image/jpeg', 'image/png')),
    size          integer NOT NULL CHECK (size > 0),
    data          bytea NOT NULL,
    taken_at      timestamptz,
    position      geometry(Point, 4326),
    accuracy_m    real CHECK (accuracy_m >= 0),
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX inspection_photo_inspection_idx ON inspection_photo (inspection_id);

-- The letters of each province in its codes (VN-<letters>OR-0001). No official table was found:
-- this is data, and an administrator changes it.
CREATE TABLE province_letters (
    province_code text PRIMARY KEY,
    letters       text NOT NULL UNIQUE CHECK (letters ~ '^[A-Z]{2}$'),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    updated_by    text NOT NULL DEFAULT 'migration'
);
INSERT INTO province_letters (province_code, letters) VALUES
    ('01', 'HN'), ('04', 'CB'), ('08', 'TQ'), ('11', 'DB'), ('12', 'LC'), ('14', 'SL'), ('15', 'LK'),
    ('19', 'TN'), ('20', 'LS'), ('22', 'QN'), ('24', 'BN'), ('25', 'PT'), ('31', 'HP'), ('33', 'HY'),
    ('37', 'NB'), ('38', 'TH'), ('40', 'NA'), ('42', 'HT'), ('44', 'QT'), ('46', 'HU'), ('48', 'DA'),
    ('51', 'QG'), ('52', 'GL'), ('56', 'KH'), ('66', 'DL'), ('68', 'LD'), ('75', 'DN'), ('79', 'HC'),
    ('80', 'TY'), ('82', 'DT'), ('86', 'VL'), ('91', 'AG'), ('92', 'CT'), ('96', 'CM');

-- The last sequence number issued per province and kind: a number is never issued twice, even
-- after its code is revoked. Approvals lock the row, so concurrent ones take consecutive numbers.
CREATE TABLE code_sequence (
    province_code text NOT NULL,
    kind          text NOT NULL CHECK (kind IN ('OR', 'PH')),
    last          integer NOT NULL CHECK (last > 0),
    PRIMARY KEY (province_code, kind)
);

-- Codes: the application that led to them, and the two steps of an export market: proposed by
-- the national authority, then confirmed by the importing country (with the date of its list).
ALTER TABLE market_code
    ADD COLUMN application_id      bigint REFERENCES application (id),
    ADD COLUMN proposed_on         date,
    ADD COLUMN proposed_document   text,
    ADD COLUMN confirmed_on        date,
    ADD COLUMN confirmed_list_date date,
    ADD COLUMN confirmed_reference text;

-- Packing houses pack an area's produce from a date, and until a date (NULL: a link registered
-- before links had dates holds from the start; one without valid_to holds on).
ALTER TABLE packing_house_growing_area
    ADD COLUMN valid_from date,
    ADD COLUMN valid_to   date;
ALTER TABLE packing_house_growing_area ADD CONSTRAINT packing_house_growing_area_dates_check
    CHECK (valid_to IS NULL OR valid_from IS NULL OR valid_to >= valid_from);

-- Seasonal reports: when the actual output was reported.
ALTER TABLE seasonal_report ADD COLUMN actual_reported_at timestamptz;
ALTER TABLE seasonal_report ADD CONSTRAINT seasonal_report_harvest_check
    CHECK (expected_harvest_to IS NULL OR expected_harvest_from IS NULL OR expected_harvest_to >= expected_harvest_from);

-- Supervision reminders: the reminder job records, once per due day, each active code whose
-- supervision visit is overdue, so that the officers' inbox says since when they were reminded.
CREATE TABLE supervision_reminder (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    market_code_id bigint NOT NULL REFERENCES market_code (id),
    due            date NOT NULL,
    province_code  text NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    UNIQUE (market_code_id, due)
);
