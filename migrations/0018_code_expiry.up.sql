-- Codes expire (issue 14): a code whose valid_to has passed is expired, at once in every read
-- (code_status) and in its row once the expiry job has run (it writes the event too).

ALTER TABLE market_code DROP CONSTRAINT market_code_status_check;
ALTER TABLE market_code ADD CONSTRAINT market_code_status_check
    CHECK (status IN ('draft', 'submitted', 'inspected', 'active', 'suspended', 'expired', 'revoked'));
-- The constraint of 0005 had no name of its own; named, its message can say what is wrong.
ALTER TABLE market_code DROP CONSTRAINT market_code_check1;
ALTER TABLE market_code ADD CONSTRAINT market_code_validity_check
    CHECK (valid_to IS NULL OR valid_from IS NULL OR valid_to >= valid_from);

-- The day in Vietnam: codes are valid "to" a date on Vietnamese calendars.
CREATE FUNCTION vn_today() RETURNS date LANGUAGE sql STABLE
    RETURN (now() AT TIME ZONE 'Asia/Ho_Chi_Minh')::date;

-- code_status is a code's status today: an active code whose valid_to has passed is expired
-- even before the expiry job has written it so.
CREATE FUNCTION code_status(status text, valid_to date) RETURNS text LANGUAGE sql STABLE
    RETURN CASE WHEN status = 'active' AND valid_to < vn_today() THEN 'expired' ELSE status END;

-- Active codes by the day they end, for the expiry job.
CREATE INDEX market_code_active_valid_to_idx ON market_code (valid_to) WHERE status = 'active';
