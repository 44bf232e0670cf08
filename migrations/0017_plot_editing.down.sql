DROP INDEX IF EXISTS producer_name_trgm_idx;
DROP FUNCTION IF EXISTS plot_snap(geometry, double precision, bigint[]);

-- The history trigger as 0004 wrote it.
CREATE OR REPLACE FUNCTION plot_keep_history() RETURNS trigger LANGUAGE plpgsql AS $$
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

ALTER TABLE plot_history DROP COLUMN IF EXISTS retired_into;
ALTER TABLE plot_history DROP COLUMN IF EXISTS retired;
ALTER TABLE plot_history DROP COLUMN IF EXISTS parent_ids;

ALTER TABLE plot DROP CONSTRAINT IF EXISTS plot_parent_ids_check;
ALTER TABLE plot DROP CONSTRAINT IF EXISTS plot_retired_into_check;
ALTER TABLE plot DROP CONSTRAINT IF EXISTS plot_retired_check;
ALTER TABLE plot DROP COLUMN IF EXISTS retired_into;
ALTER TABLE plot DROP COLUMN IF EXISTS retired;
ALTER TABLE plot DROP COLUMN IF EXISTS parent_ids;
