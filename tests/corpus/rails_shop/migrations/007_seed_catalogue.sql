INSERT INTO "products" ("name", "sku", "price_cents", "description", "created_at", "updated_at") VALUES
  ('Crème brûlée torch', 'TORCH-1', 2499, 'Butane; refillable -- not included', '2023-03-01', '2023-03-01'),
  ('O''Reilly cookbook', 'BOOK-7', 3900, E'Second edition\nwith an index', '2023-03-01', '2023-03-01'),
  ('Tea "Earl Grey"', 'TEA-2', 650, NULL, '2023-03-01', '2023-03-01');
INSERT INTO "schema_migrations" (version) VALUES ('20230301090000');
