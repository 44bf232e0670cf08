DROP INDEX IF EXISTS inspection_code_idx;
ALTER TABLE market_code DROP COLUMN supervision_months;
