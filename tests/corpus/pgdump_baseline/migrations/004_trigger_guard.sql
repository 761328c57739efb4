-- A trigger that must fire (session_replication_role = replica would silence it).
create function inventory.no_negative_stock() returns trigger
    language plpgsql
    set search_path = pg_catalog, inventory
as $$
begin
    if inventory.stock_level(new.item_id) + new.delta < 0 then
        raise exception 'stock of item % would go negative', new.item_id
            using errcode = 'check_violation';
    end if;
    return new;
end;
$$;

create trigger movements_no_negative_stock
    before insert on inventory.movements
    for each row execute function inventory.no_negative_stock();

insert into inventory.movements (item_id, delta, reason) values (2, 5, 'recount');
