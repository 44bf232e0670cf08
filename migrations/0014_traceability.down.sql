DROP TABLE consignment_lot;
DROP TABLE consignment;
DROP TABLE harvest_lot_plot;
DROP TABLE harvest_lot;
ALTER TABLE crop DROP COLUMN eudr, DROP COLUMN hs_heading, DROP COLUMN harvest_months, DROP COLUMN yield_cap_t_ha;
