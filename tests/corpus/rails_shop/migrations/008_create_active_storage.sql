-- active_storage:install
CREATE TABLE "active_storage_blobs" (
  "id" bigserial primary key, "key" character varying NOT NULL, "filename" character varying NOT NULL,
  "content_type" character varying, "metadata" text, "service_name" character varying NOT NULL,
  "byte_size" bigint NOT NULL, "checksum" character varying, "created_at" timestamp(6) NOT NULL);
CREATE UNIQUE INDEX "index_active_storage_blobs_on_key" ON "active_storage_blobs" ("key");
CREATE TABLE "active_storage_attachments" (
  "id" bigserial primary key, "name" character varying NOT NULL, "record_type" character varying NOT NULL,
  "record_id" bigint NOT NULL, "blob_id" bigint NOT NULL, "created_at" timestamp(6) NOT NULL,
  CONSTRAINT "fk_rails_c3b3935057" FOREIGN KEY ("blob_id") REFERENCES "active_storage_blobs" ("id"));
CREATE UNIQUE INDEX "index_active_storage_attachments_uniqueness"
  ON "active_storage_attachments" ("record_type", "record_id", "name", "blob_id");
INSERT INTO "schema_migrations" (version) VALUES ('20230320101010');
