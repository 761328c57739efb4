"""The header a new migration file starts with: what reviewers expect to read."""

from __future__ import annotations


def header(name: str) -> str:
    return f"""-- {name}
--
-- Purpose:   <what this migration does and why>
-- Creates:   <tables, indexes, functions>
-- Changes:   <existing objects it alters>
-- Depends:   <earlier files it relies on>
-- Locks:     <which locks, on what, for how long; new tables lock nothing existing>
-- Undo:      <the future migration that would reverse it; never edit this file once applied>
--
-- Tenant tables: store_id uuid not null, keys and indexes lead with store_id,
-- RLS enabled + forced with one store_isolation policy (see infra/db/README.md).
-- Runs in one transaction with its history row. For CREATE INDEX CONCURRENTLY,
-- put it in a file of its own with the line: -- storedb:no-transaction

"""
