SET search_path = inventory, public;

CREATE VIEW stock AS
 SELECT i.id, i.code, i.title, stock_level(i.id) AS level
   FROM items i;

COMMENT ON VIEW stock IS 'Current stock per item (from movements)';

CREATE MATERIALIZED VIEW stock_by_reason AS
 SELECT m.reason, sum(m.delta) AS total
   FROM movements m
  GROUP BY m.reason
  WITH NO DATA;
