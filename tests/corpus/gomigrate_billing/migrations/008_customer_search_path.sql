-- 000008_reporting_schema.up.sql: a file that changes its session's search_path.
-- psql starts the next file in a new session; storedb must too.
CREATE SCHEMA IF NOT EXISTS reporting;
SET search_path = reporting, public;
CREATE TABLE monthly_revenue (
    month   DATE PRIMARY KEY,
    revenue NUMERIC(16, 2) NOT NULL
);
SET TIME ZONE 'America/New_York';
SET client_min_messages = warning;
