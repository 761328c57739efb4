CREATE TABLE "products" (
  "id" bigserial primary key,
  "name" character varying NOT NULL,
  "sku" character varying NOT NULL,
  "price_cents" integer DEFAULT 0 NOT NULL,
  "price_currency" character varying DEFAULT 'EUR' NOT NULL,
  "description" text,
  "created_at" timestamp(6) NOT NULL,
  "updated_at" timestamp(6) NOT NULL
) -- Rails prints the options hash here; nothing to add
;
CREATE UNIQUE INDEX "index_products_on_sku" ON "products" ("sku");
INSERT INTO "schema_migrations" (version) VALUES ('20230110093000');
