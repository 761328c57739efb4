refresh materialized view inventory.stock_by_reason;
analyze inventory.movements;
