ALTER TABLE crop DROP COLUMN min_area_ha;
