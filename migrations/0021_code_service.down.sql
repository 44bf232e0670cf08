ALTER TABLE seasonal_report DROP CONSTRAINT seasonal_report_harvest_check;
ALTER TABLE seasonal_report DROP COLUMN actual_reported_at;
ALTER TABLE packing_house_growing_area DROP CONSTRAINT packing_house_growing_area_dates_check;
ALTER TABLE packing_house_growing_area DROP COLUMN valid_from, DROP COLUMN valid_to;
ALTER TABLE market_code DROP COLUMN application_id, DROP COLUMN proposed_on, DROP COLUMN proposed_document,
    DROP COLUMN confirmed_on, DROP COLUMN confirmed_list_date, DROP COLUMN confirmed_reference;
DROP TABLE code_sequence;
DROP TABLE province_letters;
DROP TABLE inspection_photo;
ALTER TABLE inspection DROP COLUMN reasons;
DROP TABLE application_attachment;
DROP TABLE application_event;
DROP INDEX application_registrant_idx;
DROP INDEX application_house_market_open_key;
DROP INDEX application_area_market_open_key;
ALTER TABLE application DROP CONSTRAINT application_harvests_per_year_check;
ALTER TABLE application DROP CONSTRAINT application_harvest_months_check;
ALTER TABLE application DROP COLUMN representative, DROP COLUMN phone, DROP COLUMN email, DROP COLUMN address,
    DROP COLUMN expected_harvest_from, DROP COLUMN expected_harvest_to, DROP COLUMN harvests_per_year, DROP COLUMN standards,
    DROP COLUMN commitment, DROP COLUMN return_note, DROP COLUMN rejection_reasons, DROP COLUMN inspection_on,
    DROP COLUMN inspectors, DROP COLUMN market_code_id;
UPDATE application SET status = 'draft' WHERE status NOT IN ('draft', 'submitted', 'withdrawn', 'rejected');
ALTER TABLE application DROP CONSTRAINT application_status_check;
ALTER TABLE application ADD CONSTRAINT application_status_check
    CHECK (status IN ('draft', 'submitted', 'withdrawn', 'accepted', 'rejected'));
ALTER TABLE application RENAME COLUMN expected_output_t TO expected_yield_t;
