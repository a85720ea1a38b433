"""`agentledger migrate` builds the schema on an empty database and is a no-op the second time, and what
it builds is what the table classes say, for every table (executions, wallets and the ledger included).

The comparison is with a database made straight from the classes (Piccolo's CREATE TABLE for each):
columns (name, type, null, default), constraints and indexes must match exactly, by name and definition.
The migrated schema has more: what SQL-only migrations add (checks, partial indexes, triggers such as the
ledger's append-only guard) cannot be said by a column. Each of those extras must be named in a migration
file, so nothing in the schema comes from nowhere and nothing a class declares is missing.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import asyncpg
import pytest
from piccolo.conf.apps import Finder
from piccolo.table import sort_table_classes

from agentledger.platform.devstack import ensure_database

MIGRATIONS = Path(__file__).resolve().parents[1] / "migrations"
COLUMNS = """SELECT table_name, column_name, data_type, udt_name, is_nullable, column_default
             FROM information_schema.columns WHERE table_schema = 'public' AND table_name <> 'migration'"""
CONSTRAINTS = """SELECT conrelid::regclass::text AS on_table, conname AS name, pg_get_constraintdef(oid) AS definition
                 FROM pg_constraint WHERE connamespace = 'public'::regnamespace
                 AND conrelid::regclass::text <> 'migration'"""
INDEXES = """SELECT tablename AS on_table, indexname AS name, indexdef AS definition FROM pg_indexes
             WHERE schemaname = 'public' AND tablename <> 'migration'"""
TRIGGERS = """SELECT tgrelid::regclass::text AS on_table, tgname AS name, pg_get_triggerdef(oid) AS definition
              FROM pg_trigger WHERE NOT tgisinternal"""


async def _schema(url: str) -> dict[str, set[tuple]]:
    conn = await asyncpg.connect(url)
    try:
        return {kind: {tuple(r.values()) for r in await conn.fetch(sql)}
                for kind, sql in (("columns", COLUMNS), ("constraints", CONSTRAINTS), ("indexes", INDEXES),
                                  ("triggers", TRIGGERS))}
    finally:
        await conn.close()


async def _from_the_classes(url: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        for table in sort_table_classes(Finder().get_table_classes()):
            for statement in table.create_table().ddl:
                await conn.execute(statement)
    finally:
        await conn.close()


async def test_migrate_from_zero_then_again_builds_what_the_tables_declare():
    admin = os.environ["TEST_ADMIN_DATABASE_URL"]
    url = await ensure_database(admin, "agentledger_migrate_check", fresh=True)
    env = {**os.environ, "DATABASE_URL": url}
    for _ in range(2):
        result = subprocess.run([sys.executable, "-m", "agentledger.platform.cli", "migrate"], env=env,
                                capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stderr
        assert "database is up to date" in result.stdout
    declared_url = await ensure_database(admin, "agentledger_declared_check", fresh=True)
    await _from_the_classes(declared_url)
    migrated, declared = await _schema(url), await _schema(declared_url)

    tables = {row[0] for row in migrated["columns"]}
    assert {"executions", "execution_steps", "execution_items", "execution_logs", "wallets",
            "ledger_transfers", "users", "workspaces", "memberships"} <= tables
    assert tables == {t._meta.tablename for t in Finder().get_table_classes()}
    assert migrated["columns"] == declared["columns"]  # every column of every table, exactly
    sql_only = "\n".join(p.read_text() for p in MIGRATIONS.glob("*/*.py") if "raw_sql_migration" in p.read_text())
    for kind in ("constraints", "indexes", "triggers"):
        assert declared[kind] <= migrated[kind], f"{kind} the classes declare but migrate does not build"
        unexplained = sorted(name for _, name, _ in migrated[kind] - declared[kind]
                             if not re.search(rf"\b{re.escape(name)}\b", sql_only))
        assert unexplained == [], f"{kind} that no SQL-only migration names"
    assert ("ledger_transfers", "ledger_transfers_append_only") in {r[:2] for r in migrated["triggers"]}


async def test_the_push_in_flight_index_is_built_concurrently_and_built_again_when_a_build_was_cut_short():
    """Its migration runs outside a transaction (PostgreSQL refuses CREATE INDEX CONCURRENTLY inside one,
    so the run below would fail), so writes to the results table go on while it builds. A build cut short
    leaves the index invalid, unused by every query: running the migration again makes it whole."""
    import importlib.util

    from agentledger.platform.database import fetch

    path = MIGRATIONS / "platform" / "platform_2026_12_05t10_00_00_000000.py"
    spec = importlib.util.spec_from_file_location("applying_index_migration", path)
    assert spec is not None and spec.loader is not None
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    valid = "SELECT indisvalid AS valid FROM pg_index WHERE indexrelid = to_regclass('execution_results_applying_idx')"

    await fetch("UPDATE pg_index SET indisvalid = false WHERE indexrelid = 'execution_results_applying_idx'::regclass")
    assert await fetch(valid) == [{"valid": False}]  # what a build cut short leaves
    manager = await migration.forwards()
    await manager.run()
    assert await fetch(valid) == [{"valid": True}]


async def test_revisions_made_before_they_had_their_run_get_it_and_still_name_a_result_of_that_run():
    """An upgrade: a database whose revisions belonged to their run only through their result (the schema
    before ``platform_2026_12_05t14_00``) is migrated; each revision then names its run, a revision can
    only name a result of its own run, and it goes when its run goes."""
    admin = os.environ["TEST_ADMIN_DATABASE_URL"]
    url = await ensure_database(admin, "agentledger_revisions_upgrade", fresh=True)
    env = {**os.environ, "DATABASE_URL": url}

    def migrate() -> None:
        result = subprocess.run([sys.executable, "-m", "agentledger.platform.cli", "migrate"], env=env,
                                capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stderr

    migrate()
    conn = await asyncpg.connect(url)
    try:
        # back to the schema before, with what it allowed: a revision with no run of its own
        await conn.execute(
            "DROP TRIGGER result_revisions_same_run ON result_revisions; DROP FUNCTION result_revisions_same_run(); "
            "ALTER TABLE result_revisions DROP COLUMN execution; ALTER TABLE result_revisions ADD CONSTRAINT "
            "result_revisions_result_fkey FOREIGN KEY (result) REFERENCES execution_results (id) ON DELETE CASCADE; "
            "DELETE FROM migration WHERE name = '2026-12-05T14:00:00:000000'")
        workspace = await conn.fetchval("INSERT INTO workspaces (id, slug, name) VALUES (gen_random_uuid(), 'acme', "
                                        "'Acme') RETURNING id")
        runs = [await conn.fetchval("INSERT INTO executions (id, workspace, agent, triggered_by, status, mode, scope) "
                                    "VALUES (gen_random_uuid(), $1, 'content-writer', 'user', 'completed', 'live', 1) "
                                    "RETURNING id", workspace) for _ in range(2)]
        results = [await conn.fetchval("INSERT INTO execution_results (id, workspace, execution, kind) VALUES "
                                       "(gen_random_uuid(), $1, $2, 'content') RETURNING id", workspace, run)
                   for run in runs]
        for result in results:
            await conn.execute("INSERT INTO result_revisions (id, result, version, text) VALUES "
                               "(gen_random_uuid(), $1, 1, 'A sturdy pack')", result)

        migrate()
        found = await conn.fetch("SELECT v.execution, r.execution AS result_run FROM result_revisions v "
                                 "JOIN execution_results r ON r.id = v.result ORDER BY v.execution")
        assert [row["execution"] for row in found] == sorted(runs)
        assert all(row["execution"] == row["result_run"] for row in found)
        # a revision naming another run's result is refused, as the old foreign key refused a result that is not there
        with pytest.raises(asyncpg.ForeignKeyViolationError, match="is not a result of run"):
            await conn.execute("INSERT INTO result_revisions (id, result, execution, version, text) VALUES "
                               "(gen_random_uuid(), $1, $2, 2, 'An edit')", results[0], runs[1])
        with pytest.raises(asyncpg.ForeignKeyViolationError):
            await conn.execute("UPDATE result_revisions SET result = $1 WHERE result = $2", results[0], results[1])
        await conn.execute("DELETE FROM executions WHERE id = $1", runs[0])
        assert await conn.fetchval("SELECT count(*) FROM result_revisions WHERE execution = $1", runs[0]) == 0
        assert await conn.fetchval("SELECT count(*) FROM result_revisions WHERE execution = $1", runs[1]) == 1
    finally:
        await conn.close()
