-- 000003_invoice_lines.up.sql
CREATE TABLE IF NOT EXISTS invoice_lines (
    invoice_id   BIGINT NOT NULL REFERENCES invoices (id) ON DELETE CASCADE,
    position     INT NOT NULL,
    description  TEXT NOT NULL,
    quantity     NUMERIC(12, 3) NOT NULL DEFAULT 1,
    unit_amount  NUMERIC(12, 2) NOT NULL,
    amount       NUMERIC(14, 2) GENERATED ALWAYS AS (round(quantity * unit_amount, 2)) STORED,
    PRIMARY KEY (invoice_id, position)
);
