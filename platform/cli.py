"""The ``agentledger`` command: run the processes and administer people from a shell.

Service commands read the same environment as the web app; ``dev`` commands (``./run demo|test|bench``)
start embedded PostgreSQL and Redis first when DATABASE_URL / REDIS_URL are not set.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Awaitable, Callable
from typing import Any

import click

from agentledger.platform.config import load_settings_or_exit


def _run(make: Callable[[], Awaitable[Any]], *, one_transaction: bool = True) -> Any:
    """Run one admin coroutine, in a transaction unless it commits its own steps (a retention pass: each
    batch is its own transaction, and batches side by side need connections of their own), printing
    AppErrors as one line."""
    from agentledger.platform.database import atomic
    from agentledger.platform.errors import AppError

    async def wrapped() -> Any:
        if not one_transaction:
            return await make()
        async with atomic():
            return await make()

    load_settings_or_exit()
    try:
        return asyncio.run(wrapped())
    except AppError as error:
        raise click.ClickException(error.message) from None


@click.group(help=__doc__)
def main() -> None:
    from agentledger.platform import logs

    logs.configure()


@main.command(help="Apply database migrations.")
def migrate() -> None:
    load_settings_or_exit()
    from agentledger.platform.migrate import migrate as run_migrations

    asyncio.run(run_migrations())
    click.echo("database is up to date")


@main.command(help="Serve the web app and API.")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=lambda: int(os.environ.get("PORT", "8000")), show_default="$PORT or 8000")
@click.option("--workers", default=1, show_default=True, help="Web processes.")
def web(host: str, port: int, workers: int) -> None:
    load_settings_or_exit()
    import uvicorn

    uvicorn.run("agentledger.web.app:create_app", factory=True, host=host, port=port, workers=workers,
                proxy_headers=True, access_log=False, log_level="warning", lifespan="on")


@main.command(help="Run Dramatiq workers for background jobs.")
@click.option("--processes", default=1, show_default=True)
@click.option("--threads", default=4, show_default=True)
def worker(processes: int, threads: int) -> None:
    load_settings_or_exit()
    os.execv(sys.executable, [sys.executable, "-m", "dramatiq", "agentledger.platform.actors",
                              "--processes", str(processes), "--threads", str(threads)])


@main.command(help="Run the periodic-job scheduler (one leader; extra replicas stand by).")
def scheduler() -> None:
    load_settings_or_exit()
    from agentledger.platform import scheduler as sched

    asyncio.run(sched.run())


@main.command("create-user", help="Create a user with a password.")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.password_option()
def create_user(email: str, name: str, password: str) -> None:
    from agentledger.platform import accounts

    account = _run(lambda: accounts.create_user(email, name, password))
    click.echo(f"created user {account.email} ({account.id})")


@main.command("create-workspace", help="Create a workspace owned (as admin) by an existing user.")
@click.option("--slug", required=True)
@click.option("--name", required=True)
@click.option("--owner", "owner_email", required=True, help="Email of the first admin.")
def create_workspace(slug: str, name: str, owner_email: str) -> None:
    from agentledger.platform import accounts, workspaces
    from agentledger.platform.errors import NotFound

    async def go() -> Any:
        owner = await accounts.find_by_email(owner_email)
        if owner is None:
            raise NotFound(f"no user {owner_email}; create it with create-user first")
        return await workspaces.create_workspace(slug, name, owner.id)

    info = _run(go)
    click.echo(f"created workspace {info.slug} ({info.id})")


@main.command("add-member", help="Add an existing user to a workspace.")
@click.option("--workspace", "slug", required=True)
@click.option("--email", required=True)
@click.option("--role", type=click.Choice(["member", "admin"]), default="member", show_default=True)
def add_member(slug: str, email: str, role: str) -> None:
    from agentledger.platform import workspaces
    from agentledger.platform.admin import lookup_workspace_and_user

    async def go() -> None:
        workspace_id, user_id = await lookup_workspace_and_user(slug, email)
        await workspaces.add_member(workspace_id, user_id, role, actor_id=None)

    _run(go)
    click.echo(f"{email} is now {role} of {slug}")


@main.command("create-token", help="Create an API token for a member; prints it once.")
@click.option("--workspace", "slug", required=True)
@click.option("--email", required=True)
@click.option("--name", default="cli", show_default=True)
def create_token(slug: str, email: str, name: str) -> None:
    from agentledger.platform import tokens
    from agentledger.platform.admin import lookup_workspace_and_user
    from agentledger.platform.scoping import resolve_scope

    async def go() -> str:
        _, user_id = await lookup_workspace_and_user(slug, email)
        _, plain = await tokens.create_token(await resolve_scope(slug, user_id), name)
        return plain

    click.echo(_run(go))


@main.command("grant-credits", help="Add credits to a workspace's wallet (audited).")
@click.option("--workspace", "slug", required=True)
@click.option("--credits", "amount", type=int, required=True, help="Whole credits, more than 0.")
@click.option("--reason", required=True, help="Why: kept in the ledger and the audit log.")
def grant_credits(slug: str, amount: int, reason: str) -> None:
    from agentledger.billing import ledger
    from agentledger.platform.admin import lookup_workspace

    async def go() -> Any:
        return await ledger.grant(await lookup_workspace(slug), amount, actor_id=None, memo=reason)

    balance = _run(go)
    click.echo(f"granted {amount} credits to {slug}: {balance.available} available, {balance.held} held"
               + (f", {balance.owed} still owed" if balance.owed else ""))


@main.command(help="Check that every workspace's ledger adds up to its wallet; exits 1 naming any that do not.")
@click.option("--workspace", "slug", default=None, help="Only this workspace.")
def reconcile(slug: str | None) -> None:
    from agentledger.billing import reconcile as books
    from agentledger.platform.admin import lookup_workspace, slugs

    async def go() -> tuple[list[books.Reconciliation], dict]:
        checked = [await books.workspace(await lookup_workspace(slug))] if slug else await books.every_workspace()
        return checked, await slugs()

    checked, names = _run(go)
    off = [r for r in checked if not r.balanced]
    for r in off:
        click.echo(f"{names.get(r.workspace_id, r.workspace_id)}: OFF: " + "; ".join(r.differences()))
    click.echo(f"{len(checked) - len(off)} of {len(checked)} workspaces balance")
    if off:
        sys.exit(1)


@main.group(help="Retention: archive runs past the workspace's policy to object storage.")
def retention() -> None:
    pass


@retention.command("run", help="One retention pass now (every workspace, or one); prints what it did.")
@click.option("--workspace", "slug", default=None, help="Only this workspace.")
@click.option("--dry-run", is_flag=True, help="Count what is due; archive and delete nothing.")
def retention_run(slug: str | None, dry_run: bool) -> None:
    from agentledger.platform.admin import lookup_workspace
    from agentledger.platform.retention import passes

    async def go() -> Any:
        from agentledger.platform.database import close_pool, start_pool

        await start_pool()  # batches side by side, each a transaction on a connection of its own
        try:
            workspace_id = await lookup_workspace(slug) if slug else None
            return await passes.run_pass(workspace_id, dry_run=dry_run, budget_seconds=None)
        finally:
            await close_pool()

    report = _run(go, one_transaction=False)
    for line in report.lines(dry_run):
        click.echo(line)
    if report.errors:
        sys.exit(1)


@main.command("demo-site", help="Serve Northwind Outfitters, the demo shop agents audit (needs no database).")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8100, show_default=True)
@click.option("--token", default=lambda: os.environ.get("DEMO_SITE_TOKEN", "demo-connector-token"),
              show_default="$DEMO_SITE_TOKEN or demo-connector-token", help="Bearer token of the change API.")
@click.option("--state-file", default=None, help="Keep applied changes in this JSON file across restarts.")
def demo_site(host: str, port: int, token: str, state_file: str | None) -> None:
    import uvicorn

    from agentledger.agents.demo_site.app import create_app

    app = create_app(token=token, state_file=state_file)
    click.echo(f"demo site on http://{host}:{port}")
    sys.stdout.flush()
    uvicorn.run(app, host=host, port=port, access_log=False, log_level="warning", timeout_graceful_shutdown=2)


@main.command(help="Serve devstripe, the Stripe-shaped server of the demo and the tests (needs no database).")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=12111, show_default=True)
@click.option("--webhook-url", default=None, help="Where events are sent (our POST /webhooks/stripe).")
@click.option("--webhook-secret", required=True, help="Signs the events (whsec_…).")
@click.option("--async-delay", default=5.0, show_default=True, help="Seconds before 'Pay later' settles by itself.")
def devstripe(host: str, port: int, webhook_url: str | None, webhook_secret: str, async_delay: float) -> None:
    import uvicorn

    from agentledger.billing.devstripe import DevStripe, create_app

    app = create_app(DevStripe(f"http://{host}:{port}", webhook_url, webhook_secret, async_delay=async_delay))
    click.echo(f"devstripe on http://{host}:{port}")
    sys.stdout.flush()
    uvicorn.run(app, host=host, port=port, access_log=False, log_level="warning", timeout_graceful_shutdown=2)


@main.command(help="Serve the demo's SMTP server: accepts every message and keeps it as an .eml file.")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8025, show_default=True)
@click.option("--folder", default=".data/mail", show_default=True, type=click.Path())
def mailcatcher(host: str, port: int, folder: str) -> None:
    from pathlib import Path

    from agentledger.notifications.mailcatcher import serve

    click.echo(f"mail catcher on smtp://{host}:{port}, keeping messages in {folder}")
    sys.stdout.flush()
    serve(host, port, Path(folder))


@main.command(help="Developer stack: demo, test or bench with embedded services (used by ./run).",
              context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
@click.argument("what", type=click.Choice(["demo", "test", "bench"]))
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def dev(what: str, args: tuple[str, ...]) -> None:
    from agentledger.platform import devstack

    sys.exit(getattr(devstack, what)(list(args)))


if __name__ == "__main__":
    main()
