"""The rule table: every rule's id, severity, what it flags, why, and the safe rewrite.

The table is the single source for the CLI's messages, the README's rule table
(``tools``-free: README copies it) and the suppression check (an unknown id in
``-- storedb:lint-ignore`` is itself a finding).  ``error`` findings make
``migrate --lint`` refuse to run; ``warning`` findings are reported (exit 3
from ``storedb lint``) but do not stop a migration.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Rule:
    id: str
    severity: Severity
    what: str
    why: str
    fix: str
    squawk: str = ""  # the closest squawk rule(s), for the README comparison


_TABLE = [
    # -- locks and rewrites on tables that existed before the file -----------------
    Rule("create-index-not-concurrent", "error",
         "CREATE INDEX without CONCURRENTLY on a table that existed before the file",
         "holds a SHARE lock for the whole build: INSERT/UPDATE/DELETE wait",
         "create index concurrently if not exists ... in a '-- storedb:no-transaction' "
         "file, after drop index concurrently if exists ...",
         "require-concurrent-index-creation"),
    Rule("drop-index-not-concurrent", "error",
         "DROP INDEX without CONCURRENTLY (index not created in the same file)",
         "takes ACCESS EXCLUSIVE on the index's table: every read and write waits",
         "drop index concurrently if exists ... in a '-- storedb:no-transaction' file",
         "require-concurrent-index-deletion"),
    Rule("reindex-not-concurrent", "error",
         "REINDEX without CONCURRENTLY",
         "blocks writes (and reads using the index) for the whole rebuild",
         "reindex index concurrently ... in a '-- storedb:no-transaction' file", ""),
    Rule("volatile-default", "error",
         "ADD COLUMN on an existing table with a volatile default (random(), "
         "gen_random_uuid(), clock_timestamp(), nextval()/serial, identity, stored generated)",
         "every row is rewritten under ACCESS EXCLUSIVE (a constant or stable default such "
         "as now() is stored once in the catalog instead)",
         "add the column without a default (or with a constant), set the default in a "
         "second statement, backfill in batches, then add NOT NULL the safe way",
         "adding-field-with-default, adding-serial-primary-key-field"),
    Rule("add-required-column", "error",
         "ADD COLUMN ... NOT NULL without a default on an existing table",
         "fails as soon as the table has a row (and old code inserting without it breaks)",
         "add it nullable (or with a constant default), backfill, then set NOT NULL the "
         "safe way", "adding-required-field"),
    Rule("alter-column-type", "error",
         "ALTER COLUMN ... TYPE on an existing table (except to text or unbounded varchar)",
         "most type changes rewrite the table and its indexes under ACCESS EXCLUSIVE",
         "add a new column, backfill it in batches, switch the code, drop the old column "
         "later (measure a binary-coercible change with --measure)",
         "changing-column-type"),
    Rule("set-not-null", "error",
         "SET NOT NULL on an existing table without a validated CHECK (col is not null)",
         "scans the whole table under ACCESS EXCLUSIVE",
         "add constraint c check (col is not null) not valid; then, in a later file, "
         "validate constraint c; then set not null (PostgreSQL 12+ skips the scan)",
         "adding-not-nullable-field"),
    Rule("constraint-not-valid", "error",
         "ADD FOREIGN KEY or CHECK on an existing table without NOT VALID",
         "validates every row while holding SHARE ROW EXCLUSIVE (FK, on both tables) or "
         "ACCESS EXCLUSIVE (CHECK)",
         "add constraint ... not valid; then validate constraint ... in a later file "
         "(validation takes only SHARE UPDATE EXCLUSIVE)",
         "adding-foreign-key-constraint, constraint-missing-not-valid"),
    Rule("validate-in-same-transaction", "error",
         "VALIDATE CONSTRAINT in the same transactional file that added it NOT VALID",
         "the ADD's strong lock is still held while the validation scans the table",
         "move validate constraint ... to a later file", "constraint-missing-not-valid"),
    Rule("unique-without-index", "error",
         "ADD UNIQUE or PRIMARY KEY on an existing table without USING INDEX",
         "builds the index under ACCESS EXCLUSIVE: every read and write waits",
         "create unique index concurrently ... (no-transaction file), then add constraint "
         "... unique using index ... / primary key using index ...",
         "disallowed-unique-constraint"),
    Rule("rename", "error", "RENAME of a table or column that existed before the file",
         "the running application still uses the old name and breaks at once",
         "add the new column (or a view for a table), write both, switch readers, drop the "
         "old name in a later release", "renaming-column, renaming-table"),
    Rule("drop-column", "error", "DROP COLUMN of a table that existed before the file",
         "destroys data; code still selecting the column breaks",
         "stop using the column in a release first, then drop it in a migration of its own "
         "(with a backup)", "ban-drop-column"),
    Rule("drop-table", "error", "DROP TABLE (or DROP SCHEMA / DATABASE) not created in the file",
         "destroys data irrecoverably; code still using it breaks",
         "stop using it in a release first, rename it away, drop it later with a backup",
         "ban-drop-table, ban-drop-database"),
    Rule("table-rewrite", "error", "VACUUM FULL or CLUSTER",
         "rewrites the whole table under ACCESS EXCLUSIVE: every read and write waits",
         "plain vacuum, or pg_repack / pg_squeeze outside the migration", ""),
    Rule("lock-table", "error", "LOCK TABLE",
         "an explicit lock held to the end of the file's transaction; in the default "
         "ACCESS EXCLUSIVE mode even reads wait",
         "remove it: rely on the statements' own locks and the runner's lock_timeout", ""),
    # -- types --------------------------------------------------------------------------
    Rule("int-key", "warning",
         "integer / smallint / serial key (primary key, identity or serial column)",
         "int4 runs out at 2.1 billion; changing the type later rewrites the table and "
         "every referencing table",
         "bigint generated always as identity (or uuid)",
         "prefer-bigint-over-int, prefer-bigint-over-smallint, prefer-identity"),
    Rule("timestamp-without-tz", "warning", "timestamp without time zone",
         "stores wall-clock time without its zone: values are ambiguous across zones and "
         "DST",
         "timestamptz", "prefer-timestamptz"),
    Rule("char-length", "warning", "char(n) / varchar(n)",
         "char pads with blanks; changing varchar's length later can rewrite; the limit "
         "belongs in a CHECK that can be changed NOT VALID",
         "text with check (length(col) <= n)", "ban-char-field, prefer-text-field"),
    # -- no-transaction files must be safe to run again -----------------------------------
    Rule("concurrently-not-idempotent", "error",
         "CREATE INDEX CONCURRENTLY without IF NOT EXISTS, DROP INDEX CONCURRENTLY without "
         "IF EXISTS",
         "a no-transaction file that failed half-way is run again from its first "
         "statement, which then fails on what the first run did",
         "create index concurrently if not exists ... / drop index concurrently if exists ...",
         "prefer-robust-stmts"),
    Rule("invalid-index-leftover", "error",
         "CREATE INDEX CONCURRENTLY not preceded by DROP INDEX CONCURRENTLY IF EXISTS of the "
         "same (named) index",
         "a failed concurrent build leaves an INVALID index behind; IF NOT EXISTS then skips "
         "it and the table keeps a useless index that still slows writes",
         "drop index concurrently if exists <name>; create index concurrently if not exists "
         "<name> ...", ""),
    Rule("no-transaction-data-change", "error",
         "INSERT / UPDATE / DELETE / MERGE in a no-transaction file (except INSERT ... ON "
         "CONFLICT DO NOTHING)",
         "each statement commits on its own: a re-run after a failure repeats the data "
         "change", "move the data change into a transactional file (or make it idempotent "
         "and suppress with a reason)", ""),
    # -- tenancy ------------------------------------------------------------------------
    Rule("tenant-rls", "error",
         "a new table with store_id without row level security enabled and forced and the "
         "isolation policy (store_id = get_current_store_id()) in the same file; a second "
         "permissive policy; disabling RLS on a tenant table",
         "without them every store sees every other store's rows",
         "alter table t enable row level security; alter table t force row level security; "
         "create policy t_store_isolation on t using (store_id = get_current_store_id()) "
         "with check (store_id = get_current_store_id());", ""),
    Rule("tenant-key", "error",
         "a tenant table's primary key, unique key or foreign key to another tenant table "
         "without store_id",
         "a key without store_id is global (one store's value blocks another's) and a "
         "foreign key without it can point at another store's row",
         "primary key (store_id, id); unique (store_id, ...); foreign key (store_id, x_id) "
         "references x (store_id, id)", ""),
    Rule("tenant-index", "error",
         "an index (or key) on a tenant table not led by store_id",
         "every query of the application is scoped to one store: the index is scanned "
         "across all stores",
         "create index ... on t (store_id, ...); a deliberately global index carries "
         "comment on index ... is 'storedb:global-unique: <why>'", ""),
    Rule("definer-search-path", "error",
         "a SECURITY DEFINER function whose search_path is not pinned with pg_temp last",
         "unpinned, or with pg_temp implicitly first, a caller can shadow the tables and "
         "functions it uses with its own and run code or write rows as the definer",
         "... security definer set search_path = pg_catalog, public, pg_temp", ""),
    Rule("grant-public", "error", "GRANT ... TO PUBLIC (also in ALTER DEFAULT PRIVILEGES)",
         "every role, including other tenants' logins, gets the privilege",
         "grant to storedb_app (or the role that needs it)", ""),
    # -- measured mode (--measure) --------------------------------------------------------
    Rule("measured-lock", "error",
         "measured: the statement took a lock that blocks everyday statements on an "
         "existing table (warning when the table is empty)",
         "the lock is held until the file's transaction ends; the row count says how long "
         "that will be in production",
         "the rule's safe rewrite (concurrently, not valid, using index, batches)", ""),
    Rule("measured-rewrite", "error",
         "measured: the statement rewrote an existing table (relfilenode changed)",
         "a rewrite copies every row under ACCESS EXCLUSIVE",
         "an additive change (new column, backfill in batches, switch)", ""),
    Rule("measure-failed", "error",
         "measured: the file failed or timed out waiting for a lock when run (rolled back)",
         "it would fail (or queue in front of the application) in the real migration too",
         "fix the statement; for a lock timeout, run when the blocking transaction is gone",
         ""),
    # -- the linter itself ----------------------------------------------------------------
    Rule("parse-error", "error", "the file cannot be used (syntax error, forbidden statement)",
         "migrate would refuse it before running anything", "fix the file as the message says",
         ""),
    Rule("suppression-without-reason", "error",
         "-- storedb:lint-ignore (or a baseline line) without a rule id and a reason",
         "an unexplained suppression cannot be reviewed",
         "-- storedb:lint-ignore RULE why this is safe here", ""),
    Rule("unknown-rule", "error", "-- storedb:lint-ignore names a rule that does not exist",
         "a typo would silently suppress nothing", "use an id from the rule table", ""),
]

RULES: dict[str, Rule] = {r.id: r for r in _TABLE}
