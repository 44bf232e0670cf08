-- API tokens for machine clients. Only a SHA-256 of the secret is stored: the secret is shown
-- once, at creation. Tokens carry 256 random bits, so a fast hash is enough (no salt needed).
CREATE TABLE api_token (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name         text NOT NULL CHECK (name ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$'),
    token_hash   bytea NOT NULL CHECK (length(token_hash) = 32),
    -- The first characters of the secret, so a person can tell tokens apart.
    prefix       text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_used_at timestamptz,
    revoked_at   timestamptz
);
-- Authentication looks a token up by its hash.
CREATE UNIQUE INDEX api_token_hash_key ON api_token (token_hash);
-- One live token per name (a revoked name may be reused).
CREATE UNIQUE INDEX api_token_name_key ON api_token (name) WHERE revoked_at IS NULL;

-- The audit log: who did what, when, to which object, and what it was before and after. Written
-- in the same transaction as the change. Append-only: a trigger refuses updates and deletes.
CREATE TABLE audit_log (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at            timestamptz NOT NULL DEFAULT now(),
    actor         text NOT NULL,          -- 'token:importer', 'user:42', 'system:demo'
    actor_role    text,
    action        text NOT NULL,          -- 'plot.create', 'plot.update', ...
    outcome       text NOT NULL DEFAULT 'ok' CHECK (outcome IN ('ok', 'rejected', 'denied')),
    reason        text,
    object_type   text NOT NULL,
    object_id     text,
    province_code text,
    request_id    text,
    before        jsonb,
    after         jsonb
);
-- An object's story.
CREATE INDEX audit_log_object_idx ON audit_log (object_type, object_id, at);
-- Officers read their province's log.
CREATE INDEX audit_log_province_idx ON audit_log (province_code, at);
-- Time-range reads of an append-only table: a BRIN index is tiny and enough.
CREATE INDEX audit_log_at_brin ON audit_log USING brin (at);

CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER audit_log_no_update BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
