DROP TABLE feed_facility;
DROP TABLE livestock_declaration;
DROP TABLE livestock_head_count;
DROP TABLE livestock_facility;
DROP TABLE livestock_species;
