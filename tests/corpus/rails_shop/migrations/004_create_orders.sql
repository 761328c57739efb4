CREATE TABLE "orders" (
  "id" bigserial primary key,
  "user_id" bigint NOT NULL,
  "state" character varying DEFAULT 'cart' NOT NULL,
  "total_cents" integer DEFAULT 0 NOT NULL,
  "placed_at" timestamp(6),
  "created_at" timestamp(6) NOT NULL,
  "updated_at" timestamp(6) NOT NULL
);
CREATE INDEX "index_orders_on_user_id" ON "orders" ("user_id");
ALTER TABLE "orders" ADD CONSTRAINT "fk_rails_f868b47f6a"
FOREIGN KEY ("user_id")
  REFERENCES "users" ("id")
;
CREATE TABLE "line_items" (
  "id" bigserial primary key,
  "order_id" bigint NOT NULL,
  "product_id" bigint NOT NULL,
  "quantity" integer DEFAULT 1 NOT NULL,
  "unit_price_cents" integer NOT NULL,
  CONSTRAINT "fk_rails_2dc6a7e9a1" FOREIGN KEY ("order_id") REFERENCES "orders" ("id"),
  CONSTRAINT "fk_rails_11e15d5c6b" FOREIGN KEY ("product_id") REFERENCES "products" ("id")
);
CREATE INDEX "index_line_items_on_order_id" ON "line_items" ("order_id");
INSERT INTO "schema_migrations" (version) VALUES ('20230112120000');
