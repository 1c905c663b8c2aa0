-- Size and modification time of each source file: an unchanged file is skipped without being
-- opened, so a refresh of an unchanged catalog costs one stat per file.
ALTER TABLE sources ADD COLUMN modified_ns BIGINT NOT NULL DEFAULT 0;
ALTER TABLE sources ADD COLUMN size BIGINT NOT NULL DEFAULT 0;
