package postgres

// The messages of the traceability tables' constraints (migration 0014).
func init() {
	addConstraintMessages(map[string]string{
		"crop_harvest_months_check":           "harvest months are numbers from 1 to 12",
		"crop_hs_heading_check":               "an HS heading is 4 digits, e.g. 0901 for coffee",
		"crop_yield_cap_t_ha_check":           "a yield cap is a number of tonnes a hectare above 0",
		"harvest_lot_check":                   "the harvest's last day is before its first",
		"harvest_lot_crop_fkey":               "the crop is not in the crop list",
		"harvest_lot_growing_area_id_fkey":    "the growing area named does not exist",
		"harvest_lot_market_check":            "a market is a 2-letter code",
		"harvest_lot_market_code_id_fkey":     "the code named does not exist",
		"harvest_lot_packing_house_id_fkey":   "the packing house named does not exist",
		"harvest_lot_public_code_check":       "a lot's code looks like L-7KQ2M9XA",
		"harvest_lot_public_code_key":         "this lot code is taken: try again",
		"harvest_lot_quantity_kg_check":       "a lot's quantity is a number of kilograms above 0",
		"harvest_lot_received_kg_check":       "the quantity received is a number of kilograms above 0",
		"harvest_lot_registrant_id_fkey":      "the registrant named does not exist",
		"harvest_lot_version_check":           "the version must be positive",
		"harvest_lot_plot_lot_id_fkey":        "the lot named does not exist",
		"harvest_lot_plot_plot_id_fkey":       "the plot named does not exist",
		"consignment_exporter_id_fkey":        "the exporter named does not exist",
		"consignment_market_check":            "a market is a 2-letter code",
		"consignment_net_kg_check":            "a net weight is a number of kilograms above 0",
		"consignment_packing_code_id_fkey":    "the packing house's code named does not exist",
		"consignment_packing_house_id_fkey":   "the packing house named does not exist",
		"consignment_public_code_check":       "a consignment's code looks like C-7KQ2M9XA",
		"consignment_public_code_key":         "this consignment code is taken: try again",
		"consignment_version_check":           "the version must be positive",
		"consignment_lot_consignment_id_fkey": "the consignment named does not exist",
		"consignment_lot_lot_id_fkey":         "the lot named does not exist",
		"consignment_lot_quantity_kg_check":   "the quantity of a lot is a number of kilograms above 0",
	})
}
