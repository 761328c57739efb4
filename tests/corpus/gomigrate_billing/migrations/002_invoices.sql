-- 000002_invoices.up.sql
CREATE TABLE IF NOT EXISTS invoices (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    customer_id  UUID NOT NULL REFERENCES customers (id) ON DELETE RESTRICT,
    number       TEXT NOT NULL UNIQUE,
    status       invoice_status NOT NULL DEFAULT 'draft',
    currency     CHAR(3) NOT NULL DEFAULT 'EUR' CHECK (currency ~ '^[A-Z]{3}$'),
    issued_on    DATE,
    due_on       DATE,
    CONSTRAINT invoices_due_after_issue CHECK (due_on IS NULL OR issued_on IS NULL OR due_on >= issued_on)
);

CREATE INDEX IF NOT EXISTS invoices_customer_id_idx ON invoices (customer_id);
CREATE INDEX IF NOT EXISTS invoices_open_idx ON invoices (due_on) WHERE status = 'open';
