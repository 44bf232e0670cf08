DROP INDEX IF EXISTS market_code_active_valid_to_idx;
DROP FUNCTION IF EXISTS code_status(text, date);
DROP FUNCTION IF EXISTS vn_today();
UPDATE market_code SET status = 'active' WHERE status = 'expired';
ALTER TABLE market_code DROP CONSTRAINT market_code_validity_check;
ALTER TABLE market_code ADD CONSTRAINT market_code_check1
    CHECK (valid_to IS NULL OR valid_from IS NULL OR valid_to >= valid_from);
ALTER TABLE market_code DROP CONSTRAINT market_code_status_check;
ALTER TABLE market_code ADD CONSTRAINT market_code_status_check
    CHECK (status IN ('draft', 'submitted', 'inspected', 'active', 'suspended', 'revoked'));
