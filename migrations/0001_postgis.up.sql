-- PostGIS does every spatial computation of the registry: validity, areas on the ellipsoid,
-- overlaps, tiles. The server start checks that it is available before migrating.
CREATE EXTENSION IF NOT EXISTS postgis;
