-- The data_migrate gem adds a column to Rails' own history table.  Unqualified: it must
-- change Rails' table, never storedb's.
ALTER TABLE schema_migrations ADD COLUMN data_version character varying;
CREATE TABLE "data_migrations" ("version" character varying NOT NULL PRIMARY KEY);
INSERT INTO "schema_migrations" (version) VALUES ('20230201080000');
