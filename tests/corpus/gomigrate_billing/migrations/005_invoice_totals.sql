-- 000005_invoice_totals.up.sql
CREATE OR REPLACE VIEW invoice_totals AS
SELECT i.id, i.number, i.status, COALESCE(SUM(l.amount), 0)::NUMERIC(14, 2) AS total
FROM invoices i
LEFT JOIN invoice_lines l ON l.invoice_id = i.id
GROUP BY i.id;

COMMENT ON VIEW invoice_totals IS 'Totals per invoice; void invoices included';
