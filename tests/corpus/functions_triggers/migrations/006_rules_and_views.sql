create view recent_events as
    select e.id, e.account_id, e.kind, e.amount from account_events e
    where e.at > timestamptz '2000-01-01';

create table event_archive (like account_events);

-- a rule with several actions: the ';' inside the parentheses do not end the statement
create rule recent_events_insert as on insert to recent_events do instead (
    insert into account_events (account_id, kind, amount)
        values (new.account_id, new.kind, new.amount);
    insert into event_archive (id, account_id, kind, amount, at)
        values (0, new.account_id, new.kind || ';archived', new.amount, '2024-01-01')
);

insert into recent_events (account_id, kind, amount) values (1, 'bonus', 5);
