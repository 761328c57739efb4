/* 002: accounts, with a comment /* nested; */ that holds ; and -- */
create table accounts (
    id          bigint generated always as identity primary key,
    owner       email not null,
    balance     numeric(12, 2) not null default 0,
    home        address,
    flavour     "weird;type--name" not null default 'a;b',
    "Größe"     text default 'ünïcödé',
    updated_at  timestamptz not null default now()
);
create table account_events (
    id          bigint generated always as identity primary key,
    account_id  bigint not null references accounts (id) on delete cascade,
    kind        text not null,
    amount      numeric(12, 2),
    at          timestamptz not null default now()
);
