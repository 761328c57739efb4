-- 001: domains and composite types used by the functions below
create domain email as text check (value ~ '^[^@\s]+@[^@\s]+$');
create domain positive_money as numeric(12, 2) check (value > 0);
create type address as (street text, city text, postcode text, country char(2));
create type "weird;type--name" as enum ('a;b', 'c--d', 'e''f', $$g$$);
comment on domain email is 'An e-mail address; validated loosely -- on purpose';
