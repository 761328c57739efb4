create trigger accounts_touch before update on accounts
    for each row when (old.* is distinct from new.*)
    execute function touch_updated_at();

create function forbid_delete() returns trigger language plpgsql as $body$
begin
    raise exception 'deleting from % is not allowed; archive instead', tg_table_name;
end
$body$;

create trigger account_events_append_only
    before delete or update on account_events
    for each statement execute function forbid_delete();
