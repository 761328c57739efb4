do $$
declare
    r record;
begin
    for r in select id from accounts loop
        perform deposit(r.id, 1.50);
    end loop;
end
$$;

DO LANGUAGE plpgsql $migrate$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_indexes WHERE indexname = 'account_events_account_id_idx') THEN
        EXECUTE 'CREATE INDEX account_events_account_id_idx ON account_events (account_id)';
    END IF;
END
$migrate$;

	-- a tab-indented statement, and E'' strings with escaped quotes
	insert into account_events (account_id, kind, amount)
	values (1, E'it\'s a \"note\"; with\ttabs', null);
