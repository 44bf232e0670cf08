-- Supervision of active codes (issue 14): each code is visited every supervision_months
-- (twice a year by default); a visit is an inspection of the code's area or packing house.
ALTER TABLE market_code ADD COLUMN supervision_months smallint NOT NULL DEFAULT 6;
ALTER TABLE market_code ADD CONSTRAINT market_code_supervision_months_check CHECK (supervision_months BETWEEN 1 AND 36);
CREATE INDEX inspection_code_idx ON inspection (market_code_id, inspected_on DESC) WHERE market_code_id IS NOT NULL;
