ALTER TABLE ONLY inventory.items ALTER COLUMN title SET DEFAULT ''::text;
ALTER TABLE inventory.items ADD COLUMN weight_g numeric(10,1);
UPDATE inventory.items SET weight_g = CASE code WHEN 'BOLT-M8' THEN 25.3 WHEN 'NUT-M8' THEN 5.0 ELSE 1.2 END;
ALTER TABLE inventory.items ALTER COLUMN weight_g SET NOT NULL;
