-- 003: PL/pgSQL with nested dollar quotes, semicolons in strings, and dynamic SQL
create or replace function deposit(p_account bigint, p_amount positive_money)
returns numeric
language plpgsql
as $fn$
declare
    v_balance numeric;
begin
    update accounts set balance = balance + p_amount, updated_at = now()
     where id = p_account
    returning balance into v_balance;
    if not found then
        raise exception 'no account %; nothing deposited', p_account;
    end if;
    insert into account_events (account_id, kind, amount) values (p_account, 'deposit', p_amount);
    execute format($q$comment on table %I is %L$q$, 'account_events',
                   'Last deposit: ' || p_amount || '; see $$ in logs');
    return v_balance;
end;
$fn$;

create function touch_updated_at() returns trigger language plpgsql as $$
begin
    new.updated_at := now(); -- keep; as is
    return new;
end $$;
