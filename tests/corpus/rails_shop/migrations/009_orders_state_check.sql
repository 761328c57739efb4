ALTER TABLE "orders" ADD CONSTRAINT "orders_state_check"
  CHECK (state IN ('cart', 'placed', 'paid', 'shipped', 'canceled')) NOT VALID;
ALTER TABLE "orders" VALIDATE CONSTRAINT "orders_state_check";
INSERT INTO "schema_migrations" (version) VALUES ('20230402111500') -- last line has no semicolon
