-- Rails keeps its own history in public.schema_migrations and ar_internal_metadata.
-- A database adopted by storedb still has them; storedb's history must never meet them.
CREATE TABLE "schema_migrations" ("version" character varying NOT NULL PRIMARY KEY);
CREATE TABLE "ar_internal_metadata" (
  "key" character varying NOT NULL PRIMARY KEY,
  "value" character varying,
  "created_at" timestamp(6) NOT NULL,
  "updated_at" timestamp(6) NOT NULL
);
INSERT INTO "ar_internal_metadata" ("key", "value", "created_at", "updated_at")
VALUES ('environment', 'production', '2023-01-01 00:00:00', '2023-01-01 00:00:00');
