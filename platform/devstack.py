"""``./run demo|test|bench``: the product on a machine with nothing running.

Starts embedded PostgreSQL and Redis (unless DATABASE_URL / REDIS_URL are set), then either the demo
(migrate, seed, web + worker + scheduler until Ctrl-C), pytest, or the benchmarks. Children get the
service URLs through their environment; everything is stopped on the way out.
"""

from __future__ import annotations

import asyncio
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

from agentledger.platform.embedded import EmbeddedServices, free_port, wait_for_port

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


def _stop(children: list[subprocess.Popen[bytes]]) -> None:
    for child in children:
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 15
    for child in children:
        try:
            child.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            child.kill()


def _interrupt(*_: object) -> None:
    raise KeyboardInterrupt


def demo(args: list[str]) -> int:
    # Ctrl-C and SIGTERM both stop the demo cleanly, even when it was started with SIGINT ignored (as shells
    # do for background jobs): Python then installs no KeyboardInterrupt handler of its own.
    signal.signal(signal.SIGINT, _interrupt)
    signal.signal(signal.SIGTERM, _interrupt)
    port = int(os.environ.get("PORT", "8000"))
    with EmbeddedServices(DATA) as services:
        if "DATABASE_URL" in services:
            services["DATABASE_URL"] = create_database(services["DATABASE_URL"], "agentledger")
        os.environ.update(services)
        os.environ.setdefault("SECRET_KEY", _secret(DATA))
        os.environ.setdefault("BASE_URL", f"http://127.0.0.1:{port}")
        os.environ.setdefault("AGENT_ALLOW_PRIVATE_NETWORKS", "true")  # the demo's own pages are on 127.0.0.1
        from agentledger.platform.config import load_settings_or_exit
        from agentledger.platform.demo import seed
        from agentledger.platform.migrate import migrate

        settings = load_settings_or_exit()

        site = _demo_site()
        children = [site.process]

        async def prepare() -> dict:
            await migrate()
            if settings.s3_bucket:
                from agentledger.platform import storage

                await asyncio.to_thread(storage.ensure_bucket)
            return await seed(DATA / "demo.json", settings.public_url, demo_site=(site.url, site.token))

        try:
            wait_for_port(site.port, timeout=30)
            data = asyncio.run(prepare())
        except BaseException:
            _stop(children)
            raise
        children += [
            subprocess.Popen(_cli("web", "--port", str(port))),
            subprocess.Popen(_cli("worker", "--processes", "1", "--threads", "4")),
            subprocess.Popen(_cli("scheduler")),
        ]
        try:
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
            _stop(children)
            print("web, worker, scheduler and demo shop stopped; stopping the embedded services", flush=True)


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
    process = subprocess.Popen(_cli("demo-site", "--port", str(port), "--token", token,
                                    "--state-file", str(DATA / "demo-site-state.json")), stdout=subprocess.DEVNULL)
    return DemoSite(process, port, token)


def _banner(data: dict) -> None:
    print(f"\n  agentledger is running at {data['url']}\n")
    for user in data["users"]:
        print(f"  {user['role']:<6} {user['workspace']:<7} {user['email']:<22} password {user['password']}")
        print(f"         API token {user['token']}")
    print(f"\n  demo shop for the agents: {data['demo_site']} (connected to both workspaces)")
    print(f"  (also in {DATA / 'demo.json'}) · Ctrl-C stops everything\n", flush=True)


def _parallel(args: list[str]) -> list[str]:
    """One pytest worker per core, up to four (each has its own database), unless the caller chose."""
    if any(a.startswith(("-n", "--numprocesses")) or a == "no:xdist" for a in args):
        return []
    return ["-n", str(max(1, min(4, os.cpu_count() or 1)))]


def test(args: list[str]) -> int:
    folder = DATA / "test"
    with EmbeddedServices(folder) as services:
        env = {**os.environ, **services}
        env["TEST_ADMIN_DATABASE_URL"] = env["DATABASE_URL"]
        env.setdefault("SECRET_KEY", secrets.token_urlsafe(48))
        env.setdefault("BASE_URL", "http://127.0.0.1:8000")
        env.setdefault("AGENT_ALLOW_PRIVATE_NETWORKS", "true")  # test sites run on 127.0.0.1
        rc = subprocess.call([sys.executable, "-m", "pytest", *_parallel(args), *args], env=env)
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


