-- 000004_payments.up.sql (written on Windows)
CREATE TABLE IF NOT EXISTS payments (
    id          BIGINT GENERATED ALWAYS AS IDENTITY,
    invoice_id  BIGINT NOT NULL REFERENCES invoices (id),
    paid_at     TIMESTAMPTZ NOT NULL,
    amount      NUMERIC(14, 2) NOT NULL CHECK (amount > 0),
    note        TEXT NOT NULL DEFAULT 'line one
line two',
    PRIMARY KEY (id, paid_at)
) PARTITION BY RANGE (paid_at);

CREATE TABLE IF NOT EXISTS payments_2024 PARTITION OF payments
    FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
CREATE TABLE IF NOT EXISTS payments_2025 PARTITION OF payments
    FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
