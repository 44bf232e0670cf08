DROP FUNCTION IF EXISTS eudr_split_holes(geometry);
DROP TABLE IF EXISTS eudr_export;
DELETE FROM upload WHERE purpose = 'export';

-- Uploads go back to what they were for before, whatever other migrations added meanwhile.
DO $$
DECLARE
    allowed text[];
BEGIN
    SELECT array_agg(DISTINCT m[1] ORDER BY m[1]) INTO allowed
    FROM pg_constraint c, regexp_matches(pg_get_constraintdef(c.oid), '''([^'']+)''', 'g') m
    WHERE c.conrelid = 'upload'::regclass AND c.conname = 'upload_purpose_check' AND m[1] <> 'export';
    ALTER TABLE upload DROP CONSTRAINT IF EXISTS upload_purpose_check;
    EXECUTE format('ALTER TABLE upload ADD CONSTRAINT upload_purpose_check CHECK (purpose = ANY (%L::text[]))',
        coalesce(allowed, ARRAY['attachment', 'import']));
END $$;
