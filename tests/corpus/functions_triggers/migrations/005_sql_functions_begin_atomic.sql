-- 005: SQL-standard function bodies (PostgreSQL 14+): the ';' inside belong to the body
create function account_total(p_account bigint) returns numeric
    language sql stable
begin atomic
    select coalesce(sum(amount), 0) from account_events where account_id = p_account;
end;

create procedure open_account(p_owner email, p_first numeric)
    language sql
begin atomic
    insert into accounts (owner) values (p_owner);
    insert into account_events (account_id, kind, amount)
        select max(id), 'open', p_first from accounts;
end;

call open_account('first@example.com', 10);
