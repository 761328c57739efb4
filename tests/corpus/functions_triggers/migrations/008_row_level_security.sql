alter table accounts enable row level security;
create policy accounts_owner on accounts
    using (owner = current_setting('app.user_email', true)::email);
create policy accounts_admin on accounts to public
    using (current_setting('app.is_admin', true) = 'on')
    with check (current_setting('app.is_admin', true) = 'on');
-- the file's session setting must not reach the next file
select set_config('app.user_email', 'first@example.com', false);
set session_replication_role = replica;
