-- The first migration after the baseline: the dumps above emptied search_path and set
-- session_replication_role in their sessions; none of it may reach this file.
create table locations (
    id    integer generated always as identity primary key,
    name  text not null unique
);
create table item_locations (
    item_id      integer not null references inventory.items (id),
    location_id  integer not null references locations (id),
    primary key (item_id, location_id)
);
insert into locations (name) values ('Hall A'), ('Hall B');
