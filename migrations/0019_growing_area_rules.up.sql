-- The smallest growing area a crop may form (issue 14): 1 ha for perennial crops and 0.1 ha
-- for annual ones by default, set per crop in the crop list.
ALTER TABLE crop ADD COLUMN min_area_ha double precision;
UPDATE crop SET min_area_ha = CASE WHEN perennial THEN 1 ELSE 0.1 END;
ALTER TABLE crop ALTER COLUMN min_area_ha SET NOT NULL;
ALTER TABLE crop ADD CONSTRAINT crop_min_area_ha_check CHECK (min_area_ha >= 0);
