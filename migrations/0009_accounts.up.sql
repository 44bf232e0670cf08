-- People who sign in. Officers have jurisdictions (provinces, or communes of a province);
-- cooperative, exporter and farmer accounts speak for one producer (the cooperative, the
-- exporting enterprise, the household).
CREATE TABLE app_user (
    id                   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    username             text CHECK (username ~ '^[a-z0-9][a-z0-9._-]{1,63}$'),
    phone                text CHECK (phone ~ '^\+84[0-9]{9,10}$'),
    display_name         text NOT NULL CHECK (display_name <> ''),
    role                 text NOT NULL CHECK (role IN ('admin', 'officer', 'cooperative', 'exporter', 'farmer')),
    -- argon2id in PHC format: $argon2id$v=19$m=...,t=...,p=...$salt$hash
    password_hash        text NOT NULL CHECK (password_hash LIKE '$argon2id$%'),
    must_change_password boolean NOT NULL DEFAULT false,
    producer_id          bigint REFERENCES producer (id),
    disabled_at          timestamptz,
    last_login_at        timestamptz,
    version              integer NOT NULL DEFAULT 1 CHECK (version > 0),
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now(),
    created_by           text NOT NULL,
    updated_by           text NOT NULL,
    CHECK (username IS NOT NULL OR phone IS NOT NULL),
    CHECK (role <> 'farmer' OR (phone IS NOT NULL AND producer_id IS NOT NULL)),
    CHECK (role NOT IN ('cooperative', 'exporter') OR producer_id IS NOT NULL)
);
COMMENT ON COLUMN app_user.phone IS 'PERSONAL: phone number, E.164';
COMMENT ON COLUMN app_user.display_name IS 'PERSONAL: a person''s name';
-- Sign-in by user name or by phone (farmers).
CREATE UNIQUE INDEX app_user_username_key ON app_user (username) WHERE username IS NOT NULL;
CREATE UNIQUE INDEX app_user_phone_key ON app_user (phone) WHERE phone IS NOT NULL;
-- The accounts of a producer.
CREATE INDEX app_user_producer_idx ON app_user (producer_id) WHERE producer_id IS NOT NULL;

-- An officer's jurisdiction: whole provinces (commune_code '') or single communes.
CREATE TABLE user_jurisdiction (
    user_id       bigint NOT NULL REFERENCES app_user (id),
    province_code text NOT NULL CHECK (province_code ~ '^[0-9]{2}$'),
    commune_code  text NOT NULL DEFAULT '' CHECK (commune_code = '' OR commune_code ~ '^[0-9]{5}$'),
    PRIMARY KEY (user_id, province_code, commune_code)
);

-- Web sessions. Only a hash of the cookie is stored; the CSRF token is checked against the
-- X-CSRF-Token header of every state-changing request made with the cookie.
CREATE TABLE user_session (
    token_hash   bytea PRIMARY KEY CHECK (length(token_hash) = 32),
    user_id      bigint NOT NULL REFERENCES app_user (id),
    csrf_token   text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_seen_at timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL
);
-- Signing a user out everywhere (password change, disable).
CREATE INDEX user_session_user_idx ON user_session (user_id);
-- Purging expired sessions.
CREATE INDEX user_session_expires_idx ON user_session (expires_at);

-- Failed sign-ins per account and per address, in a window. Keys are SHA-256 hashes (a phone
-- number or an address is not kept here in clear). Kept in the database so that every server
-- replica sees the same counts.
CREATE TABLE auth_throttle (
    key          bytea PRIMARY KEY,
    failures     integer NOT NULL,
    window_start timestamptz NOT NULL
);

-- One-time sign-in codes for farmers (sent by SMS or Zalo).
CREATE TABLE one_time_code (
    phone      text PRIMARY KEY,
    code_hash  bytea NOT NULL,
    attempts   integer NOT NULL DEFAULT 0,
    expires_at timestamptz NOT NULL
);
COMMENT ON COLUMN one_time_code.phone IS 'PERSONAL: phone number, E.164';

-- Tokens act for a user, with the user's role and jurisdiction. Tokens made before accounts
-- existed have no user and are refused.
ALTER TABLE api_token ADD COLUMN user_id bigint REFERENCES app_user (id);
CREATE INDEX api_token_user_idx ON api_token (user_id);

-- Who acted, as an id, and where the object is, to the commune: officers read the log of
-- their jurisdiction only.
ALTER TABLE audit_log ADD COLUMN actor_user_id bigint;
ALTER TABLE audit_log ADD COLUMN commune_code text;

-- Token names are a user's own: two users may both call theirs "laptop".
DROP INDEX api_token_name_key;
CREATE UNIQUE INDEX api_token_user_name_key ON api_token (user_id, name) WHERE revoked_at IS NULL;
