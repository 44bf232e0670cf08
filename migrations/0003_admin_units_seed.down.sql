DELETE FROM admin_unit_merge;
DELETE FROM commune;
DELETE FROM province;
