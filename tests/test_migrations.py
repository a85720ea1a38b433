"""`agentledger migrate` builds the schema on an empty database and is a no-op the second time."""

from __future__ import annotations

import os
import subprocess
import sys

import asyncpg

from agentledger.platform.devstack import ensure_database

EXPECTED_TABLES = {"users", "workspaces", "memberships", "invitations", "api_tokens", "audit_events", "email_outbox"}


async def test_migrate_from_zero_then_again():
    url = await ensure_database(os.environ["TEST_ADMIN_DATABASE_URL"], "agentledger_migrate_check", fresh=True)
    env = {**os.environ, "DATABASE_URL": url}
    for _ in range(2):
        result = subprocess.run([sys.executable, "-m", "agentledger.platform.cli", "migrate"], env=env,
                                capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stderr
        assert "database is up to date" in result.stdout
    conn = await asyncpg.connect(url)
    try:
        tables = {r["tablename"] for r in await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname='public'")}
        constraints = {r["conname"] for r in await conn.fetch("SELECT conname FROM pg_constraint")}
    finally:
        await conn.close()
    assert EXPECTED_TABLES <= tables
    assert "memberships_workspace_user_key" in constraints
