DROP TABLE admin_unit_merge;
DROP TABLE commune;
DROP TABLE province;
