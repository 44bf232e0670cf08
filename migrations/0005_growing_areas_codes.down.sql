DROP TABLE market_code_event;
DROP TABLE market_code;
DROP TABLE packing_house_growing_area;
DROP TABLE packing_house;
DROP TABLE growing_area_plot;
DROP TABLE growing_area;
