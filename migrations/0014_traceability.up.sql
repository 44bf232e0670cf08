-- Traceability: harvest lots and consignments, and what the code-borrowing checks and the EUDR
-- need to know of each crop.

-- Per crop: the most an area yields in a season (t/ha), the months its harvest falls in, its
-- HS heading and whether the EU Deforestation Regulation covers it. The yields are orders of
-- magnitude (DOMAIN.md, unconfirmed): settings that an administrator changes
-- (PUT /api/v1/crops/{code}).
ALTER TABLE crop
    ADD COLUMN yield_cap_t_ha numeric(8, 2) CHECK (yield_cap_t_ha > 0),
    ADD COLUMN harvest_months smallint[] NOT NULL DEFAULT '{}'
        CHECK (harvest_months <@ ARRAY[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]::smallint[]),
    ADD COLUMN hs_heading text CHECK (hs_heading ~ '^[0-9]{4}$'),
    ADD COLUMN eudr boolean NOT NULL DEFAULT false;
UPDATE crop SET yield_cap_t_ha = 3,   harvest_months = '{10,11,12,1,2}',           hs_heading = '0901', eudr = true WHERE code = 'coffee';
UPDATE crop SET yield_cap_t_ha = 3,   harvest_months = '{1,2,3,4,5}',              hs_heading = '0904' WHERE code = 'pepper';
UPDATE crop SET yield_cap_t_ha = 25,  harvest_months = '{4,5,6,7,8,9}',            hs_heading = '0810' WHERE code = 'durian';
UPDATE crop SET yield_cap_t_ha = 30,  harvest_months = '{1,2,3,4,5,6,7,8,9,10,11,12}', hs_heading = '0810' WHERE code = 'dragon_fruit';
UPDATE crop SET yield_cap_t_ha = 10,  harvest_months = '{2,3,4,5,6,7}',            hs_heading = '0804' WHERE code = 'mango';
UPDATE crop SET yield_cap_t_ha = 7,   harvest_months = '{5,6,7}',                  hs_heading = '0810' WHERE code = 'lychee';
UPDATE crop SET yield_cap_t_ha = 15,  harvest_months = '{1,2,3,4,5,6,7,8,9,10,11,12}', hs_heading = '0902' WHERE code = 'tea';
UPDATE crop SET yield_cap_t_ha = 1.7, harvest_months = '{1,2,3,4,5,6,7,8,9,10,11,12}', hs_heading = '4001', eudr = true WHERE code = 'rubber';
UPDATE crop SET yield_cap_t_ha = 1.5, harvest_months = '{1,2,3,4,5,6,7,8,9,10,11,12}', hs_heading = '1801', eudr = true WHERE code = 'cocoa';
UPDATE crop SET yield_cap_t_ha = 1.5, harvest_months = '{2,3,4,5}',                hs_heading = '0801' WHERE code = 'cashew';
UPDATE crop SET yield_cap_t_ha = 12,  harvest_months = '{6,7,8,9}',                hs_heading = '0810' WHERE code = 'longan';
UPDATE crop SET yield_cap_t_ha = 30,  harvest_months = '{1,2,3,4,5,6,7,8,9,10,11,12}', hs_heading = '0810' WHERE code = 'passion_fruit';
UPDATE crop SET yield_cap_t_ha = 15,  harvest_months = '{1,2,3,4,5,6,7,8,9,10,11,12}', hs_heading = '0804' WHERE code = 'avocado';

-- A harvest lot (lô hàng thu hoạch): what a cooperative harvested from plots of one growing area,
-- declared under the area's code for a market. Its public code is what its QR names.
CREATE TABLE harvest_lot (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    public_code      text NOT NULL UNIQUE CHECK (public_code ~ '^L-[0-9A-Z]{8}$'),
    growing_area_id  bigint NOT NULL REFERENCES growing_area (id),
    market_code_id   bigint NOT NULL REFERENCES market_code (id),
    market           text NOT NULL CHECK (market ~ '^[A-Z]{2}$'),
    crop             text NOT NULL REFERENCES crop (code),
    -- The season the harvest belongs to, named by the year it starts (a coffee season that
    -- runs from October to February is the year of October).
    season           integer NOT NULL,
    harvested_from   date NOT NULL,
    harvested_to     date NOT NULL CHECK (harvested_to >= harvested_from),
    quantity_kg      numeric(14, 2) NOT NULL CHECK (quantity_kg > 0),
    -- Who recorded it: the area's registrant (a cooperative or enterprise).
    registrant_id    bigint REFERENCES producer (id),
    -- The packing house that received it, when, and how much.
    packing_house_id bigint REFERENCES packing_house (id),
    received_at      timestamptz,
    received_kg      numeric(14, 2) CHECK (received_kg > 0),
    -- What the code-borrowing checks found when it was recorded (and received).
    flags            jsonb NOT NULL DEFAULT '[]',
    province_code    text NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    created_by       text NOT NULL,
    updated_at       timestamptz NOT NULL DEFAULT now(),
    updated_by       text NOT NULL,
    version          integer NOT NULL DEFAULT 1 CHECK (version > 0)
);
-- The lots of an area in a season (the yield check sums them).
CREATE INDEX harvest_lot_area_season_idx ON harvest_lot (growing_area_id, crop, season);
-- Officers' reports by province; the lots a packing house received.
CREATE INDEX harvest_lot_province_idx ON harvest_lot (province_code, created_at);
CREATE INDEX harvest_lot_packing_house_idx ON harvest_lot (packing_house_id) WHERE packing_house_id IS NOT NULL;

-- The plots a lot was harvested from.
CREATE TABLE harvest_lot_plot (
    lot_id        bigint NOT NULL REFERENCES harvest_lot (id) ON DELETE CASCADE,
    plot_id       bigint NOT NULL REFERENCES plot (id),
    province_code text NOT NULL,
    PRIMARY KEY (lot_id, plot_id)
);
-- The lots a plot went into (EUDR exports by plot).
CREATE INDEX harvest_lot_plot_plot_idx ON harvest_lot_plot (plot_id);

-- A consignment (lô hàng xuất khẩu): lots an exporter ships to a market through a packing house
-- under its code.
CREATE TABLE consignment (
    id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    public_code        text NOT NULL UNIQUE CHECK (public_code ~ '^C-[0-9A-Z]{8}$'),
    exporter_id        bigint REFERENCES producer (id),
    market             text NOT NULL CHECK (market ~ '^[A-Z]{2}$'),
    packing_house_id   bigint NOT NULL REFERENCES packing_house (id),
    packing_code_id    bigint REFERENCES market_code (id),
    net_kg             numeric(14, 2) NOT NULL CHECK (net_kg > 0),
    container_no       text,
    declaration_no     text,
    destination        text,
    shipped_on         date,
    flags              jsonb NOT NULL DEFAULT '[]',
    province_code      text NOT NULL,
    created_at         timestamptz NOT NULL DEFAULT now(),
    created_by         text NOT NULL,
    updated_at         timestamptz NOT NULL DEFAULT now(),
    updated_by         text NOT NULL,
    version            integer NOT NULL DEFAULT 1 CHECK (version > 0)
);
-- An exporter's consignments; officers' reports by province.
CREATE INDEX consignment_exporter_idx ON consignment (exporter_id, created_at);
CREATE INDEX consignment_province_idx ON consignment (province_code, created_at);

-- The lots of a consignment, and how much of each it carries.
CREATE TABLE consignment_lot (
    consignment_id bigint NOT NULL REFERENCES consignment (id) ON DELETE CASCADE,
    lot_id         bigint NOT NULL REFERENCES harvest_lot (id),
    quantity_kg    numeric(14, 2) NOT NULL CHECK (quantity_kg > 0),
    province_code  text NOT NULL,
    PRIMARY KEY (consignment_id, lot_id)
);
-- The consignments a lot went into.
CREATE INDEX consignment_lot_lot_idx ON consignment_lot (lot_id);
