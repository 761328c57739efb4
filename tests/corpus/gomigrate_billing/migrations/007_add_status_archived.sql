-- 000007_add_status_archived.up.sql
ALTER TYPE invoice_status ADD VALUE IF NOT EXISTS 'archived' AFTER 'void';
