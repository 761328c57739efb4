-- 20230104101500_create_users.rb, as `rails db:migrate:status` would have run it
CREATE TABLE "users" (
  "id" bigserial primary key,
  "email" character varying DEFAULT '' NOT NULL,
  "encrypted_password" character varying DEFAULT '' NOT NULL,
  "reset_password_token" character varying,
  "sign_in_count" integer DEFAULT 0 NOT NULL,
  "created_at" timestamp(6) NOT NULL,
  "updated_at" timestamp(6) NOT NULL
);
CREATE UNIQUE INDEX "index_users_on_email" ON "users" ("email");
CREATE UNIQUE INDEX "index_users_on_reset_password_token" ON "users" ("reset_password_token");
INSERT INTO "schema_migrations" (version) VALUES ('20230104101500');
