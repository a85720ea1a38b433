"""``./run demo|test|bench``: the product on a machine with nothing running.

Starts embedded PostgreSQL and Redis (unless DATABASE_URL / REDIS_URL are set), then either the demo
(migrate, seed, web + worker + scheduler until Ctrl-C), pytest, or the benchmarks. Children get the
service URLs through their environment (and ``./run cli``, from another shell, through the demo's
``services.env``); everything is stopped on the way out.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from agentledger.platform.embedded import EmbeddedServices, free_port, start_child, stop_children, wait_for_port

ROOT = Path.cwd()
DATA = Path(os.environ.get("AGENTLEDGER_DATA_DIR", ROOT / ".data"))


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


async def ensure_database(admin_url: str, name: str, *, fresh: bool = False) -> str:
    """Create database ``name`` on the server of ``admin_url`` (dropped first when ``fresh``); answer its URL."""
    import asyncpg

    conn = await asyncpg.connect(admin_url)
    try:
        if fresh:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if not await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
            await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return with_database(admin_url, name)


def create_database(admin_url: str, name: str, *, fresh: bool = False) -> str:
    return asyncio.run(ensure_database(admin_url, name, fresh=fresh))


def _secret(folder: Path) -> str:
    path = folder / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "agentledger.platform.cli", *args]


STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def _interrupt(*_: object) -> None:
    """The first stop signal interrupts the demo; later ones (a second Ctrl-C, a service manager's
    SIGTERM after the terminal's SIGHUP) must not cut the orderly stop short."""
    for sig in STOP_SIGNALS:
        signal.signal(sig, signal.SIG_IGN)
    raise KeyboardInterrupt


def demo(args: list[str]) -> int:
    # Ctrl-C, SIGTERM and SIGHUP (the terminal closed) all stop the demo cleanly, even when it was started
    # with SIGINT ignored (as shells do for background jobs): Python then installs no handler of its own.
    # The children run in process groups of their own (embedded.start_child), so a signal to the demo's
    # group reaches only this process, which stops web, worker, scheduler and shop, then the servers.
    for sig in STOP_SIGNALS:
        signal.signal(sig, _interrupt)
    port = int(os.environ.get("PORT", "8000"))
    with EmbeddedServices(DATA, keep_files=True) as services:
        if "DATABASE_URL" in services:
            services["DATABASE_URL"] = create_database(services["DATABASE_URL"], "agentledger")
        os.environ.update(services)
        os.environ.setdefault("SECRET_KEY", _secret(DATA))
        os.environ.setdefault("BASE_URL", f"http://127.0.0.1:{port}")
        os.environ.setdefault("AGENT_ALLOW_PRIVATE_NETWORKS", "true")  # the demo's own pages are on 127.0.0.1
        _stripe_settings()
        _smtp_settings()
        from agentledger.platform.config import load_settings_or_exit
        from agentledger.platform.demo import seed
        from agentledger.platform.migrate import migrate

        settings = load_settings_or_exit()

        site = _demo_site()
        children = [site.process]
        shop = _devstripe(settings.public_url)
        if shop:
            children.append(shop.process)
        catcher = _mailcatcher()
        if catcher:
            children.append(catcher.process)

        async def prepare() -> dict:
            await migrate()
            if settings.s3_bucket:
                from agentledger.platform import storage

                await asyncio.to_thread(storage.ensure_bucket)
            return await seed(DATA / "demo.json", settings.public_url, demo_site=(site.url, site.token))

        try:
            wait_for_port(site.port, timeout=30)
            if shop:
                wait_for_port(shop.port, timeout=30)
            if catcher:
                wait_for_port(catcher.port, timeout=30)
            data = asyncio.run(prepare())
            if shop:
                data["stripe"] = {"api_base": shop.url, "webhook_secret": shop.secret}
            if catcher:
                data["smtp"] = {"host": "127.0.0.1", "port": catcher.port, "folder": str(catcher.folder)}
            if shop or catcher:
                _write_demo_file(DATA / "demo.json", data)
        except BaseException:
            stop_children(children)
            raise
        children += [
            start_child(_cli("web", "--port", str(port))),
            start_child(_cli("worker", "--processes", "1", "--threads", "4")),
            start_child(_cli("scheduler")),
        ]
        try:
            _write_services_env(DATA / SERVICES_ENV)
            wait_for_port(port, timeout=60)
            _banner(data)
            while all(child.poll() is None for child in children):
                time.sleep(0.5)
            print("a process stopped unexpectedly; shutting down", file=sys.stderr)
            return 1
        except KeyboardInterrupt:
            print("\nstopping…", flush=True)
            return 0
        finally:
            (DATA / SERVICES_ENV).unlink(missing_ok=True)  # the next start has other ports
            stop_children(children)
            print("web, worker, scheduler and demo shop stopped; stopping the embedded services", flush=True)


SERVICES_ENV = "services.env"
SHARED_SETTINGS = ("DATABASE_URL", "REDIS_URL", "SECRET_KEY", "BASE_URL", "AGENT_ALLOW_PRIVATE_NETWORKS",
                   "S3_ENDPOINT_URL", "S3_BUCKET", "S3_ACCESS_KEY_ID", "S3_SECRET_ACCESS_KEY",
                   "STRIPE_SECRET_KEY", "STRIPE_API_BASE", "STRIPE_WEBHOOK_SECRET", "SMTP_HOST", "SMTP_PORT",
                   "SMTP_STARTTLS")


def _write_services_env(path: Path) -> None:
    """Where the running demo's services are (``KEY=value`` lines), for ``./run cli``: the embedded
    servers listen on ports chosen at start. Mode 0600 from the first byte: it holds the secret key and
    the database's URL. Removed when the demo stops."""
    lines = [f"{key}={os.environ[key]}" for key in SHARED_SETTINGS
             if os.environ.get(key) and "\n" not in os.environ[key]]
    partial = path.with_name(path.name + ".partial")
    partial.unlink(missing_ok=True)
    with os.fdopen(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as out:
        out.write("# written by ./run demo while it runs, read by ./run cli\n" + "\n".join(lines) + "\n")
    partial.replace(path)


@dataclass(frozen=True)
class DemoSite:
    process: subprocess.Popen[bytes]
    port: int
    token: str

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def _demo_site() -> DemoSite:
    """The demo shop the agents audit: DEMO_SITE_PORT (8100, or a free port when that one is taken), its
    connector token kept under .data/, and the fixes applied to it kept across restarts."""
    wanted = int(os.environ.get("DEMO_SITE_PORT", "8100"))
    with socket.socket() as probe:
        port = wanted if probe.connect_ex(("127.0.0.1", wanted)) != 0 else free_port()
    token_file = DATA / "demo_site_token"
    if not token_file.exists():
        token_file.write_text(secrets.token_urlsafe(32))
        token_file.chmod(0o600)
    token = token_file.read_text().strip()
    process = start_child(_cli("demo-site", "--port", str(port), "--token", token,
                               "--state-file", str(DATA / "demo-site-state.json")), stdout=subprocess.DEVNULL)
    return DemoSite(process, port, token)


DEVSTRIPE_KEY = "sk_test_devstripe"


def _stripe_settings() -> None:
    """Without STRIPE_SECRET_KEY the demo buys credits from devstripe (billing/devstripe.py): a key it
    accepts, its address on a port chosen now (STRIPE_API_BASE), and a webhook secret kept under .data/."""
    if os.environ.get("STRIPE_SECRET_KEY"):
        return
    secret_file = DATA / "devstripe_webhook_secret"
    if not secret_file.exists():
        secret_file.write_text("whsec_" + secrets.token_hex(24))
        secret_file.chmod(0o600)
    wanted = int(os.environ.get("DEVSTRIPE_PORT", "12111"))
    with socket.socket() as probe:
        port = wanted if probe.connect_ex(("127.0.0.1", wanted)) != 0 else free_port()
    os.environ.update(STRIPE_SECRET_KEY=DEVSTRIPE_KEY, STRIPE_API_BASE=f"http://127.0.0.1:{port}",
                      STRIPE_WEBHOOK_SECRET=secret_file.read_text().strip())


@dataclass(frozen=True)
class DevStripe:
    process: subprocess.Popen[bytes]
    port: int
    url: str
    secret: str


def _devstripe(public_url: str) -> DevStripe | None:
    """devstripe, when the demo chose it (``_stripe_settings``): it sends its events to our webhook."""
    if os.environ.get("STRIPE_SECRET_KEY") != DEVSTRIPE_KEY:
        return None
    url, secret = os.environ["STRIPE_API_BASE"], os.environ["STRIPE_WEBHOOK_SECRET"]
    port = int(url.rsplit(":", 1)[1])
    process = start_child(_cli("devstripe", "--port", str(port), "--webhook-url", f"{public_url}/webhooks/stripe",
                               "--webhook-secret", secret), stdout=subprocess.DEVNULL)
    return DevStripe(process, port, url, secret)


@dataclass(frozen=True)
class MailCatcher:
    process: subprocess.Popen[bytes]
    port: int
    folder: Path


def _smtp_settings() -> None:
    """Without SMTP_HOST the demo delivers its mail to its own catcher (``agentledger mailcatcher``), on
    SMTP_CATCHER_PORT (8025, or a free port when that one is taken), plain SMTP on 127.0.0.1."""
    if os.environ.get("SMTP_HOST"):
        return
    wanted = int(os.environ.get("SMTP_CATCHER_PORT", "8025"))
    with socket.socket() as probe:
        port = wanted if probe.connect_ex(("127.0.0.1", wanted)) != 0 else free_port()
    os.environ.update(SMTP_HOST="127.0.0.1", SMTP_PORT=str(port), SMTP_STARTTLS="false", MAIL_CATCHER="1")


def _mailcatcher() -> MailCatcher | None:
    """The catcher, when the demo chose it (``_smtp_settings``): messages are kept under .data/mail."""
    if os.environ.get("MAIL_CATCHER") != "1":
        return None
    port, folder = int(os.environ["SMTP_PORT"]), DATA / "mail"
    process = start_child(_cli("mailcatcher", "--port", str(port), "--folder", str(folder)), stdout=subprocess.DEVNULL)
    return MailCatcher(process, port, folder)


def _write_demo_file(path: Path, data: dict) -> None:
    path.write_text(json.dumps(data, indent=2))
    path.chmod(0o600)


def _banner(data: dict) -> None:
    print(f"\n  agentledger is running at {data['url']}\n")
    for user in data["users"]:
        print(f"  {user['role']:<6} {user['workspace']:<7} {user['email']:<22} password {user['password']}")
        print(f"         API token {user['token']}")
    print(f"\n  demo shop for the agents: {data['demo_site']} (connected to both workspaces)")
    if data.get("smtp"):
        print(f"  its email goes to a local catcher on port {data['smtp']['port']}: each message is a file in "
              f"{data['smtp']['folder']}")
    if data.get("stripe"):
        print(f"  buying credits goes to devstripe, a local Stripe stand-in: {data['stripe']['api_base']} (no real money)")
    print("  admin commands against this demo: ./run cli --help, e.g. ./run cli grant-credits --workspace acme "
          "--credits 500 --reason pilot")
    print(f"  (also in {DATA / 'demo.json'}) · Ctrl-C stops everything\n", flush=True)


def _parallel(args: list[str]) -> list[str]:
    """One pytest worker per core, up to four (each has its own database), unless the caller chose."""
    if any(a.startswith(("-n", "--numprocesses")) or a == "no:xdist" for a in args):
        return []
    return ["-n", str(max(1, min(4, os.cpu_count() or 1)))]


# The slowest honest test (./run demo end to end) takes about 40 s alone and twice that with two workers
# sharing two cores; 300 s stays well above it, and a hung test fails alone instead of holding CI.
TEST_TIMEOUT_SECONDS = 300


def _reporting(args: list[str]) -> list[str]:
    """A per-test timeout and the 15 slowest tests in every report, unless the caller chose."""
    chosen = {a.split("=", 1)[0] for a in args}
    return ([] if "--timeout" in chosen else [f"--timeout={TEST_TIMEOUT_SECONDS}"]) + \
        ([] if "--durations" in chosen else ["--durations=15"])


def test(args: list[str]) -> int:
    folder = DATA / "test"
    with EmbeddedServices(folder) as services:
        env = {**os.environ, **services}
        env["TEST_ADMIN_DATABASE_URL"] = env["DATABASE_URL"]
        env.setdefault("SECRET_KEY", secrets.token_urlsafe(48))
        env.setdefault("BASE_URL", "http://127.0.0.1:8000")
        env.setdefault("AGENT_ALLOW_PRIVATE_NETWORKS", "true")  # test sites run on 127.0.0.1
        rc = subprocess.call([sys.executable, "-m", "pytest", *_parallel(args), *_reporting(args), *args],
                             env=env)
    if rc == 5:
        print("no test ran: that is a failure", file=sys.stderr)
        return 1
    return rc


def bench(args: list[str]) -> int:
    scripts = sorted(p for p in (ROOT / "bench").glob("*.py") if not p.name.startswith("_"))
    if args:
        scripts = [p for p in scripts if p.stem in args]
    if not scripts:
        print("no benchmarks yet")
        return 0
    with EmbeddedServices(DATA / "bench") as services:
        env = {**os.environ, **services}
        if "DATABASE_URL" in services:
            env["DATABASE_URL"] = create_database(services["DATABASE_URL"], "agentledger_bench", fresh=True)
        env.setdefault("SECRET_KEY", secrets.token_urlsafe(48))
        env.setdefault("BASE_URL", "http://127.0.0.1:8000")
        worst = 0
        for script in scripts:
            print(f"== {script.stem}", flush=True)
            worst = max(worst, subprocess.call([sys.executable, str(script)], env=env))
        return worst


