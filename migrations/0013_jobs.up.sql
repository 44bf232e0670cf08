-- Work that must survive restarts and run once across servers runs as jobs in PostgreSQL
-- (River's tables, created by its own migrator at this step: see registry/postgres/jobs.go).
-- This migration adds what the registry's jobs keep: uploaded files and import jobs, so that
-- every server sees them and a restart loses nothing.

-- A file received from a user (an import's survey file; later, an application's attachments),
-- in 1 MB chunks: every server and every backup has it.
CREATE TABLE upload (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- What it is for: an import's file is forgotten a day after its import ends.
    purpose    text NOT NULL DEFAULT 'import' CHECK (purpose IN ('import', 'attachment')),
    filename   text NOT NULL CHECK (filename <> ''),
    size       bigint NOT NULL DEFAULT 0 CHECK (size >= 0),
    sha256     bytea,
    created_by text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
-- Cleaning finds uploads by age.
CREATE INDEX upload_created_idx ON upload (created_at);

CREATE TABLE upload_chunk (
    upload_id bigint NOT NULL REFERENCES upload (id) ON DELETE CASCADE,
    n         int NOT NULL CHECK (n >= 0),
    data      bytea NOT NULL,
    PRIMARY KEY (upload_id, n)
);

-- An import of an uploaded file: its options, progress and report, kept a day after it ends.
CREATE TABLE import_job (
    id            text PRIMARY KEY CHECK (id ~ '^[0-9a-f]{18}$'),
    owner         text NOT NULL,   -- the actor, as the audit log names it
    owner_user_id bigint REFERENCES app_user (id) ON DELETE SET NULL,
    owner_kind    text NOT NULL CHECK (owner_kind IN ('user', 'token', 'system')),
    request_id    text,
    filename      text NOT NULL,
    request       jsonb NOT NULL,
    state         text NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'running', 'done', 'failed')),
    progress      jsonb NOT NULL DEFAULT '{}',
    report        jsonb,
    error         jsonb,
    upload_id     bigint REFERENCES upload (id) ON DELETE SET NULL,
    -- A dry run's confirming import, and the dry run a confirming import commits.
    commit_of     text REFERENCES import_job (id) ON DELETE SET NULL,
    river_job_id  bigint,
    -- host:pid of the server running it, so that a server restarting on that host can tell the
    -- imports it was running when it stopped.
    running_on    text,
    started_at    timestamptz NOT NULL DEFAULT now(),
    ended_at      timestamptz
);
-- A dry run is committed at most once.
CREATE UNIQUE INDEX import_job_commit_of_key ON import_job (commit_of) WHERE commit_of IS NOT NULL;
-- Cleaning finds ended jobs by age, and unfinished ones.
CREATE INDEX import_job_ended_idx ON import_job (ended_at);
CREATE INDEX import_job_unfinished_idx ON import_job (state) WHERE state IN ('queued', 'running');
