"""The `agentledger` admin commands work against the real database and explain mistakes in one line."""

from __future__ import annotations

import os
import subprocess

import httpx

from agentledger.platform.embedded import free_port
from tests.support.processes import ROOT, cli, web_server


def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(cli(*args), capture_output=True, text=True, input=stdin, timeout=60)


async def test_create_user_workspace_member_and_token_from_the_shell(client):
    assert run("create-user", "--email", "Root@Example.com", "--name", "Root", "--password",
               "a long enough password").returncode == 0
    assert run("create-user", "--email", "helper@example.com", "--name", "Helper", "--password",
               "another long password").returncode == 0
    made = run("create-workspace", "--slug", "ops", "--name", "Operations", "--owner", "root@example.com")
    assert made.returncode == 0 and "created workspace ops" in made.stdout
    added = run("add-member", "--workspace", "ops", "--email", "helper@example.com", "--role", "member")
    assert added.returncode == 0
    token = run("create-token", "--workspace", "ops", "--email", "helper@example.com").stdout.strip()
    me = (await client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})).json()
    assert me["user"]["email"] == "helper@example.com" and me["workspaces"][0]["role"] == "member"


def test_mistakes_are_one_clear_line_and_a_failing_exit():
    short = run("create-user", "--email", "a@example.com", "--name", "A", "--password", "short")
    assert short.returncode == 1 and "password must be at least 10 characters" in short.stderr
    nobody = run("create-workspace", "--slug", "x", "--name", "X", "--owner", "ghost@example.com")
    assert nobody.returncode == 1 and "no user ghost@example.com; create it with create-user first" in nobody.stderr
    assert run("add-member", "--workspace", "nope", "--email", "a@example.com").returncode == 1


def test_readiness_reports_an_unreachable_redis():
    dead_redis = f"redis://127.0.0.1:{free_port()}/0"
    with web_server({"REDIS_URL": dead_redis}) as url:
        assert httpx.get(f"{url}/healthz").status_code == 200
        ready = httpx.get(f"{url}/readyz", timeout=10)
    assert ready.status_code == 503
    assert ready.json()["checks"] == {"database": "ok", "redis": "error: ConnectionError"}


async def test_grant_credits_from_the_shell_is_in_the_ledger_and_the_audit_log(factory):
    from agentledger.platform.scoping import resolve_scope
    from agentledger.platform.tables import AuditEvent
    from tests.support.books import assert_books_balance

    team = await factory.team()
    granted = run("grant-credits", "--workspace", "acme", "--credits", "250", "--reason", "pilot")
    assert granted.returncode == 0 and "granted 250 credits to acme: 250 available, 0 held" in granted.stdout
    assert run("grant-credits", "--workspace", "acme", "--credits", "0", "--reason", "x").returncode == 1
    assert run("grant-credits", "--workspace", "nope", "--credits", "5", "--reason", "x").returncode == 1
    books = await assert_books_balance((await resolve_scope("acme", team.admin.id)).workspace_id)
    assert books["wallet_available"] == 250 and books["external"] == -250
    event = await AuditEvent.select().where(AuditEvent.action == "credits.granted").first()
    assert event is not None and "pilot" in event["details"]


def front_door(data_dir, *args: str, **env: str) -> subprocess.CompletedProcess:
    """``./run cli …`` with only what a fresh shell has, plus ``env``."""
    bare = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "SECRET_KEY", "BASE_URL"}}
    return subprocess.run([str(ROOT / "run"), "cli", *args], cwd=ROOT, capture_output=True, text=True, timeout=120,
                          env={**bare, "AGENTLEDGER_DATA_DIR": str(data_dir), **env})


async def test_run_cli_reads_the_services_file_and_the_environment_wins(factory, tmp_path):
    """``./run demo`` writes where its services are; ``./run cli`` reads it (the demo test runs it for real)."""
    await factory.team()
    settings = {key: os.environ[key] for key in ("DATABASE_URL", "REDIS_URL", "SECRET_KEY", "BASE_URL")}
    services = tmp_path / "services.env"
    services.write_text("# a comment, then a line that is no setting\nnot a setting\n"
                        + "".join(f"{key}={value}\n" for key, value in settings.items()))
    granted = front_door(tmp_path, "grant-credits", "--workspace", "acme", "--credits", "7", "--reason", "pilot")
    assert granted.returncode == 0, granted.stderr
    assert "granted 7 credits to acme: 7 available" in granted.stdout
    services.write_text(services.read_text().replace(settings["DATABASE_URL"], "postgresql://nobody@127.0.0.1:9/x"))
    mine = front_door(tmp_path, "grant-credits", "--workspace", "acme", "--credits", "3", "--reason", "pilot",
                      DATABASE_URL=settings["DATABASE_URL"])
    assert mine.returncode == 0 and "10 available" in mine.stdout, mine.stderr
    services.unlink()
    nothing = front_door(tmp_path, "grant-credits", "--workspace", "acme", "--credits", "3", "--reason", "pilot")
    assert nothing.returncode != 0 and "start ./run demo first" in nothing.stderr
