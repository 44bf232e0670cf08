-- Deforestation screening (EUDR): forest and tree-cover-loss baselines as PostGIS rasters, and
-- what each plot's overlay with them found. See registry/screening.go for the rules.
CREATE EXTENSION IF NOT EXISTS postgis_raster;

-- A baseline: one GeoTIFF file loaded by `vungtrong baseline load`. Kinds:
--   forest2020     JRC Global Forest Cover 2020 (10 m): 1 = forest at the end of 2020
--   treecover2000  Hansen Global Forest Change: canopy cover in 2000, percent
--   lossyear       Hansen Global Forest Change: n = tree cover lost in year 2000 + n, 0 = none
-- Its pixels are in the table of its kind. Tiles that held only "no data" were not stored:
-- inside bounds, a pixel without a tile or without data counts as no forest / no loss.
CREATE TABLE baseline (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind          text NOT NULL CHECK (kind IN ('forest2020', 'treecover2000', 'lossyear')),
    -- The file's name as loaded (no folder): loading a file of the same name and kind again
    -- replaces it.
    source_file   text NOT NULL CHECK (source_file <> ''),
    -- The dataset and the date its map stands for ("JRC GFC2020 V2", 2020-12-31).
    dataset       text NOT NULL CHECK (dataset <> ''),
    dataset_date  date NOT NULL,
    -- The part of the file inside Vietnam's extent: where the dataset says something.
    bounds        geometry(Polygon, 4326) NOT NULL,
    pixel_width   double precision NOT NULL CHECK (pixel_width > 0),
    pixel_height  double precision NOT NULL CHECK (pixel_height > 0),
    width         integer NOT NULL CHECK (width > 0),
    height        integer NOT NULL CHECK (height > 0),
    tiles         integer NOT NULL DEFAULT 0 CHECK (tiles >= 0),
    -- The smallest and largest value found (no-data pixels aside).
    min_value     double precision,
    max_value     double precision,
    loaded_at     timestamptz NOT NULL DEFAULT now(),
    loaded_by     text NOT NULL,
    UNIQUE (kind, source_file)
);
-- Which baselines a plot lies in (a few hundred rows at most, but read for every plot).
CREATE INDEX baseline_bounds_gix ON baseline USING gist (bounds);

-- The pixels, in tiles of 256 x 256, one table per kind. Reference data: no province.
CREATE TABLE baseline_forest2020 (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    baseline_id bigint NOT NULL REFERENCES baseline (id) ON DELETE CASCADE,
    rast        raster NOT NULL
);
CREATE TABLE baseline_treecover2000 (LIKE baseline_forest2020 INCLUDING ALL);
ALTER TABLE baseline_treecover2000 ADD FOREIGN KEY (baseline_id) REFERENCES baseline (id) ON DELETE CASCADE;
CREATE TABLE baseline_lossyear (LIKE baseline_forest2020 INCLUDING ALL);
ALTER TABLE baseline_lossyear ADD FOREIGN KEY (baseline_id) REFERENCES baseline (id) ON DELETE CASCADE;
-- The tiles under a plot: screening finds them by their footprint.
CREATE INDEX baseline_forest2020_gix ON baseline_forest2020 USING gist (ST_ConvexHull(rast));
CREATE INDEX baseline_treecover2000_gix ON baseline_treecover2000 USING gist (ST_ConvexHull(rast));
CREATE INDEX baseline_lossyear_gix ON baseline_lossyear USING gist (ST_ConvexHull(rast));
-- Replacing or removing a baseline deletes its tiles.
CREATE INDEX baseline_forest2020_baseline_idx ON baseline_forest2020 (baseline_id);
CREATE INDEX baseline_treecover2000_baseline_idx ON baseline_treecover2000 (baseline_id);
CREATE INDEX baseline_lossyear_baseline_idx ON baseline_lossyear (baseline_id);

-- The rules screening applies: settings an administrator changes (`vungtrong screen
-- --min-share N --treecover-threshold N`); each screening keeps the rules it used.
CREATE TABLE screening_rule (
    id                      boolean PRIMARY KEY DEFAULT true CHECK (id),
    -- A dataset counts for a plot when what it maps covers more than this share of it (Whisp: 10%).
    min_share_pct           double precision NOT NULL DEFAULT 10 CHECK (min_share_pct > 0 AND min_share_pct < 100),
    -- Hansen canopy cover from which a pixel has tree cover (percent).
    treecover_threshold_pct double precision NOT NULL DEFAULT 10 CHECK (treecover_threshold_pct > 0 AND treecover_threshold_pct <= 100),
    updated_at              timestamptz NOT NULL DEFAULT now()
);
INSERT INTO screening_rule DEFAULT VALUES;

-- What screening found for a plot, at the plot's version it screened. Areas in hectares on the
-- ellipsoid, shares in percent of the plot; NULL where no baseline of the kind covers the plot.
CREATE TABLE plot_screening (
    plot_id              bigint PRIMARY KEY REFERENCES plot (id),
    plot_version         integer NOT NULL,
    province_code        text,
    area_ha              double precision NOT NULL,
    risk                 text NOT NULL CHECK (risk IN ('low', 'high', 'more_info_needed')),
    reason               text NOT NULL,
    -- Forest at the end of 2020, and which kind said so (forest2020, or treecover2000 less
    -- the loss of 2001-2020).
    forest_2020_ha       double precision,
    forest_2020_pct      double precision,
    forest_source        text,
    treecover_2000_pct   double precision,
    loss_before_2021_ha  double precision,
    loss_before_2021_pct double precision,
    loss_after_2020_ha   double precision,
    loss_after_2020_pct  double precision,
    -- Years after 2020 with tree cover loss in the plot.
    loss_years           smallint[] NOT NULL DEFAULT '{}',
    -- A perennial crop the plot declares planted by 2020 stood there at the cut-off.
    commodity_2020       boolean NOT NULL,
    indicators           jsonb NOT NULL,
    datasets             jsonb NOT NULL DEFAULT '[]',
    rules                jsonb NOT NULL,
    screened_at          timestamptz NOT NULL DEFAULT now()
);
-- Counts by risk in a province (the EUDR summary, the officer's list of plots to look at).
CREATE INDEX plot_screening_province_risk_idx ON plot_screening (province_code, risk);

-- Plots written since they were screened. Triggers on plot fill it in the writing transaction
-- (once a baseline is loaded: before that there is nothing to screen against); a job of the
-- servers empties it.
CREATE TABLE screening_queue (
    plot_id   bigint PRIMARY KEY,
    queued_at timestamptz NOT NULL DEFAULT now()
);

CREATE FUNCTION plot_queue_screening() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM baseline) THEN
        INSERT INTO screening_queue (plot_id) SELECT id FROM changed_plots ON CONFLICT DO NOTHING;
    END IF;
    RETURN NULL;
END $$;
-- Per statement, so that an import of a hundred thousand plots queues them in one insert.
CREATE TRIGGER plot_queue_screening_insert AFTER INSERT ON plot
    REFERENCING NEW TABLE AS changed_plots FOR EACH STATEMENT EXECUTE FUNCTION plot_queue_screening();
CREATE TRIGGER plot_queue_screening_update AFTER UPDATE ON plot
    REFERENCING NEW TABLE AS changed_plots FOR EACH STATEMENT EXECUTE FUNCTION plot_queue_screening();

-- A batch screening of every plot (of a province): `vungtrong screen`. It screens plots in id
-- order and remembers the last id done, so that a run stopped midway resumes there.
CREATE TABLE screening_run (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- NULL: every province.
    province_code text,
    state         text NOT NULL DEFAULT 'running' CHECK (state IN ('running', 'done', 'failed', 'abandoned')),
    total         bigint NOT NULL DEFAULT 0 CHECK (total >= 0),
    done          bigint NOT NULL DEFAULT 0 CHECK (done >= 0),
    last_plot_id  bigint NOT NULL DEFAULT 0,
    started_by    text NOT NULL,
    started_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    ended_at      timestamptz,
    error         text
);
-- The unfinished run of a scope, which `vungtrong screen` resumes.
CREATE INDEX screening_run_running_idx ON screening_run (province_code) WHERE state = 'running';
