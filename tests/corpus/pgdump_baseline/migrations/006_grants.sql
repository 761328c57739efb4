-- Privileges as pg_dump writes them (roles created if missing, idempotently).
DO $do$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'inventory_reader') THEN
        CREATE ROLE inventory_reader NOLOGIN;
    END IF;
END
$do$;

GRANT USAGE ON SCHEMA inventory TO inventory_reader;
GRANT SELECT ON TABLE inventory.items TO inventory_reader;
GRANT SELECT ON TABLE inventory.stock TO inventory_reader;
REVOKE ALL ON FUNCTION inventory.stock_level(integer) FROM PUBLIC;
GRANT ALL ON FUNCTION inventory.stock_level(integer) TO inventory_reader;
