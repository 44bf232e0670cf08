DROP TABLE import_job;
DROP TABLE upload_chunk;
DROP TABLE upload;
