-- 000009_audit.up.sql: unqualified, so it must land in public whatever 008 set
CREATE TABLE IF NOT EXISTS audit_events (
    id       BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at       TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    day      TEXT NOT NULL DEFAULT to_char(TIMESTAMPTZ '2024-03-10 04:30:00+00', 'YYYY-MM-DD HH24'),
    payload  JSONB NOT NULL DEFAULT '{}'::JSONB
);
INSERT INTO audit_events (payload) VALUES ('{"event": "migrated; ok", "by": "golang-migrate"}')
