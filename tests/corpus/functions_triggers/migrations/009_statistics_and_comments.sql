create statistics accounts_owner_flavour (dependencies) on owner, flavour from accounts;
comment on function deposit(bigint, positive_money) is
    'Adds to the balance; logs an event -- never negative';
comment on column accounts."Größe" is 'Größe (size), in German';
insert into account_events (account_id, kind, amount)
    select id, 'check', balance from accounts order by id -- 008 set replica; not here
