ALTER TABLE "users" ADD "orders_count" integer DEFAULT 0 NOT NULL;
UPDATE "users" SET "orders_count" = (SELECT count(*) FROM "orders" WHERE "orders"."user_id" = "users"."id");
ALTER TABLE "products" ADD "line_items_count" integer DEFAULT 0 NOT NULL;
INSERT INTO "schema_migrations" (version) VALUES ('20230215143000');
